// libFuzzer target for the wire decoder and the snapshot meta codec.
//
// Each input is decoded as a bare snapshot meta, then as a frame three or
// four ways: as is with a fixed cluster id; with the cluster id the input
// itself carries (so mutations get past that check); with its checksum
// recomputed (so mutations reach the field checks instead of stopping at
// kBadChecksum); and, for an InstallSnapshot, with its meta's checksum
// recomputed as well.  Whatever decodes must be canonical: re-encoding gives
// the same bytes, and those decode to the same fields; retarget() agrees with
// encoding for another peer.  Every view (entries, an InstallSnapshot's
// chunk) must lie inside the input.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "wire/codec.hpp"
#include "wire/crc32c.hpp"
#include "wire/le.hpp"
#include "wire/snapshot_meta.hpp"

namespace {

using raft::Message;
namespace wire = raft::wire;

// Must match tests/fuzz/make_wire_corpus.cpp so the seeds pass the first pass.
constexpr std::uint64_t kFuzzCluster = 0x4655'5A5A'434C'5553ull;
constexpr std::size_t kMaxFrame = 1u << 20;

#define FUZZ_CHECK(cond)           \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

bool same_entries(const Message& a, const Message& b) {
  if (a.entries.size() != b.entries.size()) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const raft::EntryView& x = a.entries[i];
    const raft::EntryView& y = b.entries[i];
    if (x.term != y.term || x.type != y.type || x.id != y.id || x.len != y.len) return false;
    if (x.len != 0 && std::memcmp(x.data, y.data, x.len) != 0) return false;
  }
  return true;
}

bool same_snapshot(const raft::SnapshotInfo& a, const raft::SnapshotInfo& b) {
  return a.index == b.index && a.term == b.term && a.size == b.size && a.crc == b.crc &&
         a.voters == b.voters;
}

bool same_chunk(const Message& a, const Message& b) {
  if (a.chunk_len != b.chunk_len) return false;
  return a.chunk_len == 0 || std::memcmp(a.chunk, b.chunk, a.chunk_len) == 0;
}

bool same(const Message& a, const Message& b) {
  return a.type == b.type && a.from == b.from && a.to == b.to && a.term == b.term &&
         a.last_log_index == b.last_log_index && a.last_log_term == b.last_log_term &&
         a.pre_vote == b.pre_vote && a.granted == b.granted &&
         a.prev_log_index == b.prev_log_index && a.prev_log_term == b.prev_log_term &&
         a.commit == b.commit && a.success == b.success && a.match_index == b.match_index &&
         a.reject_index == b.reject_index && a.hint_index == b.hint_index &&
         a.hint_term == b.hint_term && same_entries(a, b) &&
         same_snapshot(a.snapshot, b.snapshot) && a.offset == b.offset && a.rewind == b.rewind &&
         same_chunk(a, b);
}

void check(const std::uint8_t* data, std::size_t size, std::uint64_t cluster) {
  Message m;
  const wire::DecodeError err = wire::decode(data, size, cluster, kMaxFrame, m);
  FUZZ_CHECK(wire::to_string(err) != nullptr);
  if (err != wire::DecodeError::kOk) {
    FUZZ_CHECK(m.entries.empty() && m.snapshot.voters.empty());
    return;
  }
  for (const raft::EntryView& e : m.entries) {  // views stay inside the input
    FUZZ_CHECK(e.data >= data && e.data + e.len <= data + size);
  }
  if (m.chunk_len != 0) FUZZ_CHECK(m.chunk >= data && m.chunk + m.chunk_len <= data + size);
  if (m.type == raft::MsgType::kInstallSnapshot) {  // the chunk lies inside the snapshot
    FUZZ_CHECK(m.chunk_len <= m.snapshot.size && m.offset <= m.snapshot.size - m.chunk_len);
  }
  FUZZ_CHECK(m.snapshot.voters.size() <= wire::kSnapshotMetaMaxVoters);
  FUZZ_CHECK(wire::encoded_size(m) == size);
  std::vector<std::uint8_t> again;
  wire::encode(m, cluster, again);
  FUZZ_CHECK(again.size() == size && std::memcmp(again.data(), data, size) == 0);
  Message back;
  FUZZ_CHECK(wire::decode(again.data(), again.size(), cluster, kMaxFrame, back) ==
             wire::DecodeError::kOk);
  FUZZ_CHECK(same(m, back));
  // Re-addressing in place must equal encoding for the new peer.
  Message other = m;
  other.to = m.to * 3 + 1;
  std::vector<std::uint8_t> expected;
  wire::encode(other, cluster, expected);
  wire::retarget(again.data(), again.size(), other.to);
  FUZZ_CHECK(again == expected);
}

// The input as a bare snapshot meta (what storages keep): whatever decodes is
// canonical and within bounds.
void check_meta(const std::uint8_t* data, std::size_t size) {
  raft::SnapshotInfo info;
  if (!wire::decode_snapshot_meta(data, size, info)) return;
  FUZZ_CHECK(info.index != 0 && info.term != 0 && !info.voters.empty());
  FUZZ_CHECK(info.voters.size() <= wire::kSnapshotMetaMaxVoters);
  FUZZ_CHECK(wire::snapshot_meta_size(info) == size);
  std::vector<std::uint8_t> again;
  wire::encode_snapshot_meta(info, again);
  FUZZ_CHECK(again.size() == size && std::memcmp(again.data(), data, size) == 0);
}

// An InstallSnapshot's meta has a CRC of its own: recompute it when the
// meta_len field points inside the frame, so mutations reach the meta's field
// checks too.  Returns false when the frame is no such InstallSnapshot.
bool reseal_meta(std::vector<std::uint8_t>& f) {
  const std::size_t fixed = wire::kHeaderBytes + wire::kInstallSnapshotFixedBytes;
  if (f.size() < fixed + wire::kChecksumBytes) return false;
  if (f[wire::kOffType] != static_cast<std::uint8_t>(raft::MsgType::kInstallSnapshot)) {
    return false;
  }
  const std::size_t meta_len = raft::wire::le::load32(f.data() + wire::kHeaderBytes + 16);
  if (meta_len < 4 || meta_len > f.size() - fixed - wire::kChecksumBytes) return false;
  const std::size_t covered = meta_len - 4;
  raft::wire::le::store32(f.data() + fixed + covered, wire::crc32c(f.data() + fixed, covered));
  return true;
}

void seal(std::vector<std::uint8_t>& f) {
  const std::size_t covered = f.size() - wire::kChecksumBytes;
  raft::wire::le::store32(f.data() + covered, wire::crc32c(f.data(), covered));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_meta(data, size);
  check(data, size, kFuzzCluster);
  if (size < wire::kFrameOverhead) return 0;
  const std::uint64_t carried = raft::wire::le::load64(data + wire::kOffClusterId);
  check(data, size, carried);
  // An exact-size heap copy, so ASan still catches any read past the end.
  std::vector<std::uint8_t> sealed(data, data + size);
  seal(sealed);
  check(sealed.data(), size, carried);
  if (reseal_meta(sealed)) {
    seal(sealed);
    check(sealed.data(), size, carried);
  }
  return 0;
}
