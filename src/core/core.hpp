// The Raft consensus state machine: pure and deterministic.  It has no
// threads, no clock and no I/O; time arrives through tick(), messages through
// step(), proposals through propose(), and everything it wants done goes out
// through the Effects interface.  Given the same inputs and seed it behaves
// identically, which is what lets the simulator reproduce a run from a seed.
//
// Files: core.cpp (roles, timers, dispatch), election.cpp (votes),
// replication.cpp (AppendEntries, commit, proposals), snapshot.cpp
// (compaction and InstallSnapshot on both sides).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "core/config.hpp"
#include "core/effects.hpp"
#include "core/log.hpp"
#include "core/message.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"

namespace raft::core {

// The largest term accepted from a message (see Core::step).
inline constexpr Term kMaxTerm = Term{1} << 62;

class Core {
 public:
  Core(const Config& config, Effects& effects, std::uint64_t now_ms);

  // Before the first tick: the durable state found in storage: the latest
  // snapshot (index 0 if none; the driver has loaded it into the state
  // machine) and the entries that follow it.  The log entries count as
  // persisted.
  void restore(Term term, NodeId vote, const SnapshotInfo& snapshot,
               const std::vector<EntryView>& entries);
  // The driver wrote the log's changes to storage.
  void log_persisted() { log_.mark_persisted(); }

  // Advance the clock (never backwards) without firing timers: the driver
  // does this first in a turn, handles the messages that arrived, and only
  // then calls tick(), so a timer never fires while the message that would
  // have prevented it (a heartbeat, an ack) is still unread.  The first call
  // (of either) sets the clock's origin.
  void set_time(std::uint64_t now_ms);
  // set_time(now_ms), then fire the timers that are due.
  void tick(std::uint64_t now_ms);
  // Handle one validated message addressed to this replica.
  void step(const Message& m);
  // Append a transition if leader (reports kQueued) and return true;
  // otherwise report kAbandonedNotLeader and return false.
  bool propose(std::uint64_t id, const std::uint8_t* data, std::size_t len);
  // The same for each of n proposals in order, whose payloads lie in
  // `base`: the log takes them in one append.
  void propose(const std::uint8_t* base, const Proposal* items, std::size_t n);
  // Send what became sendable during this turn (new entries, acks that
  // opened a follower's window).  The driver calls it once per turn, so
  // that all proposals of a turn travel in one AppendEntries per follower.
  void flush();
  // The driver applied entry `index` (which must be applied_index() + 1).
  void applied(Index index);

  // The driver durably saved a snapshot of the state machine as of
  // info.index (<= applied_index()); followers that need it get it from now.
  void snapshot_saved(const SnapshotInfo& info);
  // Drop log entries up to `index` (at most the snapshot's index).
  void compact(Index index);
  // While the driver writes a snapshot of its own, a leader's snapshot
  // cannot be received (both go through the storage's one pending slot):
  // starting a save abandons a partly received one.
  void set_saving(bool saving) {
    saving_ = saving;
    if (saving) incoming_ = Incoming{};
  }
  const SnapshotInfo& snapshot() const { return snapshot_; }
  // Every voter, this replica included, ascending (as snapshots record them).
  const std::vector<NodeId>& voters() const { return voters_; }

  // The latest time at which tick() must be called again.
  std::uint64_t next_deadline() const;

  Role role() const { return role_; }
  Term term() const { return term_; }
  NodeId leader() const { return leader_; }
  NodeId voted_for() const { return voted_for_; }
  Index commit_index() const { return commit_; }
  Index applied_index() const { return applied_; }
  const Log& log() const { return log_; }
  const Config& config() const { return config_; }
  std::uint64_t elections_started() const { return elections_started_; }

#ifdef RAFT_MUTANTS
  // The simulator's mutation self-test switches deliberate bugs on here.
  void set_mutants(std::uint32_t mutants) { config_.mutants = mutants; }
#endif

 private:
  struct Pending {  // a transition proposed here, not yet applied or abandoned
    Index index;
    Term term;
    std::uint64_t id;
    bool committed;
  };

