// The driver around the consensus core: it owns the core, turns the core's
// requests into user callbacks in a safe order, and offers the thread-safe
// entry points (propose, notify, stop, status).  Everything the library does
// happens in turn(), which both raft_node_poll and raft_node_run use, so the
// simulator exercises exactly what production runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/core.hpp"
#include "node/error_slots.hpp"
#include "node/frame_buffer.hpp"
#include "node/options.hpp"
#include "node/proposal_queue.hpp"
#include "node/snapshot_io.hpp"
#include "raft.h"
#include "storage/storage.hpp"

namespace raft::node {

class Node final : private core::Effects {
 public:
  // Validates and copies the arguments.  On failure returns an error code,
  // sets *out to null and reports the reason through cb->log.
  static int create(const raft_options* opt, const raft_callbacks* cb, void* user,
                    std::unique_ptr<Node>& out);

  int poll(std::uint64_t now_ms, std::uint64_t* next_deadline_ms);
  int run();
  int propose(std::uint64_t id, const void* data, std::size_t len);
  int propose_batch(const raft_proposal* proposals, std::size_t n, std::size_t* queued);
  void notify();
  void stop();
  int status(raft_status* st);
  const char* errmsg() const { return errors_.get(); }

  // True when called from inside one of this node's callbacks.
  bool in_callback() const;

  // For white-box tests and the simulator's invariant checks.
  const core::Core& core() const { return *core_; }
#ifdef RAFT_MUTANTS
  void set_mutants(std::uint32_t mutants) { core_->set_mutants(mutants); }
#endif

 private:
  Node(const core::Config& config, const Limits& limits, const raft_callbacks& cb, void* user,
       const raft_storage& storage, bool builtin_storage);

 public:
  ~Node() override;

 private:
  // Opens the configured storage and restores the core from it.
  static int open_storage(const core::Config& config, const Limits& limits, raft_storage& out,
                          bool& builtin, std::string& why);
  int restore(std::string& why);
  // Writes the turn's hard state and log changes and syncs them; RAFT_OK or
  // the storage's error (after which the node is stopped for good).
  int persist();
  int storage_failed(const char* call, int rc);
  // Stops the node for good with `rc`: nothing more is sent or written.
  int halt_for_good(int rc, const std::string& description);

  // snapshots.cpp
  int restore_snapshot(const storage::Loaded& loaded, std::string& why);
  int load_snapshot(const SnapshotInfo& info, std::string& why);
  int load_installed();
  int compact_after_install();
  int commit_snapshot(const SnapshotInfo& info);
  int continue_save();
  void maybe_start_save();
  bool read_chunk(const Message& m);
  bool snapshot_chunk(const SnapshotInfo& info, std::uint64_t offset, const std::uint8_t* data,
                      std::size_t len) override;
  bool snapshot_complete(const SnapshotInfo& info) override;
  void snapshot_installed(const SnapshotInfo& info, bool kept_suffix) override;

  // core::Effects
  void send(const Message& m) override;
  bool send_again(const Message& m, std::size_t count, const std::uint8_t* first_data) override;
  bool send_from_log(const Message& m, const core::Log& log, std::size_t count,
                     std::size_t payload) override;
  void transition(std::uint64_t id, core::Transition state) override;
  bool log_enabled(core::LogLevel level) const override;
  void log(core::LogLevel level, const char* text) override;

  // One turn: timers, inbound messages, proposals, then outputs.
  int turn(std::uint64_t now_ms, std::uint64_t* next_deadline_ms);
  // turn(), stopping the node for good if an exception cuts it short.
  int guarded_turn(std::uint64_t now_ms, std::uint64_t* next_deadline_ms);
  int halt_after_exception(int rc, const char* what) noexcept;
  class Driving;  // RAII: leave() when poll/run ends, however it ends
  // Why a proposal is not queued.
  enum class Refusal { kNone, kNullData, kTooBig, kStopped, kQueueFull, kUncommitted };
  // How many of `proposals` may be queued one after the other (mu_ held);
  // *why is why the next one may not (kNone: all fit), *payload their bytes.
  std::size_t admit_prefix(const raft_proposal* proposals, std::size_t n, Refusal* why,
                           std::size_t* payload) const;
  // Records why proposal `index` (of `len` bytes) of a batch of n was
  // refused (raft_node_errmsg); returns its error code.
  int refuse(Refusal why, std::size_t len, std::size_t index, std::size_t n);
  // run(): wait up to busy_poll_us for new work without sleeping.
  void busy_poll();
  int receive_messages(bool* more);
  void accept_frame(const void* msg, std::size_t len);
  void deliver_outputs();
  void apply_or_save();
  void apply_committed();
  void report_transitions();
  void publish_status();

