// What the consensus core asks of its driver.  The core never performs I/O
// or calls user code: it reports through this interface, and the driver
// (src/node) buffers the requests and carries them out in a safe order
// (persist, then send, then apply and report).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/message.hpp"

namespace raft::core {

class Log;

enum class Role : std::uint8_t { kFollower = 1, kPreCandidate, kCandidate, kLeader };

// Mirrors raft_transition_state; the values are the same.
enum class Transition : std::uint8_t {
  kQueued = 1,
  kCommitted = 2,
  kApplied = 3,
  kAbandonedNotLeader = 4,
  kAbandonedConflict = 5,
  kUnknown = 6,
};

enum class LogLevel : std::uint8_t { kError = 1, kWarn, kInfo, kDebug };

class Effects {
 public:
  virtual ~Effects() = default;
  // Hand a message to the transport.  Entry views in `m` are valid only
  // during the call: encode or copy them now.
  virtual void send(const Message& m) = 0;
  // An AppendEntries `m`, complete but for its entries: the `count` entries
  // after m.prev_log_index, the first of whose payloads is at first_data.
  // If the driver already holds this very frame (sent to another follower
  // this turn) it sends it to m.to too and returns true; false: the core
  // sends the batch anew (send_from_log(), else send()).
  virtual bool send_again(const Message& m, std::size_t count, const std::uint8_t* first_data) {
    (void)m;
    (void)count;
    (void)first_data;
    return false;
  }
  // An AppendEntries `m`, complete but for its entries: the `count` entries
  // after m.prev_log_index in `log`, `payload` bytes of payload in all.  A
  // driver that encodes them straight from the log (skipping the entry
  // list) sends the message and returns true; false: the core builds the
  // entry list and calls send().
  virtual bool send_from_log(const Message& m, const Log& log, std::size_t count,
                             std::size_t payload) {
    (void)m;
    (void)log;
    (void)count;
    (void)payload;
    return false;
  }
  // A transition proposed on this replica changed state.
  virtual void transition(std::uint64_t id, Transition state) = 0;
  // Snapshot transfer to this replica.  A chunk of the leader's snapshot
  // `info`, in order (offset 0 starts a new one, discarding any partial
  // one).  Returns false if it could not be stored (the driver then stops).
  virtual bool snapshot_chunk(const SnapshotInfo& info, std::uint64_t offset,
                              const std::uint8_t* data, std::size_t len) = 0;
  // All of `info` arrived: if its bytes check out (size, CRC), make it the
  // current snapshot, durably, and return true.
  virtual bool snapshot_complete(const SnapshotInfo& info) = 0;
  // The core adopted the completed snapshot: its log now starts after
  // info.index (keeping the entries that followed it when kept_suffix, else
  // empty) and applied_index() is info.index.  Before applying further
  // entries, the driver loads it into the state machine.
  virtual void snapshot_installed(const SnapshotInfo& info, bool kept_suffix) = 0;
  virtual bool log_enabled(LogLevel level) const = 0;
  virtual void log(LogLevel level, const char* text) = 0;
};

}  // namespace raft::core
