// Snapshot meta codec (src/wire/snapshot_meta.hpp): layout, round trips and
// hostile input.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "wire/crc32c.hpp"
#include "wire/le.hpp"
#include "wire/snapshot_meta.hpp"

namespace raft::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();

// Byte offsets inside a meta (docs/wire-format.md, "Snapshot meta").
constexpr std::size_t kOffReserved = 5;
constexpr std::size_t kOffIndex = 8;
constexpr std::size_t kOffTerm = 16;
constexpr std::size_t kOffCount = 36;
constexpr std::size_t kOffVoters = 40;

SnapshotInfo info(Index index, Term term, std::uint64_t size, std::uint32_t crc,
                  std::vector<NodeId> voters) {
  SnapshotInfo s;
  s.index = index;
  s.term = term;
  s.size = size;
  s.crc = crc;
  s.voters = std::move(voters);
  return s;
}

SnapshotInfo sample() { return info(600, 11, 123456, 0xDEADBEEFu, {1, 2, 5}); }

Bytes encode(const SnapshotInfo& s) {
  Bytes out;
  encode_snapshot_meta(s, out);
  return out;
}

bool decode(const Bytes& b, SnapshotInfo& out) {
  return decode_snapshot_meta(b.data(), b.size(), out);
}

// Recomputes the trailing CRC after an edit, so the edit reaches the field
// checks.
void reseal(Bytes& b) {
  const std::size_t covered = b.size() - 4;
  le::store32(b.data() + covered, crc32c(b.data(), covered));
}

void expect_equal(const SnapshotInfo& a, const SnapshotInfo& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.crc, b.crc);
  EXPECT_EQ(a.voters, b.voters);
}

void expect_round_trip(const SnapshotInfo& s) {
  const Bytes b = encode(s);
  ASSERT_EQ(b.size(), snapshot_meta_size(s));
  SnapshotInfo back;
  ASSERT_TRUE(decode(b, back));
  expect_equal(s, back);
  EXPECT_EQ(encode(back), b);
}

TEST(SnapshotMeta, LayoutMatchesTheDocumentation) {
  const Bytes b = encode(sample());
  ASSERT_EQ(b.size(), 44u + 3 * 8);
  EXPECT_EQ(kSnapshotMetaFixedBytes, 44u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "LRSM");
  EXPECT_EQ(le::load32(b.data()), kSnapshotMetaMagic);
  EXPECT_EQ(b[4], 1);
  EXPECT_EQ(b[5], 0);
  EXPECT_EQ(b[6], 0);
  EXPECT_EQ(b[7], 0);
  EXPECT_EQ(le::load64(b.data() + kOffIndex), 600u);
  EXPECT_EQ(le::load64(b.data() + kOffTerm), 11u);
  EXPECT_EQ(le::load64(b.data() + 24), 123456u);
  EXPECT_EQ(le::load32(b.data() + 32), 0xDEADBEEFu);
  EXPECT_EQ(le::load32(b.data() + kOffCount), 3u);
  EXPECT_EQ(le::load64(b.data() + kOffVoters), 1u);
  EXPECT_EQ(le::load64(b.data() + kOffVoters + 8), 2u);
  EXPECT_EQ(le::load64(b.data() + kOffVoters + 16), 5u);
  EXPECT_EQ(le::load32(b.data() + 64), crc32c(b.data(), 64));
}

TEST(SnapshotMeta, EncodeAppendsAfterExistingBytes) {
  Bytes out = {0xAA, 0xBB};
  encode_snapshot_meta(sample(), out);
  ASSERT_EQ(out.size(), 2 + snapshot_meta_size(sample()));
  EXPECT_EQ(out[0], 0xAA);
  EXPECT_EQ(out[1], 0xBB);
  SnapshotInfo back;
  ASSERT_TRUE(decode_snapshot_meta(out.data() + 2, out.size() - 2, back));
  expect_equal(sample(), back);
}

TEST(SnapshotMeta, RoundTripsEdgeValues) {
  expect_round_trip(sample());
  expect_round_trip(info(1, 1, 0, 0, {1}));
  expect_round_trip(info(kMax64, kMax64, kMax64, 0xFFFFFFFFu, {kMax64}));
  expect_round_trip(info(7, 3, 1, 2, {1, kMax64}));
  std::vector<NodeId> many(kSnapshotMetaMaxVoters);
  for (std::size_t i = 0; i < many.size(); ++i) many[i] = (i + 1) * 1000003;
  expect_round_trip(info(9, 9, 9, 9, many));
  EXPECT_EQ(snapshot_meta_size(info(9, 9, 9, 9, many)), 44u + 8 * kSnapshotMetaMaxVoters);
  EXPECT_EQ(snapshot_meta_size(info(9, 9, 9, 9, many)), kSnapshotMetaMaxBytes);
}

TEST(SnapshotMeta, DecodeReplacesEarlierContents) {
  SnapshotInfo out = info(5, 5, 5, 5, {10, 20, 30, 40, 50});
  ASSERT_TRUE(decode(encode(info(8, 2, 0, 0, {4})), out));
  expect_equal(info(8, 2, 0, 0, {4}), out);
}

