// The simulated world: real libraft nodes, one virtual clock per node, a
// simulated network and a discrete-event queue.  Everything runs on one
// thread in virtual time; the only inputs are the seed and the calls made by
// the driver (a random run or a scripted scenario), so a run is reproducible
// bit for bit.
//
// Nodes are driven exclusively through raft_node_poll(), exactly as an
// event-loop user would: when their deadline passes, when a message lands
// in their inbox, or after a proposal.  The checker looks inside them only
// to verify invariants.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "core/core.hpp"
#include "prng.hpp"
#include "raft.h"
#include "sim_storage.hpp"
#include "state_machine.hpp"
#include "trace.hpp"

namespace sim {

class Checker;

// Event kinds the world handles itself; drivers add their own kinds from
// kFirstUserEvent up and receive them through EventSink.
enum EventKind : std::uint32_t {
  kEvDeliver = 1,
  kEvWake = 2,
  kEvRestart = 3,
  kFirstUserEvent = 16,
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(std::uint32_t kind, std::uint32_t a, std::uint64_t b) = 0;
};

// Per-node options, mirroring raft_options.
struct NodeSettings {
  bool pre_vote = true;
  bool check_quorum = true;
  std::uint32_t heartbeat_ms = 50;
  std::uint32_t election_min_ms = 150;
  std::uint32_t election_max_ms = 300;
  std::uint32_t max_inflight = 64;
  std::uint32_t max_batch_bytes = 1u << 20;
  std::uint64_t max_queue_bytes = 64u << 20;
  std::uint64_t max_uncommitted_bytes = 256u << 20;
  std::uint64_t snapshot_interval = 0;  // 0: never
  std::uint64_t snapshot_trailing = 1024;
  std::uint32_t snapshot_chunk_bytes = 1u << 20;
};

// What the snapshot machinery did in a run (for the summary and for
// scenarios that must not pass vacuously).
struct SnapStats {
  std::uint64_t saves = 0;          // snapshot_save completed (RAFT_OK)
  std::uint64_t save_steps = 0;     // RAFT_SNAPSHOT_MORE returned
  std::uint64_t save_failures = 0;  // deliberate failures
  std::uint64_t commits = 0;        // storage snapshot_commit (saves and installs)
  std::uint64_t compactions = 0;    // storage compact calls
  std::uint64_t installs = 0;       // snapshot_load of a leader's snapshot
  std::uint64_t restores = 0;       // snapshot_load on restart
  std::uint64_t chunks = 0;         // InstallSnapshot frames sent
  std::uint64_t chunk_bytes = 0;
};

// Network behaviour, applied to every link that is not blocked.
struct NetParams {
  std::uint32_t drop_ppm = 0;
  std::uint32_t dup_ppm = 0;      // a second copy, with its own delay
  std::uint32_t corrupt_ppm = 0;  // flip a byte: the receiver must reject it
  std::uint32_t long_ppm = 0;     // "long reordering": an extra long delay
  std::uint64_t delay_min_us = 1000;
  std::uint64_t delay_mean_us = 0;  // exponential extra on top of the minimum
  std::uint64_t long_min_us = 0, long_max_us = 0;
  std::uint32_t capacity = 0;     // messages in flight per link; 0 = unlimited
  std::uint32_t proc_max_us = 0;  // delay between a delivery and the poll it causes
  std::uint32_t replay_keep = 0;  // old frames kept for late replay (0 = none)
};

class World : public StorageObserver {
 public:
  static constexpr std::uint64_t kClusterId = 0x51A1DEADBEEFull;
  static constexpr std::size_t kInboxLimit = 2048;  // like a socket buffer

  World(std::uint64_t seed, const std::vector<NodeSettings>& nodes, std::uint32_t mutants,
        Trace& trace);
  ~World() override;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  void attach(Checker* checker) { checker_ = checker; }
  void set_sink(EventSink* sink) { sink_ = sink; }
  // False if a node could not be created (reason in error()).
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  int size() const { return static_cast<int>(nodes_.size()); }
  raft_node* handle(int i) const { return nodes_[i].h; }
  const raft::core::Core& core(int i) const;
  const NodeSettings& settings(int i) const { return settings_[i]; }
  Trace& trace() { return trace_; }
  RunHash& hash() { return hash_; }

