// Message -> frame.  The size is computed first so the output grows once;
// every field is then a fixed-width little-endian store through a cursor.
#include <cstring>

#include "wire/codec.hpp"
#include "wire/crc32c.hpp"
#include "wire/le.hpp"
#include "wire/snapshot_meta.hpp"

namespace raft::wire {
namespace {

std::size_t append_entries_body_size(const Message& m) {
  std::size_t n = kAppendEntriesFixedBytes + m.entries.size() * kEntryHeaderBytes;
  for (const EntryView& e : m.entries) n += e.len;
  return n;
}

std::size_t install_snapshot_body_size(const Message& m) {
  return kInstallSnapshotFixedBytes + snapshot_meta_size(m.snapshot) + m.chunk_len;
}

// No default: a MsgType added to core/message.hpp without a wire encoding is
// a -Wswitch error, not a silent empty body.
std::size_t body_size(const Message& m) {
  switch (m.type) {
    case MsgType::kRequestVote:
      return kRequestVoteBodyBytes;
    case MsgType::kRequestVoteResponse:
      return kRequestVoteResponseBodyBytes;
    case MsgType::kAppendEntries:
      return append_entries_body_size(m);
    case MsgType::kAppendEntriesResponse:
      return kAppendEntriesResponseBodyBytes;
    case MsgType::kInstallSnapshot:
      return install_snapshot_body_size(m);
    case MsgType::kInstallSnapshotResponse:
      return kInstallSnapshotResponseBodyBytes;
  }
  return 0;  // an out-of-range value: header only, which every decoder rejects
}

std::uint8_t* put_bool(std::uint8_t* p, bool b) { return le::store8(p, b ? 1 : 0); }

std::uint8_t* put_header(std::uint8_t* p, const Message& m, std::uint64_t cluster_id,
                         std::size_t body) {
  p = le::store32(p, kMagic);
  p = le::store8(p, kVersion);
  p = le::store8(p, static_cast<std::uint8_t>(m.type));
  p = le::store16(p, 0);  // flags: none defined in version 1
  p = le::store32(p, static_cast<std::uint32_t>(body));
  p = le::store64(p, cluster_id);
  p = le::store64(p, m.from);
  p = le::store64(p, m.to);
  return le::store64(p, m.term);
}

std::uint8_t* put_request_vote(std::uint8_t* p, const Message& m) {
  p = le::store64(p, m.last_log_index);
  p = le::store64(p, m.last_log_term);
  return put_bool(p, m.pre_vote);
}

std::uint8_t* put_request_vote_response(std::uint8_t* p, const Message& m) {
  p = put_bool(p, m.granted);
  return put_bool(p, m.pre_vote);
}

std::uint8_t* put_append_entries_fixed(std::uint8_t* p, const Message& m, std::size_t count) {
  p = le::store64(p, m.prev_log_index);
  p = le::store64(p, m.prev_log_term);
  p = le::store64(p, m.commit);
  return le::store32(p, static_cast<std::uint32_t>(count));
}

std::uint8_t* put_append_entries(std::uint8_t* p, const Message& m) {
  p = put_append_entries_fixed(p, m, m.entries.size());
  for (const EntryView& e : m.entries) p = put_entry(p, e.term, e.type, e.id, e.data, e.len);
  return p;
}

std::uint8_t* put_append_entries_response(std::uint8_t* p, const Message& m) {
  p = le::store64(p, m.match_index);
  p = le::store64(p, m.reject_index);
  p = le::store64(p, m.hint_index);
  p = le::store64(p, m.hint_term);
  return put_bool(p, m.success);
}

// The meta is encoded by its own codec into a small scratch vector (at most
// ~8 KiB: the voters bound it) and copied; the chunk, which may be large, is
// copied once straight into the frame.
std::uint8_t* put_install_snapshot(std::uint8_t* p, const Message& m) {
  std::vector<std::uint8_t> meta;
  meta.reserve(snapshot_meta_size(m.snapshot));
  encode_snapshot_meta(m.snapshot, meta);
  p = le::store64(p, m.commit);
  p = le::store64(p, m.offset);
  p = le::store32(p, static_cast<std::uint32_t>(meta.size()));
  p = le::store32(p, static_cast<std::uint32_t>(m.chunk_len));
  std::memcpy(p, meta.data(), meta.size());
  p += meta.size();
  if (m.chunk_len != 0) std::memcpy(p, m.chunk, m.chunk_len);  // chunk may be null when 0
  return p + m.chunk_len;
}

std::uint8_t* put_install_snapshot_response(std::uint8_t* p, const Message& m) {
  p = le::store64(p, m.snapshot.index);
  p = le::store64(p, m.offset);
  p = le::store64(p, m.match_index);
  p = put_bool(p, m.success);
  return put_bool(p, m.rewind);
}

std::uint8_t* put_body(std::uint8_t* p, const Message& m) {
  switch (m.type) {
    case MsgType::kRequestVote:
      return put_request_vote(p, m);
    case MsgType::kRequestVoteResponse:
      return put_request_vote_response(p, m);
    case MsgType::kAppendEntries:
      return put_append_entries(p, m);
    case MsgType::kAppendEntriesResponse:
      return put_append_entries_response(p, m);
    case MsgType::kInstallSnapshot:
      return put_install_snapshot(p, m);
    case MsgType::kInstallSnapshotResponse:
      return put_install_snapshot_response(p, m);
  }
  return p;
}

}  // namespace

std::size_t encoded_size(const Message& m) { return kFrameOverhead + body_size(m); }

std::size_t encode_into(const Message& m, std::uint64_t cluster_id, std::uint8_t* frame) {
  const std::size_t body = body_size(m);
  std::uint8_t* p = put_header(frame, m, cluster_id, body);
  p = put_body(p, m);
  le::store32(p, crc32c(frame, static_cast<std::size_t>(p - frame)));
  return kFrameOverhead + body;
}

std::uint8_t* begin_append_entries(const Message& m, std::uint64_t cluster_id, std::size_t count,
                                   std::size_t payload, std::uint8_t* frame) {
  const std::size_t body = append_entries_frame_size(count, payload) - kFrameOverhead;
  return put_append_entries_fixed(put_header(frame, m, cluster_id, body), m, count);
}

void seal(std::uint8_t* frame, std::size_t len) {
  const std::size_t covered = len - kChecksumBytes;
  le::store32(frame + covered, crc32c(frame, covered));
}

void encode(const Message& m, std::uint64_t cluster_id, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + encoded_size(m));
  encode_into(m, cluster_id, out.data() + start);
}

