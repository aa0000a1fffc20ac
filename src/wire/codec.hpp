// The libraft wire format: one raft::Message <-> one self-contained frame.
// Every byte is described in docs/wire-format.md; the constants below are the
// same numbers, for code that sizes buffers or batches.
//
// decode() is the boundary with the network: it treats its input as hostile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/copy_bytes.hpp"
#include "core/message.hpp"
#include "wire/le.hpp"

namespace raft::wire {

enum class DecodeError : int {
  kOk = 0,
  kTruncated,        // fewer bytes than the header says the frame has
  kBadMagic,         // not a libraft frame
  kBadVersion,       // a format version this decoder does not speak
  kBadType,          // a message type this decoder does not know (e.g. from a newer peer)
  kBadChecksum,      // CRC32C mismatch: corrupted in transit
  kBadLength,        // lengths inside the frame do not add up
  kTooBig,           // larger than the caller's max_frame_bytes
  kBadField,         // a field holds a value the format forbids
  kClusterMismatch,  // a frame from another cluster
};

// A static English description; never null.
const char* to_string(DecodeError e);

// Frame layout (little-endian, no padding).
inline constexpr std::uint32_t kMagic = 0x5446524Cu;  // the bytes "LRFT"
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderBytes = 44;
inline constexpr std::size_t kChecksumBytes = 4;
inline constexpr std::size_t kFrameOverhead = kHeaderBytes + kChecksumBytes;
inline constexpr std::size_t kRequestVoteBodyBytes = 17;
inline constexpr std::size_t kRequestVoteResponseBodyBytes = 2;
inline constexpr std::size_t kAppendEntriesFixedBytes = 28;  // before the first entry
inline constexpr std::size_t kEntryHeaderBytes = 21;         // per entry, before its payload
inline constexpr std::size_t kAppendEntriesResponseBodyBytes = 33;
// InstallSnapshot: commit, offset, meta_len, chunk_len; then the meta
// (wire/snapshot_meta.hpp) and the chunk.
inline constexpr std::size_t kInstallSnapshotFixedBytes = 24;
inline constexpr std::size_t kInstallSnapshotResponseBodyBytes = 26;

// Byte offsets of the header fields inside a frame.
inline constexpr std::size_t kOffMagic = 0;
inline constexpr std::size_t kOffVersion = 4;
inline constexpr std::size_t kOffType = 5;
inline constexpr std::size_t kOffFlags = 6;
inline constexpr std::size_t kOffBodyLen = 8;
inline constexpr std::size_t kOffClusterId = 12;
inline constexpr std::size_t kOffFrom = 20;
inline constexpr std::size_t kOffTo = 28;
inline constexpr std::size_t kOffTerm = 36;

// The exact number of bytes encode() appends for m.
std::size_t encoded_size(const Message& m);

// Appends one frame for m to out (one resize, then straight stores).  Only the
// fields of m.type are written.  Preconditions (the core guarantees them; a
// violation yields a frame every decoder rejects, never memory unsafety):
// m.entries.size() and every entry's len fit in 32 bits, and the body is
// below 4 GiB.  For an InstallSnapshot, m.chunk holds m.chunk_len bytes (it may
// be null only when chunk_len is 0) and m.snapshot is a valid meta (see
// decode_snapshot_meta) covering [offset, offset + chunk_len).
void encode(const Message& m, std::uint64_t cluster_id, std::vector<std::uint8_t>& out);
// The same frame written to `frame`, which must have room for
// encoded_size(m) bytes (a caller with its own buffer skips the vector's
// zero-filling); returns the number of bytes written.
std::size_t encode_into(const Message& m, std::uint64_t cluster_id, std::uint8_t* frame);

// An AppendEntries frame written piece by piece, for a leader encoding a
// batch straight from its log instead of from m.entries (same bytes as
// encode_into would write for those entries):
//   len = append_entries_frame_size(count, payload);
//   p = begin_append_entries(m, cluster_id, count, payload, frame);
//   p = put_entry(p, ...) for each of the count entries, in order;
//   seal(frame, len);
// `payload` is the entries' payload bytes in all; the caller writes exactly
// those entries (the checksum does not make up for a miscount).
inline std::size_t append_entries_frame_size(std::size_t count, std::size_t payload) {
  return kFrameOverhead + kAppendEntriesFixedBytes + count * kEntryHeaderBytes + payload;
}
std::uint8_t* begin_append_entries(const Message& m, std::uint64_t cluster_id, std::size_t count,
                                   std::size_t payload, std::uint8_t* frame);
// Inline: it runs once per entry sent.
inline std::uint8_t* put_entry(std::uint8_t* p, Term term, EntryType type, std::uint64_t id,
                               const std::uint8_t* data, std::size_t len) {
  p = le::store64(p, term);
  p = le::store8(p, static_cast<std::uint8_t>(type));
  p = le::store64(p, id);
  p = le::store32(p, static_cast<std::uint32_t>(len));
  copy_bytes(p, data, len);  // data may be null when len is 0
  return p + len;
}
// Writes the checksum of the len-byte frame at `frame`.
void seal(std::uint8_t* frame, std::size_t len);

// Rewrites the `to` field of a frame produced by encode() (len bytes at
// frame) and its checksum: a large frame's is patched in O(log len) without
// rereading the body, a small one's (below 8 KiB, where that is cheaper) is
// computed again.  One AppendEntries batch is encoded once and re-addressed
// per follower.
void retarget(std::uint8_t* frame, std::size_t len, NodeId to);

// Decodes exactly one frame occupying all of [buf, buf+len).  On success fills
// `out` (every field; those the type does not use are zero; entries and an
// InstallSnapshot's chunk are views into buf, valid as long as buf is) and
// returns kOk.  On failure returns the first problem found, out.entries and
// out.snapshot.voters are empty and the other fields of out are unspecified.
// Never reads outside [buf, buf+len); allocates at most out.entries' storage,
// bounded by the frame's length, and out.snapshot.voters' (at most
// kSnapshotMetaMaxVoters ids).  A buffer longer than
// max_frame_bytes, or a header claiming a longer frame, is kTooBig.
DecodeError decode(const std::uint8_t* buf, std::size_t len, std::uint64_t expected_cluster_id,
                   std::size_t max_frame_bytes, Message& out);

}  // namespace raft::wire
