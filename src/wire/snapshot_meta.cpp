// SnapshotInfo <-> meta bytes.  Layout (docs/wire-format.md, "Snapshot meta"):
//   0 magic u32 | 4 version u8 | 5 reserved[3] | 8 index u64 | 16 term u64 |
//   24 size u64 | 32 crc u32 | 36 n_voters u32 | 40 voters u64[n] | crc32c u32
// The decoder validates the whole buffer before it touches `out`, so a
// rejected meta neither allocates nor leaves `out` half-written.
#include "wire/snapshot_meta.hpp"

#include "wire/crc32c.hpp"
#include "wire/le.hpp"

namespace raft::wire {
namespace {

constexpr std::size_t kOffMetaMagic = 0;
constexpr std::size_t kOffMetaVersion = 4;
constexpr std::size_t kOffMetaReserved = 5;
constexpr std::size_t kOffMetaIndex = 8;
constexpr std::size_t kOffMetaTerm = 16;
constexpr std::size_t kOffMetaSize = 24;
constexpr std::size_t kOffMetaCrc = 32;
constexpr std::size_t kOffMetaVoterCount = 36;
constexpr std::size_t kOffMetaVoters = 40;
constexpr std::size_t kMetaCrcBytes = 4;

static_assert(kOffMetaVoters + kMetaCrcBytes == kSnapshotMetaFixedBytes,
              "snapshot_meta.hpp's fixed size disagrees with the layout");

// Voters must be a valid configuration: nonzero ids, strictly ascending (so
// each id appears once and the encoding of a set is unique).
bool voters_valid(const std::uint8_t* p, std::size_t n) {
  NodeId prev = 0;  // 0 is never a valid id, so it also rejects a first id of 0
  for (std::size_t i = 0; i < n; ++i) {
    const NodeId id = le::load64(p + 8 * i);
    if (id <= prev) return false;
    prev = id;
  }
  return true;
}

}  // namespace

std::size_t snapshot_meta_size(const SnapshotInfo& info) {
  return kSnapshotMetaFixedBytes + 8 * info.voters.size();
}

void encode_snapshot_meta(const SnapshotInfo& info, std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + snapshot_meta_size(info));
  std::uint8_t* const meta = out.data() + start;
  std::uint8_t* p = le::store32(meta, kSnapshotMetaMagic);
  p = le::store8(p, kSnapshotMetaVersion);
  for (int i = 0; i < 3; ++i) p = le::store8(p, 0);
  p = le::store64(p, info.index);
  p = le::store64(p, info.term);
  p = le::store64(p, info.size);
  p = le::store32(p, info.crc);
  p = le::store32(p, static_cast<std::uint32_t>(info.voters.size()));
  for (NodeId id : info.voters) p = le::store64(p, id);
  le::store32(p, crc32c(meta, static_cast<std::size_t>(p - meta)));
}

// Order: sizes (nothing below reads past len), magic and version (the layout
// is known), the voter count against len, the checksum, then the fields.
bool decode_snapshot_meta(const std::uint8_t* buf, std::size_t len, SnapshotInfo& out) {
  if (buf == nullptr || len < kSnapshotMetaFixedBytes) return false;
  if (le::load32(buf + kOffMetaMagic) != kSnapshotMetaMagic) return false;
  if (buf[kOffMetaVersion] != kSnapshotMetaVersion) return false;
  const std::uint32_t n = le::load32(buf + kOffMetaVoterCount);
  if (n == 0 || n > kSnapshotMetaMaxVoters) return false;
  if (len != kSnapshotMetaFixedBytes + 8 * std::size_t{n}) return false;
  const std::size_t covered = len - kMetaCrcBytes;
  if (crc32c(buf, covered) != le::load32(buf + covered)) return false;
  for (std::size_t i = 0; i < 3; ++i) {
    if (buf[kOffMetaReserved + i] != 0) return false;
  }
  const Index index = le::load64(buf + kOffMetaIndex);
  const Term term = le::load64(buf + kOffMetaTerm);
  if (index == 0 || term == 0) return false;
  if (!voters_valid(buf + kOffMetaVoters, n)) return false;

  out.index = index;
  out.term = term;
  out.size = le::load64(buf + kOffMetaSize);
  out.crc = le::load32(buf + kOffMetaCrc);
  out.voters.resize(n);  // n <= kSnapshotMetaMaxVoters: at most 8 KiB
  for (std::size_t i = 0; i < n; ++i) out.voters[i] = le::load64(buf + kOffMetaVoters + 8 * i);
  return true;
}

}  // namespace raft::wire
