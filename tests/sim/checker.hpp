// Raft's safety properties, checked after every poll of every node and on
// every frame a node sends.  Each check costs O(what changed): the checker
// keeps a shadow of every node's log and a global committed sequence, and
// compares only the entries that moved, so a run's cost does not grow with
// the length of the log.
//
// Checked (reliability.md section 2.3 numbers in brackets):
//   election safety over the whole run: term -> one leader        [1]
//   one vote per node per term; a vote is never forgotten          [2]
//   leader append-only                                             [3]
//   log matching: (index, term) identifies one entry and prefix    [4]
//   commit index monotonic; committed entries agree everywhere     [5]
//   the current-term commit rule, with a real quorum holding it    [6]
//   leader completeness when elected; a leader has a quorum of votes [9]
//   apply discipline: committed order, no gaps, no duplicates,
//     payload intact                                               [11]
//   no truncation at or below a node's commit index                [12]
//   message hygiene: terms, AppendEntries only from that term's leader [15]
//   transition contract: report order, ABANDONED never committed,
//     COMMITTED/APPLIED only for entries in the committed sequence
//   snapshots: a snapshot's index never beyond the node's commit index;
//     every snapshot saved, stored, sent or loaded at index i carries the
//     state (command count, digest) of the committed prefix 1..i and its
//     meta the term of entry i and the voters; loading one never moves the
//     applied index back; after it, apply resumes at i + 1; a restarted
//     node restores the snapshot its disk holds
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/message.hpp"
#include "raft.h"
#include "trace.hpp"

namespace sim {

class World;

class Checker {
 public:
  explicit Checker(World& world);

  // Hooks (called by World).
  void on_send(int from, const raft::Message& m);
  // A frame was put in node `to`'s inbox (it will be read at its next poll).
  void on_deliver(int from, int to, const MsgInfo& m);
  void on_apply(int node, std::uint64_t id, const void* data, std::size_t len);
  void on_transition(int node, std::uint64_t id, raft_transition_state s);
  void on_propose(int node, std::uint64_t id);
  void after_poll(int node);
  // The node's process died / a new incarnation was created from its disk.
  void on_crash(int node);
  // A poll failed on a dying disk: record the node's log (which may have
  // partly reached the disk) without judging what it never made visible.
  // Its commit index is recorded too: a lone voter commits what it synced,
  // and what its snapshots claim to cover must be found committed later.
  void observe_log(int node) {
    check_log(node);
    check_commit(node, true);
  }
  void on_restart(int node);
  void fail(const std::string& what);
  // Snapshots: the state machine starts saving / loaded one (creating: the
  // node is being restarted); the disk took entries / a snapshot.
  void on_snapshot_save(int node, std::uint64_t index, std::uint64_t count, std::uint64_t digest);
  void on_snapshot_load(int node, std::uint64_t index, std::uint64_t count, std::uint64_t digest,
                        bool creating);
  void on_disk_append(int node, std::uint64_t first_index, const raft_entry* entries,
                      std::size_t n);
  void on_disk_snapshot(int node, std::uint64_t index, const std::vector<std::uint8_t>& meta,
                        const std::vector<std::uint8_t>& data);

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }

  // Queries for drivers.
  std::uint64_t committed_length() const { return committed_.size(); }
  bool is_committed(std::uint64_t id) const { return committed_ids_.count(id) != 0; }
  // Last state reported for an id (0 = none).
  int last_state(std::uint64_t id) const;
  // Every transition reported COMMITTED or APPLIED is in the committed
  // sequence exactly once ("" if so, else why not); *acked counts them.
  std::string acked_once(std::uint64_t* acked) const;
  // Transitions proposed on `node` that are QUEUED or COMMITTED but neither
  // APPLIED nor ABANDONED yet.
  std::uint64_t unresolved(int node) const {
    return shadows_[node].queued.size() + shadows_[node].committed_unapplied.size();
  }
  // Global time of node's last term change, or of it gaining or losing
  // leadership (a follower flapping to pre-candidate and back is not a
  // change: it disturbs nobody).
  std::uint64_t last_change_us(int node) const { return shadows_[node].changed_at; }
  std::uint64_t max_term() const { return max_term_; }

