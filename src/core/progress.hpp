// What a leader knows about one follower's log, and the flow control that
// limits how much it sends ahead of the follower's acknowledgements.
#pragma once

#include <cstdint>
#include <deque>

#include "core/message.hpp"

namespace raft::core {

struct Progress {
  enum class Mode : std::uint8_t {
    kProbe,      // position unknown: one AppendEntries at a time
    kReplicate,  // position known: stream entries, up to max_inflight ahead
    kSnapshot,   // needs entries we compacted: stream the snapshot in chunks
  };

  NodeId id = 0;
  Index match = 0;  // highest index known to be replicated; never decreases in a term,
                    // unless the follower shows it lost its storage
  Index next = 1;   // next index to send
  Mode mode = Mode::kProbe;
  bool probe_sent = false;     // in kProbe: a request is outstanding
  bool recent_active = false;  // heard from since the last check-quorum round
  Index commit_sent = 0;       // the commit index in the last message sent
  std::deque<Index> inflight;  // last index (kSnapshot: end offset) of each unacknowledged send
  std::uint32_t loss_rejections = 0;  // rejections in a row showing a log below match

  // kSnapshot: the snapshot being sent (go-back-N over its bytes).
  Index snap_index = 0;
  std::uint64_t snap_next = 0;         // offset of the next chunk to send
  std::uint64_t snap_acked = 0;        // bytes the follower confirmed, in order
  std::uint64_t snap_acked_at_hb = 0;  // snap_acked at the previous heartbeat
  std::uint32_t snap_stalled = 0;      // heartbeats in a row without progress
  bool snap_all_sent = false;          // the last chunk went out since the last rewind

  void reset(Index last_index) {
    loss_rejections = 0;
    match = 0;
    next = last_index + 1;
    mode = Mode::kProbe;
    probe_sent = false;
    recent_active = false;
    commit_sent = 0;
    inflight.clear();
  }

  // An acknowledgement up to `index` arrived: free the window below it.
  void acknowledge(Index index) {
    while (!inflight.empty() && inflight.front() <= index) inflight.pop_front();
  }

  void become_probe(Index new_next) {
    mode = Mode::kProbe;
    next = new_next;
    probe_sent = false;
    inflight.clear();
  }

  void become_replicate(Index match_index) {
    mode = Mode::kReplicate;
    match = match_index;
    next = match_index + 1;
    inflight.clear();
  }

  void become_snapshot(Index index) {
    mode = Mode::kSnapshot;
    snap_index = index;
    inflight.clear();
    rewind_snapshot(0);
  }

  // Resend from `offset`: everything after it is presumed lost.
  void rewind_snapshot(std::uint64_t offset) {
    snap_next = offset;
    snap_acked = offset;
    snap_acked_at_hb = offset;
    snap_stalled = 0;
    snap_all_sent = false;
    inflight.clear();
  }
};

}  // namespace raft::core