  // core.cpp
  bool mutant(Mutant m) const;
  std::size_t quorum() const { return (config_.peers.size() + 1) / 2 + 1; }
  Progress* progress_of(NodeId id);
  void become_follower(Term term, NodeId leader, bool reset_timer = true);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset_election_timer();
  void arm_first_election();
  bool heard_from_leader_recently() const;
  void check_quorum();
  Message& start_message(MsgType type, NodeId to);
  // Stamps sender and (unless already set) the current term, then sends.
  void send(Message& m);
  void logf(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

  // election.cpp
  void campaign();
  void request_votes(bool pre_vote);
  void on_request_vote(const Message& m);
  void on_vote_response(const Message& m);
  bool log_is_up_to_date(Index last_index, Term last_term) const;

  // replication.cpp
  void on_append_entries(const Message& m);
  void on_append_response(const Message& m);
  void reject_append(const Message& m);
  bool send_append(Progress& p, bool allow_empty);
  void broadcast_heartbeat();
  void maybe_commit();
  void set_commit(Index index);
  void truncate_from(Index index);
  void resolve_displaced();
  void append_local(EntryType type, std::uint64_t id, const std::uint8_t* data, std::size_t len);
  // Our proposals at `from` and after left the log: decided at commit.
  void displace_pending_from(Index from);

  // snapshot.cpp
  bool send_snapshot(Progress& p, bool heartbeat);
  void on_install_snapshot(const Message& m);
  void on_install_snapshot_response(const Message& m);
  void install_snapshot(const SnapshotInfo& s);

  Config config_;
  Effects& fx_;
  Rng rng_;
  std::uint64_t now_;
  bool started_ = false;  // tick() not yet called

  // Persistent state (the driver writes it to storage every turn).
  Term term_ = 0;
  NodeId voted_for_ = 0;
  Log log_;

  // Volatile state.
  Role role_ = Role::kFollower;
  NodeId leader_ = 0;
  Index commit_ = 0;
  Index applied_ = 0;
  std::uint64_t election_deadline_ = 0;
  std::uint64_t heartbeat_deadline_ = 0;
  std::uint64_t quorum_check_deadline_ = 0;
  std::uint64_t last_leader_contact_ = 0;  // when the leader was last heard
  std::vector<NodeId> votes_granted_;      // this campaign (pre or real)
  std::vector<NodeId> votes_rejected_;
  std::vector<Progress> progress_;  // leader only: one per peer
  std::deque<Pending> pending_;     // in the log, by index
  std::deque<Pending> displaced_;   // truncated from the log, undecided, by index
  std::uint64_t elections_started_ = 0;

  SnapshotInfo snapshot_;       // the latest snapshot (index 0: none)
  std::vector<NodeId> voters_;  // the configuration, ascending, as snapshots record it
  bool saving_ = false;
  struct Incoming {  // a leader's snapshot being received
    NodeId from = 0;
    Term term = 0;  // the leader's term
    Index index = 0;
    Term snap_term = 0;
    std::uint64_t size = 0;
    std::uint32_t crc = 0;
    std::uint64_t received = 0;
  } incoming_;

  std::vector<Index> match_scratch_;  // maybe_commit's working space
  // The AppendEntries batches built since the log last changed, by first
  // index: a follower at the same position gets the same batch, which the
  // driver may already hold encoded (Effects::send_again).
  struct BuiltBatch {
    Index first;
    std::size_t count;
  };
  std::vector<BuiltBatch> built_batches_;
  std::uint64_t built_generation_ = 0;  // the log's generation they were built at
  const BuiltBatch* built_batch(Index first);
  void remember_batch(Index first, std::size_t count);
  // Followers at one position ask for their batches one follower after the
  // other, so a match lies at most a window of batches back: lookups scan
  // that far and no further.
  std::size_t built_batches_window() const { return shared_batch_window(config_.max_inflight); }
  Message out_;  // reused for every outgoing message: no allocation per send
};

}  // namespace raft::core
