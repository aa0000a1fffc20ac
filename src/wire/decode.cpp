// Frame -> Message, for bytes from the network.  Order of checks: sizes first
// (so nothing below reads past the buffer), then magic and version (so the
// rest of the layout is known), then the checksum (so later errors mean a
// well-formed frame we disagree with, not line noise), then the fields.
#include "wire/codec.hpp"
#include "wire/crc32c.hpp"
#include "wire/le.hpp"
#include "wire/snapshot_meta.hpp"

namespace raft::wire {
namespace {

using E = DecodeError;

bool read_bool(std::uint8_t byte, bool& out) {
  out = byte == 1;
  return byte <= 1;
}

bool known_type(std::uint8_t t) {
  return t >= static_cast<std::uint8_t>(MsgType::kRequestVote) &&
         t <= static_cast<std::uint8_t>(MsgType::kInstallSnapshotResponse);
}

bool known_entry_type(std::uint8_t t) {
  return t == static_cast<std::uint8_t>(EntryType::kCommand) ||
         t == static_cast<std::uint8_t>(EntryType::kNoop);
}

// Zero every field but keep the voters' capacity and the entries (an
// AppendEntries resizes them to its count, overwriting every view it keeps;
// other types empty them): for the next frame.
void reset(Message& m) {
  std::vector<EntryView> entries = std::move(m.entries);
  std::vector<NodeId> voters = std::move(m.snapshot.voters);
  voters.clear();
  m = Message{};
  m.entries = std::move(entries);
  m.snapshot.voters = std::move(voters);
}

E check_envelope(const std::uint8_t* buf, std::size_t len, std::size_t max_frame_bytes) {
  if (len > max_frame_bytes) return E::kTooBig;
  if (buf == nullptr || len < kFrameOverhead) return E::kTruncated;
  if (le::load32(buf + kOffMagic) != kMagic) return E::kBadMagic;
  if (buf[kOffVersion] != kVersion) return E::kBadVersion;
  // 64-bit so a 4 GiB claim cannot wrap on a 32-bit size_t.
  const std::uint64_t claimed = kFrameOverhead + std::uint64_t{le::load32(buf + kOffBodyLen)};
  if (claimed > max_frame_bytes) return E::kTooBig;
  if (claimed > len) return E::kTruncated;
  if (claimed < len) return E::kBadLength;
  const std::size_t covered = len - kChecksumBytes;
  if (crc32c(buf, covered) != le::load32(buf + covered)) return E::kBadChecksum;
  return E::kOk;
}

E check_header(const std::uint8_t* buf, std::uint64_t cluster_id, Message& out) {
  if (le::load64(buf + kOffClusterId) != cluster_id) return E::kClusterMismatch;
  if (!known_type(buf[kOffType])) return E::kBadType;
  if (le::load16(buf + kOffFlags) != 0) return E::kBadField;
  out.type = static_cast<MsgType>(buf[kOffType]);
  out.from = le::load64(buf + kOffFrom);
  out.to = le::load64(buf + kOffTo);
  out.term = le::load64(buf + kOffTerm);
  if (out.from == 0 || out.to == 0) return E::kBadField;  // RAFT_NO_ID is nobody
  return E::kOk;
}

E get_request_vote(const std::uint8_t* p, std::size_t n, Message& out) {
  if (n != kRequestVoteBodyBytes) return E::kBadLength;
  out.last_log_index = le::load64(p);
  out.last_log_term = le::load64(p + 8);
  return read_bool(p[16], out.pre_vote) ? E::kOk : E::kBadField;
}

E get_request_vote_response(const std::uint8_t* p, std::size_t n, Message& out) {
  if (n != kRequestVoteResponseBodyBytes) return E::kBadLength;
  if (!read_bool(p[0], out.granted)) return E::kBadField;
  return read_bool(p[1], out.pre_vote) ? E::kOk : E::kBadField;
}

E get_append_entries_response(const std::uint8_t* p, std::size_t n, Message& out) {
  if (n != kAppendEntriesResponseBodyBytes) return E::kBadLength;
  out.match_index = le::load64(p);
  out.reject_index = le::load64(p + 8);
  out.hint_index = le::load64(p + 16);
  out.hint_term = le::load64(p + 24);
  return read_bool(p[32], out.success) ? E::kOk : E::kBadField;
}

E get_append_entries(const std::uint8_t* p, std::size_t n, Message& out) {
  if (n < kAppendEntriesFixedBytes) return E::kBadLength;
  out.prev_log_index = le::load64(p);
  out.prev_log_term = le::load64(p + 8);
  out.commit = le::load64(p + 16);
  const std::uint32_t count = le::load32(p + 24);
  const std::uint8_t* const end = p + n;
  p += kAppendEntriesFixedBytes;
  // Every entry takes at least its header, so this bounds the allocation by
  // the frame's own size before anything is sized.
  if (count > (n - kAppendEntriesFixedBytes) / kEntryHeaderBytes) return E::kBadLength;
  // Sized once and filled through a pointer: no capacity test and no
  // temporary per entry.  reset() left the views of the last frame in
  // place, so resize constructs only those beyond its count.
  out.entries.resize(count);
  EntryView* e = out.entries.data();
  for (std::uint32_t i = 0; i < count; ++i, ++e) {
    if (static_cast<std::size_t>(end - p) < kEntryHeaderBytes) return E::kBadLength;
    const std::uint8_t type = p[8];
    if (!known_entry_type(type)) return E::kBadField;
    const std::uint32_t len = le::load32(p + 17);
    if (len > static_cast<std::size_t>(end - p) - kEntryHeaderBytes) return E::kBadLength;
    e->term = le::load64(p);
    e->type = static_cast<EntryType>(type);
    e->id = le::load64(p + 9);
    e->data = p + kEntryHeaderBytes;
    e->len = len;
    p += kEntryHeaderBytes + len;
  }
  return p == end ? E::kOk : E::kBadLength;
}

E get_install_snapshot(const std::uint8_t* p, std::size_t n, Message& out) {
  if (n < kInstallSnapshotFixedBytes) return E::kBadLength;
  out.commit = le::load64(p);
  out.offset = le::load64(p + 8);
  const std::size_t meta_len = le::load32(p + 16);
  const std::size_t chunk_len = le::load32(p + 20);
  // Compared without adding, so no sum can wrap (size_t may be 32 bits).
  const std::size_t rest = n - kInstallSnapshotFixedBytes;
  if (meta_len > rest || chunk_len != rest - meta_len) return E::kBadLength;
  const std::uint8_t* const meta = p + kInstallSnapshotFixedBytes;
  if (!decode_snapshot_meta(meta, meta_len, out.snapshot)) return E::kBadField;
  const std::uint64_t size = out.snapshot.size;
  if (chunk_len > size || out.offset > size - chunk_len) return E::kBadField;
  out.chunk_len = chunk_len;
  out.chunk = chunk_len == 0 ? nullptr : meta + meta_len;
  return E::kOk;
}

E get_install_snapshot_response(const std::uint8_t* p, std::size_t n, Message& out) {
  if (n != kInstallSnapshotResponseBodyBytes) return E::kBadLength;
  out.snapshot.index = le::load64(p);
  out.offset = le::load64(p + 8);
  out.match_index = le::load64(p + 16);
  if (!read_bool(p[24], out.success)) return E::kBadField;
  return read_bool(p[25], out.rewind) ? E::kOk : E::kBadField;
}

E get_body(const std::uint8_t* p, std::size_t n, Message& out) {
  if (out.type != MsgType::kAppendEntries) out.entries.clear();
  switch (out.type) {
    case MsgType::kRequestVote:
      return get_request_vote(p, n, out);
    case MsgType::kRequestVoteResponse:
      return get_request_vote_response(p, n, out);
    case MsgType::kAppendEntries:
      return get_append_entries(p, n, out);
    case MsgType::kAppendEntriesResponse:
      return get_append_entries_response(p, n, out);
    case MsgType::kInstallSnapshot:
      return get_install_snapshot(p, n, out);
    case MsgType::kInstallSnapshotResponse:
      return get_install_snapshot_response(p, n, out);
  }
  return E::kBadType;
}

E decode_frame(const std::uint8_t* buf, std::size_t len, std::uint64_t cluster_id,
               std::size_t max_frame_bytes, Message& out) {
  E err = check_envelope(buf, len, max_frame_bytes);
  if (err != E::kOk) return err;
  reset(out);
  err = check_header(buf, cluster_id, out);
  if (err != E::kOk) return err;
  return get_body(buf + kHeaderBytes, len - kFrameOverhead, out);
}

}  // namespace

DecodeError decode(const std::uint8_t* buf, std::size_t len, std::uint64_t expected_cluster_id,
                   std::size_t max_frame_bytes, Message& out) {
  const E err = decode_frame(buf, len, expected_cluster_id, max_frame_bytes, out);
  if (err != E::kOk) {
    out.entries.clear();
    out.snapshot.voters.clear();
  }
  return err;
}

const char* to_string(DecodeError e) {
  switch (e) {
    case E::kOk:
      return "ok";
    case E::kTruncated:
      return "truncated frame";
    case E::kBadMagic:
      return "bad magic (not a libraft frame)";
    case E::kBadVersion:
      return "unsupported wire format version";
    case E::kBadType:
      return "unknown message type";
    case E::kBadChecksum:
      return "checksum mismatch";
    case E::kBadLength:
      return "inconsistent lengths";
    case E::kTooBig:
      return "frame too big";
    case E::kBadField:
      return "invalid field value";
    case E::kClusterMismatch:
      return "frame from another cluster";
  }
  return "unknown wire error";
}

}  // namespace raft::wire