  // Re-entrancy and single-driver guard around poll/run.
  int enter(const char* what);
  void leave();
  int fail(int code, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
  void logf(raft_log_level level, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

  const raft_callbacks cb_;
  void* const user_;
  const Limits limits_;
  std::unique_ptr<core::Core> core_;

  // Loop-thread state.
  Message inbound_;
  FrameBuffer out_bytes_;  // this turn's encoded messages, back to back
  struct Outgoing {
    NodeId to;
    std::size_t offset, len;
  };
  std::vector<Outgoing> outbox_;
  // This turn's AppendEntries frames that carry entries, by what they say
  // (all but the addressee): a follower at the same position as one already
  // served gets the same frame, re-addressed at delivery (wire::retarget),
  // instead of a second encoding and checksum of the same bytes.
  struct SharedFrame {
    Term term;
    Index prev_log_index;
    Term prev_log_term;
    Index commit;
    std::size_t entries;
    const std::uint8_t* first_data;  // the first entry's payload in the log
    std::size_t outbox_index;
  };
  std::vector<SharedFrame> shared_frames_;
  SharedFrame frame_key(const Message& m, std::size_t count, const std::uint8_t* first_data) const;
  // Forgets this turn's encoded messages (sent, or never to be sent).
  void clear_outbox();
  // Sends the frame matching `key` to `to` if this turn has one.
  bool reuse_frame(const SharedFrame& key, NodeId to);
  struct Report {
    std::uint64_t id;
    core::Transition state;
  };
  std::vector<Report> reports_;
  ProposalQueue::Batch batch_;
  raft_storage storage_;
  const bool builtin_storage_;   // ours to describe errors of (file storage)
  const bool memory_storage_;    // nothing to persist
  int storage_error_ = RAFT_OK;  // sticky: a failed storage stops the node
  std::string storage_failure_;  // its description
  Term persisted_term_ = 0;
  NodeId persisted_vote_ = 0;
  Index persisted_last_ = 0;
  std::vector<raft_entry> to_persist_;
  NodeId reported_leader_ = 0;

  // Snapshots (snapshots.cpp).
  std::uint32_t incoming_crc_ = 0;  // of the leader's snapshot being received
  std::uint64_t incoming_bytes_ = 0;
  Index install_compact_ = 0;     // a leader's snapshot was committed: compact storage to here
  bool install_to_load_ = false;  // the core adopted install_: load it into the state machine
  SnapshotInfo install_;
  bool saving_ = false;  // snapshot_save asked to be called again
  raft_snapshot_writer writer_;
  Index save_index_ = 0;
  Index last_save_try_ = 0;  // applied index of the last save started
  std::vector<std::uint8_t> meta_buf_;
  std::vector<std::uint8_t> chunk_buf_;
  Message chunk_msg_;  // an outgoing InstallSnapshot with its bytes attached
  std::uint64_t msgs_sent_ = 0, msgs_received_ = 0, msgs_rejected_ = 0;

  // Shared with other threads.
  std::atomic<bool> driving_{false};
  std::atomic<std::thread::id> driver_thread_{};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> wake_flag_{false};  // work arrived: lets run() stop spinning
  bool notified_ = false;
  bool sleeping_ = false;  // run() is waiting on wake_
  bool stopped_ = false;
  ProposalQueue queue_;  // guarded by mu_
  // A leader's payload bytes beyond its commit index as of the last turn's
  // end, plus proposals taken from the queue since (guarded by mu_).
  std::uint64_t uncommitted_ = 0;
  raft_status snapshot_{};  // guarded by mu_
  ErrorSlots errors_;       // each thread's last failure (has its own lock)
};

}  // namespace raft::node