// The CRC is linear: for equal-length inputs crc(a) ^ crc(b) is the raw CRC of
// a ^ b with a zero start, and a ^ b here is zero except the 8 bytes of `to`.
// Those 8 bytes give raw(0, delta) = ~crc32c(delta, 8, ~0u); the zero bytes
// after them up to the checksum shift it by crc32c_zeros().
void retarget(std::uint8_t* frame, std::size_t len, NodeId to) {
  if (frame == nullptr || len < kFrameOverhead) return;
  // The shift costs about as much as checksumming 8 KiB with the crc32
  // instruction: a smaller frame is checksummed again instead.
  constexpr std::size_t kRecomputeBelow = 8192;
  if (len < kRecomputeBelow) {
    le::store64(frame + kOffTo, to);
    le::store32(frame + len - kChecksumBytes, crc32c(frame, len - kChecksumBytes));
    return;
  }
  const std::uint64_t delta = le::load64(frame + kOffTo) ^ to;
  std::uint8_t delta_bytes[8];
  le::store64(delta_bytes, delta);
  const std::uint32_t head = ~crc32c(delta_bytes, sizeof delta_bytes, ~0u);
  const std::size_t after = len - kChecksumBytes - (kOffTo + 8);
  std::uint8_t* const sum = frame + len - kChecksumBytes;
  le::store32(sum, le::load32(sum) ^ crc32c_zeros(head, after));
  le::store64(frame + kOffTo, to);
}

}  // namespace raft::wire