  // ---- time and events
  std::uint64_t now() const { return now_us_; }
  std::uint64_t local_ms(int i) const { return local_us(i, now_us_) / 1000; }
  std::uint64_t events() const { return events_; }
  void schedule(std::uint64_t at_us, std::uint32_t kind, std::uint32_t a, std::uint64_t b);
  // Process the next event; false when the queue is empty.
  bool step();
  // Time of the next event (UINT64_MAX if none).
  std::uint64_t next_time();
  // Let virtual time pass with nothing happening (scripted `run`).
  void advance_to(std::uint64_t at_us) {
    if (at_us > now_us_) now_us_ = at_us;
  }

  // ---- nodes
  // Poll node i at its current local time (then re-arm its timer).
  void poll(int i);
  // Ask for a poll of node i at global time `at` (keeps an earlier one).
  void wake(int i, std::uint64_t at_us);
  // The deadline node i reported at its last poll, in its local ms.
  std::uint64_t reported_deadline(int i) const { return nodes_[i].deadline_ms; }
  // Move node i's clock forward by `us` (a jump; clocks never go back).
  void clock_jump(int i, std::uint64_t us);
  // Run node i's clock at rate_ppm (1,000,000 = real time) from now on.
  void set_clock_rate(int i, std::uint64_t rate_ppm);
  std::uint64_t clock_rate(int i) const { return nodes_[i].rate_ppm; }
  void pause(int i);
  void resume(int i);
  bool paused(int i) const { return nodes_[i].paused; }
  // Crash: the process dies (its disk keeps what the storage contract
  // allows) and, if restarts are on, comes back after a delay.
  void crash(int i, Prng& rng);
  bool restart(int i);
  bool down(int i) const { return nodes_[i].h == nullptr; }
  // How many times node i stopped because its disk failed under it.
  std::uint32_t disk_stops(int i) const { return nodes_[i].disk_stops; }
  // Crashed nodes restart after a delay in [min, max]; max 0 = never by
  // themselves (restart() must be called).
  void set_restart_delay(std::uint64_t min_us, std::uint64_t max_us) {
    restart_min_us_ = min_us;
    restart_max_us_ = max_us;
  }
  SimStorage& storage(int i) { return *nodes_[i].storage; }
  const SimStorage& storage(int i) const { return *nodes_[i].storage; }
  // raft_node_propose; false if the library refused it (rc in *rc).
  bool propose(int i, std::uint64_t id, const std::vector<std::uint8_t>& data, int* rc);
  // Node i's leader as reported by raft_node_status (0 = unknown).
  std::uint64_t status_leader(int i) const;

  // ---- snapshots
  SmParams sm;  // how state machines save their snapshots (set before the first poll)
  SnapStats snap_stats() const;
  const StateMachine& state_machine(int i) const { return nodes_[i].sm; }
  void on_disk_append(int node, std::uint64_t first_index, const raft_entry* entries,
                      std::size_t n) override;
  void on_disk_snapshot(int node, std::uint64_t index, const std::vector<std::uint8_t>& meta,
                        const std::vector<std::uint8_t>& data) override;

  // ---- network
  NetParams net;
  void block(int from, int to, bool blocked);
  bool blocked(int from, int to) const { return blocked_[from * size() + to]; }
  void heal_all();
  // Re-send one old frame from the replay buffer, if any (late duplicate).
  void replay_one(Prng& rng);
  // Manual mode (scripted scenarios): sent frames wait on their link until
  // the script delivers or drops them.
  void set_manual(bool manual) { manual_ = manual; }
  bool manual() const { return manual_; }
  struct Parked {
    std::uint32_t slot;
    const MsgInfo* info;
  };
  std::vector<Parked> parked(int from, int to) const;
  // Deliver (or drop, or duplicate-then-deliver) parked frame k of a link.
  void deliver_parked(int from, int to, std::uint32_t slot, bool drop, bool dup);
  // Deliver a copy of the most recent frame sent on from->to that `match`
  // accepts (a late duplicate); false if there is none.
  bool redeliver_latest(int from, int to, const std::function<bool(const MsgInfo&)>& match);
  // Move every parked frame into the auto network (each gets a delay).
  void release_parked();
  // Put frames still in flight back on their links (end of a timed `run`).
  void park_in_flight();
  std::size_t in_flight() const { return live_slots_; }
  // The network turns good: frames in flight on blocked links are lost and
  // every other one arrives within `max_delay_us` from now.
  void settle_in_flight(std::uint64_t max_delay_us);