 private:
  struct EntryKey {
    std::uint64_t term = 0;
    std::uint64_t id = 0;
    std::uint64_t digest = 0;
    std::uint32_t len = 0;
    raft::EntryType type = raft::EntryType::kCommand;
  };
  struct ApplyCall {
    std::uint64_t index, id;
    bool snapshot;  // a snapshot was loaded up to index (no id)
  };
  struct Shadow {
    int role = RAFT_FOLLOWER;
    std::uint64_t term = 0;
    std::uint64_t voted_for = 0;
    std::uint64_t leader = 0;
    std::uint64_t commit = 0;
    std::uint64_t applied = 0;
    std::uint64_t last_apply_index = 0;  // index of the last apply() call
    std::vector<EntryKey> log;           // log[0] is index 1
    std::vector<ApplyCall> apply_calls;  // this poll, in order
    std::uint64_t snapshot = 0;          // raft_status.snapshot_index at the last poll
    std::uint64_t restored = 0;          // snapshot loaded by this incarnation at creation
    std::vector<std::uint64_t> committed_reports;  // ids reported COMMITTED this poll
    std::vector<std::uint64_t> applied_reports;    // ids reported APPLIED this poll
    // QUEUED / COMMITTED-but-not-APPLIED transitions by log index: once the
    // node's commit (applied) index passes one, its fate is known and must
    // have been reported in that same poll.
    std::multimap<std::uint64_t, std::uint64_t> queued, committed_unapplied;
    std::uint64_t changed_at = 0;
  };
  struct Proposal {
    int node = -1;
    int last = 0;             // raft_transition_state, 0 = nothing reported yet
    std::uint64_t index = 0;  // where the proposer's log put it (once QUEUED)
  };
  struct LogPos {
    std::uint64_t index, term;
    bool operator==(const LogPos& o) const { return index == o.index && term == o.term; }
  };
  struct LogPosHash {
    std::size_t operator()(const LogPos& p) const {
      return static_cast<std::size_t>(p.index * 0x9E3779B97F4A7C15ULL ^ p.term);
    }
  };
  struct LogFact {
    std::uint64_t digest, prev_term;
  };

  // The state of the committed prefix 1..i, folded like the state machine.
  struct Ref {
    std::uint64_t count = 0, digest = 0;
  };
  // A snapshot claim checked once the committed sequence covers it.
  struct Claim {
    int node;
    std::uint64_t index, term;  // term 0: not claimed
    bool has_state;
    std::uint64_t count, digest;
    const char* what;
  };

  EntryKey key_of(const raft::EntryView& e) const;
  EntryKey key_of(std::uint64_t term, std::uint64_t id, raft::EntryType type, const void* data,
                  std::size_t len) const;
  void claim(const Claim& c) { claims_.push_back(c); }
  void check_claims();
  void check_snapshot_status(int i);
  // Fills sh.log up to `upto` (entries the node compacted before the
  // checker saw them) from the committed sequence or the disk's appends.
  bool fill_shadow(int i, std::uint64_t upto);
  bool same_shape(const EntryKey& k, const raft::EntryView& e) const;
  void check_role_and_votes(int i);
  void check_log(int i);
  // durable_only: a failed poll; only what the disk holds counts as committed.
  void check_commit(int i, bool durable_only = false);
  void check_applies(int i);
  void check_reports(int i);
  void check_leader(int i);
  static void erase_pending(std::multimap<std::uint64_t, std::uint64_t>& m, std::uint64_t index,
                            std::uint64_t id);
  void register_leader(std::uint64_t term, std::uint64_t id, const char* how);
  void register_vote(int voter, std::uint64_t term, std::uint64_t candidate, const char* how);
  std::uint64_t quorum() const;

  World& world_;
  int n_;
  std::vector<Shadow> shadows_;
  std::vector<EntryKey> committed_;  // the global committed sequence G; [0] is index 1
  std::vector<Ref> ref_;             // ref_[j - 1]: the state after G's prefix 1..j
  std::vector<Claim> claims_;
  // Per node: entries its disk took since the last poll ended (an entry may
  // enter and leave a node's log within one poll: a lone voter commits,
  // applies and compacts it at once).
  std::vector<std::map<std::uint64_t, EntryKey>> staged_;
  // term -> highest index a node of that term knew committed (told by, or
  // being, that term's leader).  A leader of term T must hold G up to the
  // highest index committed in any earlier term (Leader Completeness); an
  // entry committed in a later term binds only later leaders.
  std::map<std::uint64_t, std::uint64_t> committed_by_term_;
  std::unordered_map<std::uint64_t, std::uint64_t> committed_ids_;  // id -> index in G
  std::unordered_map<std::uint64_t, std::uint64_t> leaders_;        // term -> leader id
  std::unordered_map<std::uint64_t, std::uint64_t> votes_;          // (term, voter) -> cand.
  std::unordered_map<LogPos, LogFact, LogPosHash> facts_;           // log matching
  std::unordered_map<std::uint64_t, Proposal> proposals_;
  // Per (leader, follower): the highest match index the leader has been told
  // in its current term.  It never sends that follower anything below it
  // again in that term (scenario 22: a stale answer must not move it back).
  struct Known {
    std::uint64_t term = 0, match = 0;
  };
  std::vector<Known> known_match_;
  // Acknowledgements in a node's inbox: they count as known only after the
  // poll that reads them (a poll composes its timer-driven messages first).
  struct Unread {
    int from;
    std::uint64_t term, match;
    bool lowers = false;  // a rejection showing a shorter log (see on_deliver)
  };
  std::vector<std::vector<Unread>> unread_acks_;
  std::unordered_set<std::uint64_t> abandoned_;
  std::vector<std::uint8_t> expected_;  // payload scratch
  std::uint64_t max_term_ = 0;
  std::vector<std::uint64_t> max_sent_term_;  // per node, real (not pre-vote) messages
  std::string failure_;
};

}  // namespace sim
