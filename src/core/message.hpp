// The messages replicas exchange, as the consensus core sees them.
// The wire layer (src/wire) turns these into bytes and back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace raft {

using NodeId = std::uint64_t;
using Index = std::uint64_t;
using Term = std::uint64_t;

// Entry types stored in the log.  Only kCommand entries reach apply().
enum class EntryType : std::uint8_t {
  kCommand = 1,  // a user transition
  kNoop = 2,     // appended by a new leader to commit earlier terms
};

// A borrowed view of one log entry.  `data` points into a buffer owned by
// someone else (the log, or a received frame) and is valid only as long as
// that buffer is.
struct EntryView {
  Term term = 0;
  EntryType type = EntryType::kCommand;
  std::uint64_t id = 0;  // the caller's transition id (0 for no-ops)
  const std::uint8_t* data = nullptr;
  std::size_t len = 0;
};

// A proposal waiting in a driver's buffer: `len` bytes at `offset` from the
// buffer's start (an offset, not a pointer: the buffer may move as it grows
// while proposals arrive).
struct Proposal {
  std::uint64_t id;
  std::size_t offset, len;
};

// An upper bound on the bytes the wire format spends on one entry besides
// its payload.  The leader counts it against max_batch_bytes, so that a batch
// of tiny entries cannot grow a frame past what receivers accept.
constexpr std::size_t kEntryWireOverhead = 32;

enum class MsgType : std::uint8_t {
  kRequestVote = 1,
  kRequestVoteResponse = 2,
  kAppendEntries = 3,
  kAppendEntriesResponse = 4,
  kInstallSnapshot = 5,
  kInstallSnapshotResponse = 6,
};

// What libraft records about a snapshot besides the state machine's bytes:
// the last log position it covers, the configuration at that point, and the
// size and CRC32C of the bytes (so a transfer or a disk can be verified).
// Stored with the snapshot (storage's meta) and sent in every InstallSnapshot.
struct SnapshotInfo {
  Index index = 0;  // last included index (0: no snapshot)
  Term term = 0;    // its term
  std::uint64_t size = 0;
  std::uint32_t crc = 0;       // CRC32C of the `size` bytes
  std::vector<NodeId> voters;  // every voter, ascending
};

// One message.  Fields that a type does not use are zero.  `entries` views
// are borrowed (see EntryView).
struct Message {
  MsgType type = MsgType::kAppendEntries;
  NodeId from = 0;
  NodeId to = 0;
  Term term = 0;

  // RequestVote: the candidate's last log position; pre_vote marks a
  // pre-vote round, whose term is the term the candidate would campaign in.
  // RequestVoteResponse: granted, pre_vote echo.
  Index last_log_index = 0;
  Term last_log_term = 0;
  bool pre_vote = false;
  bool granted = false;

  // AppendEntries: prev_log_index/prev_log_term, commit, entries.
  Index prev_log_index = 0;
  Term prev_log_term = 0;
  Index commit = 0;
  std::vector<EntryView> entries;

  // AppendEntriesResponse: success; match_index is the highest index known
  // to match the leader (success) and reject_index the prev_log_index of the
  // rejected request; hint_index/hint_term let the leader skip back a whole
  // term at once (the follower's last index when its log is shorter, else
  // the first index of the conflicting term, and that term).
  bool success = false;
  Index match_index = 0;
  Index reject_index = 0;
  Index hint_index = 0;
  Term hint_term = 0;

  // InstallSnapshot: `snapshot` describes the whole snapshot and `commit` is
  // the leader's commit index; this message carries bytes [offset, offset +
  // chunk_len) of it.  On receipt `chunk` points into the frame; on send the
  // core leaves it null and the driver reads the bytes from storage.
  // InstallSnapshotResponse: snapshot.index names the transfer; `offset` is
  // the next byte the follower expects; `success` means installed (then
  // match_index is the snapshot's index); `rewind` asks the leader to resend
  // from `offset` (a chunk arrived out of order or the transfer restarted).
  SnapshotInfo snapshot;
  std::uint64_t offset = 0;
  const std::uint8_t* chunk = nullptr;
  std::size_t chunk_len = 0;
  bool rewind = false;
};

}  // namespace raft