  // ---- callbacks from libraft (public only for the C trampolines)
  void cb_send(int from, std::uint64_t to, const void* msg, std::size_t len);
  int cb_receive(int i, const void** msg, std::size_t* len);
  void cb_apply(int i, std::uint64_t id, const void* data, std::size_t len);
  void cb_transition(int i, std::uint64_t id, raft_transition_state state);
  void cb_log(int i, raft_log_level level, const char* text);
  int cb_snapshot_save(int i, raft_snapshot_writer* w, std::uint64_t index);
  int cb_snapshot_load(int i, raft_snapshot_reader* r, std::uint64_t index);

  // Transition reports go here too (the workload listens).
  class TransitionListener {
   public:
    virtual ~TransitionListener() = default;
    virtual void on_transition(int node, std::uint64_t id, raft_transition_state s) = 0;
  };
  void set_listener(TransitionListener* l) { listener_ = l; }

 public:
  // The `user` pointer handed to libraft for one node.
  struct Ctx {
    World* world;
    int index;
  };

 private:
  struct SimNode {
    raft_node* h = nullptr;
    Ctx ctx{nullptr, 0};
    std::int64_t offset_us = 0;
    std::uint64_t rate_ppm = 1000000;
    bool paused = false;
    std::deque<std::uint32_t> inbox;  // slots
    std::int64_t current = -1;        // slot handed out by receive()
    std::uint64_t wake_at = UINT64_MAX;
    std::uint64_t wake_gen = 0;
    std::uint64_t deadline_ms = 0;
    std::uint32_t spins = 0;             // consecutive polls asking to be polled again at once
    std::uint64_t seed = 0;              // raft_options.random_seed, the same for every incarnation
    std::uint32_t sent_in_poll = 0;      // frames sent by the poll running now
    std::uint32_t sent_after_fault = 0;  // ... after a storage call of it failed
    std::uint32_t disk_stops = 0;
    std::unique_ptr<SimStorage> storage;
    StateMachine sm;           // the incarnation's state machine
    Prng sm_rng;               // its snapshot sizes, steps and failures
    bool creating = false;     // inside raft_node_create (a restore, not an install)
    bool save_failed = false;  // our snapshot_save failed on purpose in this poll
  };
  struct Slot {
    std::vector<std::uint8_t> bytes;
    MsgInfo info;
    std::uint32_t from = 0, to = 0;
    std::uint32_t gen = 0;
    bool used = false;
    bool scheduled = false;  // a kEvDeliver event is pending for it
    bool corrupted = false;  // a bit was flipped: the receiver must drop it
    std::uint64_t due_us = 0;
  };
  struct Event {
    std::uint64_t time, seq;
    std::uint32_t kind, a;
    std::uint64_t b;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };
  struct Replay {
    std::vector<std::uint8_t> bytes;
    MsgInfo info;
    std::uint32_t from = 0, to = 0;
  };

  std::uint64_t local_us(int i, std::uint64_t global_us) const;
  std::uint64_t global_for_local_ms(int i, std::uint64_t local_ms) const;
  bool create_node(int i);
  std::uint32_t alloc_slot();
  void free_slot(std::uint32_t s);
  void transmit(std::uint32_t slot, bool allow_dup);
  void schedule_delivery(std::uint32_t slot, std::uint64_t at_us);
  void arrive(std::uint32_t slot);
  std::uint64_t draw_delay();
  void drop(std::uint32_t slot, const char* why);
  void release_current(SimNode& n);
  void fail(const std::string& what);
  bool check_stopped(int i, std::uint64_t now_ms);

  std::vector<NodeSettings> settings_;
  std::vector<SimNode> nodes_;
  std::vector<std::uint64_t> peer_scratch_;
  std::vector<bool> blocked_;
  std::vector<std::uint32_t> link_count_;  // frames in flight per link
  std::vector<std::deque<std::uint32_t>> parked_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::size_t live_slots_ = 0;
  std::vector<Replay> replay_;
  std::size_t replay_next_ = 0;
  // The latest successful AppendEntries response per (from, to, term mod
  // kAckTerms): old acknowledgements kept much longer than the replay ring,
  // for the adversary to deliver after the leader's log has changed.
  static constexpr std::size_t kAckTerms = 8;
  std::vector<Replay> acks_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t now_us_ = 0;
  std::uint64_t events_ = 0;
  bool manual_ = false;
  std::uint32_t mutants_ = 0;
  std::uint64_t restart_min_us_ = 0, restart_max_us_ = 0;
  Prng net_rng_;
  Prng proc_rng_;
  raft::Message decoded_;
  Trace& trace_;
  RunHash hash_;
  SnapStats snap_stats_;
  Checker* checker_ = nullptr;
  EventSink* sink_ = nullptr;
  TransitionListener* listener_ = nullptr;
  std::string error_;
};

}  // namespace sim