TEST(SnapshotMeta, EveryTruncationIsRejected) {
  const Bytes b = encode(sample());
  for (std::size_t n = 0; n < b.size(); ++n) {
    const Bytes prefix(b.begin(), b.begin() + n);  // exact-size heap copy: ASan sees overreads
    SnapshotInfo out;
    EXPECT_FALSE(decode_snapshot_meta(prefix.data(), n, out)) << n;
  }
  SnapshotInfo out;
  EXPECT_FALSE(decode_snapshot_meta(nullptr, 0, out));
  EXPECT_FALSE(decode_snapshot_meta(nullptr, b.size(), out));
}

TEST(SnapshotMeta, TrailingBytesAreRejected) {
  Bytes b = encode(sample());
  b.push_back(0);
  SnapshotInfo out;
  EXPECT_FALSE(decode(b, out));
  b.resize(b.size() + 7);  // a whole voter's worth of extra bytes
  EXPECT_FALSE(decode(b, out));
}

TEST(SnapshotMeta, EverySingleBitFlipIsRejected) {
  const Bytes b = encode(sample());
  for (std::size_t bit = 0; bit < b.size() * 8; ++bit) {
    Bytes g = b;
    g[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    SnapshotInfo out;
    EXPECT_FALSE(decode(g, out)) << "bit " << bit;
  }
}

// With the CRC fixed up after every edit, whatever decodes is canonical.
TEST(SnapshotMeta, AcceptedMetasAreCanonicalUnderResealedByteEdits) {
  const Bytes b = encode(sample());
  int accepted = 0;
  for (std::size_t i = 0; i + 4 < b.size(); ++i) {
    for (std::uint8_t v : {0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF}) {
      Bytes g = b;
      g[i] = v;
      reseal(g);
      SnapshotInfo out;
      if (decode(g, out)) {
        ++accepted;
        EXPECT_EQ(encode(out), g) << "byte " << i << " = " << int{v};
      }
    }
  }
  EXPECT_GT(accepted, 0);  // size/crc/index edits are legal: the loop did test something
}

TEST(SnapshotMeta, ResealedBadHeaderFieldsAreRejected) {
  const Bytes b = encode(sample());
  struct Edit {
    std::size_t offset;
    std::uint8_t value;
  };
  const std::vector<Edit> edits = {
      {0, 'X'},                 // magic
      {4, 0},                   // version
      {4, 2},                   // version
      {kOffReserved, 1},        // reserved
      {kOffReserved + 2, 0x80}  // reserved
  };
  for (const Edit& e : edits) {
    Bytes g = b;
    g[e.offset] = e.value;
    reseal(g);
    SnapshotInfo out;
    EXPECT_FALSE(decode(g, out)) << e.offset << " = " << int{e.value};
  }
}

TEST(SnapshotMeta, ZeroIndexOrTermIsRejected) {
  SnapshotInfo out;
  EXPECT_FALSE(decode(encode(info(0, 11, 5, 5, {1})), out));
  EXPECT_FALSE(decode(encode(info(600, 0, 5, 5, {1})), out));
}

TEST(SnapshotMeta, VotersMustBeNonzeroAscendingDistinctAndPresent) {
  const std::vector<std::vector<NodeId>> bad = {{},     {0},       {0, 1},    {2, 1},
                                                {1, 1}, {1, 3, 2}, {1, 2, 2}, {5, kMax64, 6}};
  for (const auto& voters : bad) {
    SnapshotInfo out;
    EXPECT_FALSE(decode(encode(info(600, 11, 5, 5, voters)), out)) << voters.size();
  }
}

TEST(SnapshotMeta, VoterCountMustBeBoundedAndMatchTheLength) {
  std::vector<NodeId> too_many(kSnapshotMetaMaxVoters + 1);
  for (std::size_t i = 0; i < too_many.size(); ++i) too_many[i] = i + 1;
  SnapshotInfo out;
  EXPECT_FALSE(decode(encode(info(600, 11, 5, 5, too_many)), out));
  EXPECT_EQ(out.voters.capacity(), 0u);

  const Bytes b = encode(sample());  // three voters
  for (std::uint32_t n : {0u, 1u, 2u, 4u, 1024u, 1025u, 0xFFFFFFFFu}) {
    Bytes g = b;
    le::store32(g.data() + kOffCount, n);
    reseal(g);
    EXPECT_FALSE(decode(g, out)) << n;
    EXPECT_EQ(out.voters.capacity(), 0u);  // nothing allocated for the claim
  }
}

// A rejected meta leaves `out` as it was: callers may decode into the info
// they currently trust.
TEST(SnapshotMeta, RejectionLeavesTheOutputUntouched) {
  Bytes g = encode(info(600, 11, 5, 5, {1, 2}));
  le::store64(g.data() + kOffVoters + 8, 1);  // duplicate voter
  reseal(g);
  SnapshotInfo out = sample();
  EXPECT_FALSE(decode(g, out));
  expect_equal(sample(), out);
}

}  // namespace
}  // namespace raft::wire
