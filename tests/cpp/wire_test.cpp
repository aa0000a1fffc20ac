// Wire format: CRC32C vectors and paths, round trips, and hostile input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "wire/codec.hpp"
#include "wire/crc32c.hpp"
#include "wire/le.hpp"
#include "wire/snapshot_meta.hpp"

namespace raft::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kCluster = 0x0123456789ABCDEFull;
constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::size_t kMaxFrame = 64u << 20;

// ---------------------------------------------------------------- CRC32C

struct CrcVector {
  Bytes data;
  std::uint32_t crc;
};

// RFC 3720 appendix B.4 plus the common "123456789" check value.
std::vector<CrcVector> crc_vectors() {
  std::vector<CrcVector> v;
  v.push_back({Bytes(32, 0x00), 0x8A9136AAu});
  v.push_back({Bytes(32, 0xFF), 0x62A8AB43u});
  Bytes inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<std::uint8_t>(i);
    dec[i] = static_cast<std::uint8_t>(31 - i);
  }
  v.push_back({inc, 0x46DD794Eu});
  v.push_back({dec, 0x113FDB5Cu});
  const Bytes iscsi_read = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                            0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
                            0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
                            0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  v.push_back({iscsi_read, 0xD9963A56u});
  const std::string digits = "123456789";
  v.push_back({Bytes(digits.begin(), digits.end()), 0xE3069283u});
  v.push_back({Bytes(), 0u});
  return v;
}

Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

TEST(Crc32c, PortableMatchesRfc3720Vectors) {
  for (const auto& v : crc_vectors()) {
    EXPECT_EQ(crc32c_portable(v.data.data(), v.data.size()), v.crc) << v.data.size();
  }
}

TEST(Crc32c, DispatchedMatchesRfc3720Vectors) {
  for (const auto& v : crc_vectors()) EXPECT_EQ(crc32c(v.data.data(), v.data.size()), v.crc);
}

TEST(Crc32c, HardwareMatchesRfc3720Vectors) {
  if (!crc32c_hw_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  for (const auto& v : crc_vectors()) EXPECT_EQ(crc32c_hw(v.data.data(), v.data.size()), v.crc);
}

// Lengths around the hardware path's 3 x 256-byte stride and odd alignments.
TEST(Crc32c, HardwareAgreesWithPortableOnRandomBuffers) {
  if (!crc32c_hw_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(1);
  const Bytes buf = random_bytes(rng, 200000);
  std::vector<std::size_t> lengths = {0, 1, 7, 8, 9, 767, 768, 769, 1536, 2311, 199993};
  for (int i = 0; i < 300; ++i) lengths.push_back(rng() % 5000);
  for (std::size_t len : lengths) {
    const std::size_t off = rng() % 8;
    const std::uint32_t seed = static_cast<std::uint32_t>(rng());
    ASSERT_EQ(crc32c_hw(buf.data() + off, len, seed), crc32c_portable(buf.data() + off, len, seed))
        << "len " << len << " off " << off;
  }
}

TEST(Crc32c, SeedChainsAcrossSplits) {
  std::mt19937_64 rng(2);
  const Bytes buf = random_bytes(rng, 3000);
  const std::uint32_t whole = crc32c(buf.data(), buf.size());
  for (std::size_t cut : {0, 1, 5, 800, 1999, 3000}) {
    const std::uint32_t a = crc32c(buf.data(), cut);
    EXPECT_EQ(crc32c(buf.data() + cut, buf.size() - cut, a), whole) << cut;
    EXPECT_EQ(crc32c_portable(buf.data() + cut, buf.size() - cut, a), whole) << cut;
  }
}

TEST(Crc32c, CombineEqualsCrcOfConcatenation) {
  std::mt19937_64 rng(3);
  const Bytes buf = random_bytes(rng, 5000);
  for (std::size_t cut : {0, 1, 63, 1000, 4999, 5000}) {
    const std::uint32_t a = crc32c(buf.data(), cut);
    const std::uint32_t b = crc32c(buf.data() + cut, buf.size() - cut);
    EXPECT_EQ(crc32c_combine(a, b, buf.size() - cut), crc32c(buf.data(), buf.size())) << cut;
  }
}

TEST(Crc32c, ZerosEqualsFeedingZeroBytes) {
  const Bytes zero(1000, 0);
  for (std::size_t n : {0, 1, 8, 999}) {
    // ~crc32c(x, n, ~r) is the raw register r after the bytes x.
    const std::uint32_t reg = 0xDEADBEEFu;
    EXPECT_EQ(crc32c_zeros(reg, n), ~crc32c(zero.data(), n, ~reg)) << n;
  }
}

// ---------------------------------------------------------------- helpers

// Owns the payloads that a Message's entries point into.
struct Batch {
  std::vector<Bytes> payloads;
  Message msg;
};

Message request_vote(NodeId from, NodeId to, Term term, Index lli, Term llt, bool pre) {
  Message m;
  m.type = MsgType::kRequestVote;
  m.from = from;
  m.to = to;
  m.term = term;
  m.last_log_index = lli;
  m.last_log_term = llt;
  m.pre_vote = pre;
  return m;
}

Message vote_response(NodeId from, NodeId to, Term term, bool granted, bool pre) {
  Message m;
  m.type = MsgType::kRequestVoteResponse;
  m.from = from;
  m.to = to;
  m.term = term;
  m.granted = granted;
  m.pre_vote = pre;
  return m;
}

Message append_response(NodeId from, NodeId to, Term term, bool success, Index match, Index reject,
                        Index hint_index, Term hint_term) {
  Message m;
  m.type = MsgType::kAppendEntriesResponse;
  m.from = from;
  m.to = to;
  m.term = term;
  m.success = success;
  m.match_index = match;
  m.reject_index = reject;
  m.hint_index = hint_index;
  m.hint_term = hint_term;
  return m;
}

// Owns the chunk that an InstallSnapshot points into.
struct Chunk {
  Bytes bytes;
  Message msg;
};

SnapshotInfo snapshot_info(Index index, Term term, std::uint64_t size,
                           std::vector<NodeId> voters = {1, 2, 3}) {
  SnapshotInfo s;
  s.index = index;
  s.term = term;
  s.size = size;
  s.crc = 0xC0FFEE00u ^ static_cast<std::uint32_t>(size);
  s.voters = std::move(voters);
  return s;
}

// An InstallSnapshot carrying bytes [offset, offset + len) of a snapshot of
// `size` bytes (chunk contents derived from the offset).
Chunk install_snapshot(std::uint64_t offset, std::size_t len, std::uint64_t size = 1000,
                       std::vector<NodeId> voters = {1, 2, 3}) {
  Chunk c;
  c.bytes.resize(len);
  for (std::size_t i = 0; i < len; ++i) c.bytes[i] = static_cast<std::uint8_t>(offset + i * 7);
  c.msg.type = MsgType::kInstallSnapshot;
  c.msg.from = 1;
  c.msg.to = 3;
  c.msg.term = 12;
  c.msg.commit = 640;
  c.msg.snapshot = snapshot_info(600, 11, size, std::move(voters));
  c.msg.offset = offset;
  c.msg.chunk = len == 0 ? nullptr : c.bytes.data();
  c.msg.chunk_len = len;
  return c;
}

Message install_response(NodeId from, NodeId to, Term term, Index snapshot_index,
                         std::uint64_t offset, Index match, bool success, bool rewind) {
  Message m;
  m.type = MsgType::kInstallSnapshotResponse;
  m.from = from;
  m.to = to;
  m.term = term;
  m.snapshot.index = snapshot_index;
  m.offset = offset;
  m.match_index = match;
  m.success = success;
  m.rewind = rewind;
  return m;
}

// An AppendEntries whose i-th entry has sizes[i] payload bytes.
Batch append_entries(const std::vector<std::size_t>& sizes, std::uint64_t fill = 7) {
  Batch b;
  b.msg.type = MsgType::kAppendEntries;
  b.msg.from = 1;
  b.msg.to = 2;
  b.msg.term = 9;
  b.msg.prev_log_index = 100;
  b.msg.prev_log_term = 8;
  b.msg.commit = 99;
  b.payloads.reserve(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    Bytes p(sizes[i]);
    for (std::size_t j = 0; j < p.size(); ++j) p[j] = static_cast<std::uint8_t>(fill + i * 31 + j);
    b.payloads.push_back(std::move(p));
    EntryView e;
    e.term = 9 - (i % 3);
    e.type = (i % 5 == 4) ? EntryType::kNoop : EntryType::kCommand;
    e.id = 1000 + i;
    e.data = b.payloads.back().empty() ? nullptr : b.payloads.back().data();
    e.len = b.payloads.back().size();
    b.msg.entries.push_back(e);
  }
  return b;
}

Bytes encode_one(const Message& m, std::uint64_t cluster = kCluster) {
  Bytes out;
  encode(m, cluster, out);
  return out;
}

DecodeError decode_all(const Bytes& f, Message& out, std::uint64_t cluster = kCluster,
                       std::size_t max = kMaxFrame) {
  return decode(f.data(), f.size(), cluster, max, out);
}

// Recomputes the checksum after a test edits a frame, so the edit reaches the
// field checks instead of stopping at kBadChecksum.
void reseal(Bytes& f) {
  const std::size_t covered = f.size() - kChecksumBytes;
  le::store32(f.data() + covered, crc32c(f.data(), covered));
}

void set_body_len(Bytes& f, std::uint32_t n) { le::store32(f.data() + kOffBodyLen, n); }

void expect_same(const Message& a, const Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.last_log_index, b.last_log_index);
  EXPECT_EQ(a.last_log_term, b.last_log_term);
  EXPECT_EQ(a.pre_vote, b.pre_vote);
  EXPECT_EQ(a.granted, b.granted);
  EXPECT_EQ(a.prev_log_index, b.prev_log_index);
  EXPECT_EQ(a.prev_log_term, b.prev_log_term);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.success, b.success);
  EXPECT_EQ(a.match_index, b.match_index);
  EXPECT_EQ(a.reject_index, b.reject_index);
  EXPECT_EQ(a.hint_index, b.hint_index);
  EXPECT_EQ(a.hint_term, b.hint_term);
  EXPECT_EQ(a.snapshot.index, b.snapshot.index);
  EXPECT_EQ(a.snapshot.term, b.snapshot.term);
  EXPECT_EQ(a.snapshot.size, b.snapshot.size);
  EXPECT_EQ(a.snapshot.crc, b.snapshot.crc);
  EXPECT_EQ(a.snapshot.voters, b.snapshot.voters);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.rewind, b.rewind);
  ASSERT_EQ(a.chunk_len, b.chunk_len);
  if (a.chunk_len != 0) {
    EXPECT_EQ(std::memcmp(a.chunk, b.chunk, a.chunk_len), 0);
  }
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const EntryView& x = a.entries[i];
    const EntryView& y = b.entries[i];
    EXPECT_EQ(x.term, y.term) << i;
    EXPECT_EQ(x.type, y.type) << i;
    EXPECT_EQ(x.id, y.id) << i;
    ASSERT_EQ(x.len, y.len) << i;
    if (x.len != 0) {
      EXPECT_EQ(std::memcmp(x.data, y.data, x.len), 0) << i;
    }
  }
}

void expect_round_trip(const Message& m) {
  SCOPED_TRACE(static_cast<int>(m.type));
  const Bytes f = encode_one(m);
  ASSERT_EQ(f.size(), encoded_size(m));
  Message back;
  ASSERT_EQ(decode_all(f, back), DecodeError::kOk);
  expect_same(m, back);
  for (const EntryView& e : back.entries) {  // views into the frame, not copies
    EXPECT_GE(e.data, f.data());
    EXPECT_LE(e.data + e.len, f.data() + f.size());
  }
  if (back.chunk_len != 0) {
    EXPECT_GE(back.chunk, f.data());
    EXPECT_LE(back.chunk + back.chunk_len, f.data() + f.size());
  } else {
    EXPECT_EQ(back.chunk, nullptr);
  }
  EXPECT_EQ(encode_one(back), f);  // canonical
}

// One small valid frame of every type, for the exhaustive corruption tests.
std::vector<Bytes> sample_frames() {
  std::vector<Bytes> frames;
  frames.push_back(encode_one(request_vote(3, 1, 7, 42, 6, true)));
  frames.push_back(encode_one(vote_response(1, 3, 7, true, false)));
  frames.push_back(encode_one(append_entries({}).msg));
  const Batch b = append_entries({5, 0, 17});
  frames.push_back(encode_one(b.msg));
  frames.push_back(encode_one(append_response(2, 1, 9, false, 0, 100, 90, 8)));
  frames.push_back(encode_one(install_snapshot(200, 37).msg));
  frames.push_back(encode_one(install_snapshot(0, 0, 0, {5}).msg));
  frames.push_back(encode_one(install_response(3, 1, 12, 600, 237, 0, false, true)));
  return frames;
}

// ---------------------------------------------------------------- round trips

TEST(WireRoundTrip, RequestVoteEdgeValues) {
  expect_round_trip(request_vote(1, 1, 0, 0, 0, false));
  expect_round_trip(request_vote(kMax64, kMax64, kMax64, kMax64, kMax64, true));
  expect_round_trip(request_vote(5, 9, 3, 0, kMax64, true));
}

TEST(WireRoundTrip, RequestVoteResponseEdgeValues) {
  expect_round_trip(vote_response(1, 2, 0, false, false));
  expect_round_trip(vote_response(kMax64, kMax64, kMax64, true, true));
  expect_round_trip(vote_response(2, 1, 5, true, false));
  expect_round_trip(vote_response(2, 1, 5, false, true));
}

TEST(WireRoundTrip, AppendEntriesResponseEdgeValues) {
  expect_round_trip(append_response(1, 2, 0, false, 0, 0, 0, 0));
  expect_round_trip(append_response(kMax64, kMax64, kMax64, true, kMax64, kMax64, kMax64, kMax64));
  expect_round_trip(append_response(2, 1, 4, false, 0, 77, 50, 3));
}

TEST(WireRoundTrip, AppendEntriesHeartbeatAndEdgeValues) {
  Batch b = append_entries({});
  expect_round_trip(b.msg);  // heartbeat: no entries
  b.msg.from = b.msg.to = b.msg.term = kMax64;
  b.msg.prev_log_index = b.msg.prev_log_term = b.msg.commit = kMax64;
  expect_round_trip(b.msg);
  b.msg.term = b.msg.prev_log_index = b.msg.prev_log_term = b.msg.commit = 0;
  expect_round_trip(b.msg);
}

TEST(WireRoundTrip, AppendEntriesEntryEdgeValues) {
  Batch b = append_entries({0, 1, 0, 3});
  b.msg.entries[0].term = kMax64;
  b.msg.entries[0].id = kMax64;
  b.msg.entries[1].term = 0;
  b.msg.entries[1].id = 0;
  b.msg.entries[2].type = EntryType::kNoop;
  expect_round_trip(b.msg);
}

TEST(WireRoundTrip, AppendEntriesManyEntries) {
  std::vector<std::size_t> sizes(10000);
  for (std::size_t i = 0; i < sizes.size(); ++i) sizes[i] = i % 97;
  expect_round_trip(append_entries(sizes).msg);
}

TEST(WireRoundTrip, AppendEntriesLargePayload) {
  expect_round_trip(append_entries({3u << 20, 1, (1u << 20) + 5}).msg);
}

TEST(WireRoundTrip, RandomMessages) {
  std::mt19937_64 rng(4);
  auto any = [&rng] { return (rng() % 4 == 0) ? rng() % 3 : rng(); };  // zeros are common
  for (int i = 0; i < 300; ++i) {
    std::vector<std::size_t> sizes(rng() % 20);
    for (auto& s : sizes) s = rng() % 300;
    Batch b = append_entries(sizes, rng());
    Message m = b.msg;
    m.from = any() | 1;
    m.to = any() | 2;
    m.term = any();
    const Chunk c = install_snapshot(rng() % 100, rng() % 100, 200 + rng() % 3);
    switch (rng() % 6) {
      case 0:
        m = request_vote(m.from, m.to, m.term, any(), any(), rng() & 1);
        break;
      case 1:
        m = vote_response(m.from, m.to, m.term, rng() & 1, rng() & 1);
        break;
      case 2:
        m.prev_log_index = any();
        m.commit = any();
        break;
      case 3:
        m = append_response(m.from, m.to, m.term, rng() & 1, any(), any(), any(), any());
        break;
      case 4: {
        const Message addressed = m;
        m = c.msg;
        m.from = addressed.from;
        m.to = addressed.to;
        m.term = addressed.term;
        m.commit = any();
        m.snapshot.index = any() | 1;
        m.snapshot.term = any() | 4;
        m.snapshot.crc = static_cast<std::uint32_t>(rng());
        break;
      }
      default:
        m = install_response(m.from, m.to, m.term, any(), any(), any(), rng() & 1, rng() & 1);
    }
    expect_round_trip(m);
  }
}

TEST(WireEncode, EncodedSizeIsExactlyWhatIsAppendedAfterExistingBytes) {
  Batch b = append_entries({4, 0, 100});
  const Chunk c = install_snapshot(10, 90, 1000, {4, 9});
  const std::vector<Message> msgs = {request_vote(1, 2, 3, 4, 5, true),
                                     vote_response(2, 1, 3, true, true),
                                     b.msg,
                                     append_response(2, 1, 3, true, 4, 0, 0, 0),
                                     c.msg,
                                     install_response(3, 1, 2, 5, 6, 7, true, false)};
  Bytes out = {0xAA, 0xBB, 0xCC};
  for (const Message& m : msgs) {
    const std::size_t before = out.size();
    encode(m, kCluster, out);
    EXPECT_EQ(out.size() - before, encoded_size(m));
  }
  EXPECT_EQ(out[0], 0xAA);  // earlier bytes untouched
  EXPECT_EQ(out[2], 0xCC);
  EXPECT_EQ(encoded_size(msgs[0]), kFrameOverhead + kRequestVoteBodyBytes);
  EXPECT_EQ(encoded_size(msgs[1]), kFrameOverhead + kRequestVoteResponseBodyBytes);
  EXPECT_EQ(encoded_size(msgs[2]),
            kFrameOverhead + kAppendEntriesFixedBytes + 3 * kEntryHeaderBytes + 104);
  EXPECT_EQ(encoded_size(msgs[3]), kFrameOverhead + kAppendEntriesResponseBodyBytes);
  EXPECT_EQ(encoded_size(msgs[4]),
            kFrameOverhead + kInstallSnapshotFixedBytes + kSnapshotMetaFixedBytes + 2 * 8 + 90);
  EXPECT_EQ(encoded_size(msgs[5]), kFrameOverhead + kInstallSnapshotResponseBodyBytes);
}

TEST(WireEncode, HeaderBytesMatchTheDocumentedLayout) {
  const Bytes f = encode_one(request_vote(0x1122, 0x3344, 0x55, 1, 2, true), 0xA1B2C3D4E5F60718);
  ASSERT_EQ(f.size(), 65u);
  EXPECT_EQ(std::string(f.begin(), f.begin() + 4), "LRFT");
  EXPECT_EQ(f[kOffVersion], 1);
  EXPECT_EQ(f[kOffType], 1);
  EXPECT_EQ(le::load16(f.data() + kOffFlags), 0);
  EXPECT_EQ(le::load32(f.data() + kOffBodyLen), 17u);
  EXPECT_EQ(f[kOffClusterId], 0x18);  // little-endian
  EXPECT_EQ(le::load64(f.data() + kOffClusterId), 0xA1B2C3D4E5F60718u);
  EXPECT_EQ(le::load64(f.data() + kOffFrom), 0x1122u);
  EXPECT_EQ(le::load64(f.data() + kOffTo), 0x3344u);
  EXPECT_EQ(le::load64(f.data() + kOffTerm), 0x55u);
  EXPECT_EQ(le::load64(f.data() + 44), 1u);
  EXPECT_EQ(le::load64(f.data() + 52), 2u);
  EXPECT_EQ(f[60], 1);
  EXPECT_EQ(le::load32(f.data() + 61), crc32c(f.data(), 61));
}

TEST(WireEncode, FieldsOfOtherTypesAreNotSentAndDecodeAsZero) {
  Message m = vote_response(2, 1, 5, true, true);
  m.last_log_index = m.commit = m.match_index = m.hint_term = 77;
  m.success = true;
  m.snapshot = snapshot_info(5, 4, 3);
  m.offset = 2;
  m.rewind = true;
  Message back = append_response(9, 9, 9, true, 9, 9, 9, 9);  // stale contents to be cleared
  ASSERT_EQ(decode_all(encode_one(m), back), DecodeError::kOk);
  expect_same(vote_response(2, 1, 5, true, true), back);
}

// Every new Message field is reset by a decode of any type, not only by one
// of the type that uses it.
TEST(WireDecode, SnapshotFieldsFromAnEarlierFrameAreCleared) {
  const Chunk c = install_snapshot(100, 50);
  Message out;
  ASSERT_EQ(decode_all(encode_one(c.msg), out), DecodeError::kOk);
  ASSERT_EQ(out.snapshot.voters.size(), 3u);
  ASSERT_EQ(decode_all(encode_one(append_response(2, 1, 3, true, 4, 0, 0, 0)), out),
            DecodeError::kOk);
  expect_same(append_response(2, 1, 3, true, 4, 0, 0, 0), out);
  EXPECT_EQ(out.chunk, nullptr);
  EXPECT_TRUE(out.snapshot.voters.empty());

  ASSERT_EQ(decode_all(encode_one(c.msg), out), DecodeError::kOk);
  ASSERT_EQ(decode_all(encode_one(install_response(3, 1, 12, 600, 5, 0, false, true)), out),
            DecodeError::kOk);
  expect_same(install_response(3, 1, 12, 600, 5, 0, false, true), out);
  EXPECT_EQ(out.snapshot.term, 0u);
  EXPECT_TRUE(out.snapshot.voters.empty());
  EXPECT_EQ(out.commit, 0u);
}

TEST(WireEncode, InstallSnapshotResponseCarriesOnlyTheSnapshotIndex) {
  Message m = install_response(3, 1, 12, 600, 237, 0, true, false);
  m.snapshot = snapshot_info(600, 11, 1000);
  Message back;
  ASSERT_EQ(decode_all(encode_one(m), back), DecodeError::kOk);
  expect_same(install_response(3, 1, 12, 600, 237, 0, true, false), back);
}

// A type value the codec does not know yields a header-only frame that every
// decoder refuses, rather than garbage that might parse.
TEST(WireEncode, UnknownTypeValueEncodesToARejectedFrame) {
  Message m = request_vote(1, 2, 3, 4, 5, true);
  m.type = static_cast<MsgType>(9);
  const Bytes f = encode_one(m);
  EXPECT_EQ(f.size(), kFrameOverhead);
  EXPECT_EQ(f.size(), encoded_size(m));
  Message out;
  EXPECT_EQ(decode_all(f, out), DecodeError::kBadType);
}

// Below 8 KiB the checksum is computed again, above it patched: both paths.
TEST(WireEncode, RetargetEqualsEncodingForTheOtherPeer) {
  Batch b = append_entries({64, 0, 5000, 3});
  Batch big = append_entries({64, 0, 20000, 3, 9000});
  const Chunk c = install_snapshot(0, 300);
  ASSERT_LT(encode_one(b.msg).size(), 8192u);
  ASSERT_GT(encode_one(big.msg).size(), 8192u);
  for (const Message& m : {b.msg, big.msg, request_vote(1, 2, 3, 4, 5, false), c.msg}) {
    Message to3 = m;
    to3.to = 3;
    Bytes f = encode_one(m);
    retarget(f.data(), f.size(), 3);
    EXPECT_EQ(f, encode_one(to3));
    retarget(f.data(), f.size(), kMax64);
    to3.to = kMax64;
    EXPECT_EQ(f, encode_one(to3));
  }
}

// ---------------------------------------------------------------- piecewise AppendEntries

// A frame built the way a leader builds one from its log: the header from a
// message that carries no entries (count and payload come separately), then
// each entry, then the checksum.  The buffer starts out neither zero nor
// the encoder's bytes, so a byte the pieces leave unwritten shows.
Bytes encode_piecewise(const Message& m, std::uint64_t cluster = kCluster) {
  std::size_t payload = 0;
  for (const EntryView& e : m.entries) payload += e.len;
  const std::size_t len = append_entries_frame_size(m.entries.size(), payload);
  Bytes frame(len, 0xA5);
  Message header = m;
  header.entries.clear();
  std::uint8_t* p = begin_append_entries(header, cluster, m.entries.size(), payload, frame.data());
  for (const EntryView& e : m.entries) p = put_entry(p, e.term, e.type, e.id, e.data, e.len);
  EXPECT_EQ(p, frame.data() + len - kChecksumBytes) << "the entries end where the checksum starts";
  seal(frame.data(), len);
  return frame;
}

// Where two frames first differ (the shorter one's size if one is a prefix,
// a.size() if they are equal): a readable failure instead of two dumps.
std::size_t first_difference(const Bytes& a, const Bytes& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return i;
  return n;
}

// A random AppendEntries: none to a few hundred entries, mostly of 0..300
// bytes and now and then a larger one, with random terms, ids, types and
// positions (zeros are common; from and to are never zero, which decode
// refuses).
Batch random_append_entries(std::mt19937_64& rng) {
  auto any = [&rng] { return (rng() % 4 == 0) ? rng() % 3 : rng(); };
  std::vector<std::size_t> sizes(rng() % 5 == 0 ? rng() % 3 : rng() % 400);
  for (auto& s : sizes) s = rng() % 50 == 0 ? 301 + rng() % 70000 : rng() % 301;
  Batch b = append_entries(sizes, rng());
  b.msg.from = any() | 1;
  b.msg.to = any() | 2;
  b.msg.term = any();
  b.msg.prev_log_index = any();
  b.msg.prev_log_term = any();
  b.msg.commit = any();
  for (EntryView& e : b.msg.entries) {
    e.term = any();
    e.id = any();
    e.type = rng() % 3 == 0 ? EntryType::kNoop : EntryType::kCommand;
  }
  return b;
}

TEST(WireEncode, PiecewiseAppendEntriesEqualsEncode) {
  constexpr std::uint64_t kSeed = 0xF4A3E5;
  std::mt19937_64 rng(kSeed);
  for (int i = 0; i < 300; ++i) {
    SCOPED_TRACE("seed " + std::to_string(kSeed) + " iteration " + std::to_string(i));
    const Batch b = random_append_entries(rng);
    const Message& m = b.msg;
    const std::uint64_t cluster = i % 7 == 0 ? kCluster : rng();
    const Bytes piecewise = encode_piecewise(m, cluster);
    Bytes whole;
    encode(m, cluster, whole);
    ASSERT_EQ(piecewise.size(), encoded_size(m)) << m.entries.size() << " entries";
    ASSERT_EQ(piecewise.size(), whole.size());
    ASSERT_EQ(first_difference(piecewise, whole), whole.size())
        << "frames differ; " << m.entries.size() << " entries";
    Message back;
    ASSERT_EQ(decode_all(piecewise, back, cluster), DecodeError::kOk);
    expect_same(m, back);
  }
}

// seal() covers the payloads: a byte flipped after it is caught, wherever it
// sits, and sealing again makes the frame acceptable with the new byte.
TEST(WireEncode, PiecewiseFrameWithAFlippedPayloadByteIsBadChecksum) {
  const Batch b = append_entries({5, 0, 17, 1});
  const Bytes f = encode_piecewise(b.msg);
  Message out;
  ASSERT_EQ(decode_all(f, out), DecodeError::kOk);
  std::size_t at = kHeaderBytes + kAppendEntriesFixedBytes;
  std::size_t flipped = 0;
  for (const EntryView& e : b.msg.entries) {
    at += kEntryHeaderBytes;
    for (std::size_t j = 0; j < e.len; ++j, ++at, ++flipped) {
      SCOPED_TRACE("payload byte at " + std::to_string(at));
      Bytes g = f;
      ASSERT_EQ(g[at], e.data[j]);
      g[at] ^= 0x10;
      Message rejected = out;  // holds views from the good frame
      EXPECT_EQ(decode_all(g, rejected), DecodeError::kBadChecksum);
      EXPECT_TRUE(rejected.entries.empty());
      seal(g.data(), g.size());
      ASSERT_EQ(decode_all(g, rejected), DecodeError::kOk);
      EXPECT_EQ(rejected.entries.size(), b.msg.entries.size());
    }
  }
  EXPECT_EQ(flipped, 23u);
  EXPECT_EQ(at, f.size() - kChecksumBytes);
}

// What a leader does: size a batch with batch_extent, write it from the log
// with visit_with_terms and put_entry, and seal it.  The frame must be the
// one encode() makes of the same entries as views (collect), and decode back
// to them.
TEST(WireEncode, BatchStraightFromTheLogEqualsEncodingItsViews) {
  constexpr std::uint64_t kSeed = 0x1E4D;
  std::mt19937_64 rng(kSeed);
  core::Log log;
  Term term = 3;
  for (std::uint64_t id = 1; id <= 6000; ++id) {
    if (rng() % 40 == 0) ++term;
    Bytes p(rng() % 60 == 0 ? 5000 + rng() % 3000 : rng() % 8 == 0 ? 0 : rng() % 300);
    for (auto& x : p) x = static_cast<std::uint8_t>(rng());
    log.append(term, rng() % 10 == 0 ? EntryType::kNoop : EntryType::kCommand, id, p.data(),
               p.size());
  }
  log.compact(777);  // the first entry held starts mid-chunk
  for (int i = 0; i < 60; ++i) {
    SCOPED_TRACE("seed " + std::to_string(kSeed) + " iteration " + std::to_string(i));
    const Index from = log.base_index() + 1 + rng() % (log.last_index() - log.base_index());
    const std::size_t max_bytes = i % 5 == 0 ? 0 : rng() % 300000;
    std::size_t payload = 0;
    const std::size_t count = log.batch_extent(from, max_bytes, &payload);
    ASSERT_GE(count, 1u);
    Message m;
    m.type = MsgType::kAppendEntries;
    m.from = 1;
    m.to = 2;
    m.term = term;
    m.prev_log_index = from - 1;
    m.prev_log_term = log.term_at(from - 1);
    m.commit = rng() % log.last_index();
    const std::size_t len = append_entries_frame_size(count, payload);
    Bytes frame(len, 0x5A);
    std::uint8_t* p = begin_append_entries(m, kCluster, count, payload, frame.data());
    log.visit_with_terms(
        from, from + count - 1,
        [&p](Term t, std::uint64_t id, bool noop, const std::uint8_t* data, std::size_t n) {
          p = put_entry(p, t, noop ? EntryType::kNoop : EntryType::kCommand, id, data, n);
        });
    ASSERT_EQ(p, frame.data() + len - kChecksumBytes) << count << " entries";
    seal(frame.data(), len);

    Message with_views = m;
    log.collect(from, count, with_views.entries);
    const Bytes want = encode_one(with_views);
    ASSERT_EQ(frame.size(), want.size());
    ASSERT_EQ(first_difference(frame, want), want.size()) << "from " << from << ", " << count;
    Message back;
    ASSERT_EQ(decode_all(frame, back), DecodeError::kOk);
    expect_same(with_views, back);
  }
}

// ---------------------------------------------------------------- hostile input

TEST(WireDecode, EveryTruncationIsRejected) {
  for (const Bytes& f : sample_frames()) {
    for (std::size_t n = 0; n < f.size(); ++n) {
      const Bytes prefix(f.begin(), f.begin() + n);  // exact-size heap copy: ASan sees overreads
      Message out;
      const DecodeError err = decode(prefix.data(), n, kCluster, kMaxFrame, out);
      EXPECT_EQ(err, DecodeError::kTruncated) << "len " << n << " of " << f.size();
    }
  }
}

TEST(WireDecode, TrailingBytesAreRejected) {
  for (Bytes f : sample_frames()) {
    f.push_back(0);
    Message out;
    EXPECT_EQ(decode_all(f, out), DecodeError::kBadLength);
  }
}

TEST(WireDecode, EverySingleBitFlipIsRejected) {
  for (const Bytes& f : sample_frames()) {
    Message original;
    ASSERT_EQ(decode_all(f, original), DecodeError::kOk);
    for (std::size_t bit = 0; bit < f.size() * 8; ++bit) {
      Bytes g = f;
      g[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      Message out;
      EXPECT_NE(decode_all(g, out), DecodeError::kOk) << "bit " << bit << " of " << f.size();
      EXPECT_TRUE(out.entries.empty());
    }
  }
}

// With the checksum fixed up after each edit, any frame the decoder accepts
// must be canonical: it re-encodes to exactly the same bytes.
TEST(WireDecode, AcceptedFramesAreCanonicalUnderResealedByteEdits) {
  for (const Bytes& f : sample_frames()) {
    for (std::size_t i = 0; i + kChecksumBytes < f.size(); ++i) {
      for (std::uint8_t v : {0x00, 0x01, 0x02, 0x7F, 0x80, 0xFF}) {
        Bytes g = f;
        g[i] = v;
        reseal(g);
        Message out;
        if (decode_all(g, out) == DecodeError::kOk) {
          EXPECT_EQ(encode_one(out), g) << "byte " << i << " = " << int{v};
        }
      }
    }
  }
}

TEST(WireDecode, WrongClusterIdIsRejected) {
  const Bytes f = encode_one(request_vote(1, 2, 3, 4, 5, false), kCluster);
  Message out;
  EXPECT_EQ(decode_all(f, out, kCluster + 1), DecodeError::kClusterMismatch);
  EXPECT_EQ(decode_all(f, out, 0), DecodeError::kClusterMismatch);
  EXPECT_EQ(decode_all(f, out, kCluster), DecodeError::kOk);
}

TEST(WireDecode, BadMagicAndVersionAreRejectedEvenWithAValidChecksum) {
  for (Bytes f : sample_frames()) {
    Bytes magic = f;
    magic[0] = 'X';
    reseal(magic);
    Message out;
    EXPECT_EQ(decode_all(magic, out), DecodeError::kBadMagic);
    for (std::uint8_t version : {0, 2, 255}) {
      Bytes g = f;
      g[kOffVersion] = version;
      reseal(g);
      EXPECT_EQ(decode_all(g, out), DecodeError::kBadVersion) << int{version};
    }
  }
}

TEST(WireDecode, UnknownMessageTypeIsBadType) {
  const Bytes f = encode_one(vote_response(1, 2, 3, true, false));
  for (std::uint8_t type : {0, 7, 8, 200, 255}) {
    Bytes g = f;
    g[kOffType] = type;
    reseal(g);
    Message out;
    EXPECT_EQ(decode_all(g, out), DecodeError::kBadType) << int{type};
  }
}

TEST(WireDecode, CorruptionIsBadChecksum) {
  Bytes f = encode_one(append_entries({10}).msg);
  f[f.size() - 7] ^= 0x40;  // inside the payload
  Message out;
  EXPECT_EQ(decode_all(f, out), DecodeError::kBadChecksum);
}

TEST(WireDecode, BoolsOtherThanZeroOrOneAreRejected) {
  struct Case {
    Bytes frame;
    std::size_t offset;  // of the bool inside the frame
  };
  const std::vector<Case> cases = {
      {encode_one(request_vote(1, 2, 3, 4, 5, true)), kHeaderBytes + 16},
      {encode_one(vote_response(1, 2, 3, true, true)), kHeaderBytes + 0},
      {encode_one(vote_response(1, 2, 3, true, true)), kHeaderBytes + 1},
      {encode_one(append_response(1, 2, 3, true, 1, 2, 3, 4)), kHeaderBytes + 32},
      {encode_one(install_response(1, 2, 3, 4, 5, 6, true, true)), kHeaderBytes + 24},
      {encode_one(install_response(1, 2, 3, 4, 5, 6, true, true)), kHeaderBytes + 25},
  };
  for (const Case& c : cases) {
    for (std::uint8_t v : {2, 0x80, 0xFF}) {
      Bytes g = c.frame;
      g[c.offset] = v;
      reseal(g);
      Message out;
      EXPECT_EQ(decode_all(g, out), DecodeError::kBadField) << c.offset << " = " << int{v};
    }
  }
}

TEST(WireDecode, ZeroSenderOrReceiverOrFlagsAreRejected) {
  Message out;
  EXPECT_EQ(decode_all(encode_one(request_vote(0, 2, 3, 4, 5, false)), out),
            DecodeError::kBadField);
  EXPECT_EQ(decode_all(encode_one(request_vote(1, 0, 3, 4, 5, false)), out),
            DecodeError::kBadField);
  for (std::uint16_t flags : {1, 0x8000}) {
    Bytes g = encode_one(request_vote(1, 2, 3, 4, 5, false));
    le::store16(g.data() + kOffFlags, flags);
    reseal(g);
    EXPECT_EQ(decode_all(g, out), DecodeError::kBadField) << flags;
  }
}

TEST(WireDecode, UnknownEntryTypeIsRejected) {
  const Bytes f = encode_one(append_entries({3, 4}).msg);
  const std::size_t second_type =
      kHeaderBytes + kAppendEntriesFixedBytes + kEntryHeaderBytes + 3 + 8;
  ASSERT_EQ(f[second_type], static_cast<std::uint8_t>(EntryType::kCommand));
  for (std::uint8_t t : {0, 3, 255}) {
    Bytes g = f;
    g[second_type] = t;
    reseal(g);
    Message out;
    EXPECT_EQ(decode_all(g, out), DecodeError::kBadField) << int{t};
    EXPECT_TRUE(out.entries.empty());
  }
}

TEST(WireDecode, OversizedFramesAreTooBig) {
  const Bytes f = encode_one(append_entries({1000}).msg);
  Message out;
  EXPECT_EQ(decode_all(f, out, kCluster, f.size()), DecodeError::kOk);
  EXPECT_EQ(decode_all(f, out, kCluster, f.size() - 1), DecodeError::kTooBig);
  EXPECT_EQ(decode_all(f, out, kCluster, 0), DecodeError::kTooBig);
  // A short buffer whose header claims a 4 GiB body is refused on the claim.
  Bytes g = encode_one(request_vote(1, 2, 3, 4, 5, false));
  set_body_len(g, 0xFFFFFFFFu);
  EXPECT_EQ(decode_all(g, out), DecodeError::kTooBig);
  EXPECT_EQ(decode_all(g, out, kCluster, std::numeric_limits<std::size_t>::max()),
            DecodeError::kTruncated);
}

TEST(WireDecode, FixedBodiesMustHaveExactLength) {
  const std::vector<Bytes> frames = {encode_one(request_vote(1, 2, 3, 4, 5, false)),
                                     encode_one(vote_response(1, 2, 3, true, false)),
                                     encode_one(append_response(1, 2, 3, true, 1, 2, 3, 4)),
                                     encode_one(install_response(1, 2, 3, 4, 5, 6, true, false))};
  for (const Bytes& f : frames) {
    const std::size_t body = f.size() - kFrameOverhead;
    Bytes longer(f.begin(), f.end() - kChecksumBytes);  // one more body byte
    longer.push_back(0);
    longer.resize(longer.size() + kChecksumBytes);
    set_body_len(longer, static_cast<std::uint32_t>(body + 1));
    reseal(longer);
    Bytes shorter(f.begin(), f.end() - kChecksumBytes - 1);  // one body byte fewer
    shorter.resize(shorter.size() + kChecksumBytes);
    set_body_len(shorter, static_cast<std::uint32_t>(body - 1));
    reseal(shorter);
    Message out;
    EXPECT_EQ(decode_all(longer, out), DecodeError::kBadLength) << body;
    EXPECT_EQ(decode_all(shorter, out), DecodeError::kBadLength) << body;
  }
}

// The count field sits right after prev_log_index, prev_log_term and commit.
constexpr std::size_t kOffCount = kHeaderBytes + 24;

TEST(WireDecode, EntryCountMustMatchTheBytes) {
  const Bytes f = encode_one(append_entries({5, 6, 7}).msg);
  for (std::uint32_t count : {0u, 1u, 2u, 4u, 5u}) {
    Bytes g = f;
    le::store32(g.data() + kOffCount, count);
    reseal(g);
    Message out;
    EXPECT_EQ(decode_all(g, out), DecodeError::kBadLength) << count;
  }
}

TEST(WireDecode, EntryLengthPastTheBodyIsRejected) {
  const Bytes f = encode_one(append_entries({5, 6}).msg);
  const std::size_t second_len =
      kHeaderBytes + kAppendEntriesFixedBytes + kEntryHeaderBytes + 5 + 17;
  ASSERT_EQ(le::load32(f.data() + second_len), 6u);
  for (std::uint32_t len : {7u, 100u, 0xFFFFFFFFu, 5u}) {
    Bytes g = f;
    le::store32(g.data() + second_len, len);
    reseal(g);
    Message out;
    EXPECT_EQ(decode_all(g, out), DecodeError::kBadLength) << len;
  }
}

TEST(WireDecode, HugeEntryCountInATinyBodyAllocatesNothing) {
  Bytes f = encode_one(append_entries({}).msg);
  le::store32(f.data() + kOffCount, 0xFFFFFFFFu);
  reseal(f);
  Message out;
  EXPECT_EQ(decode_all(f, out), DecodeError::kBadLength);
  EXPECT_EQ(out.entries.capacity(), 0u);  // nothing was reserved for the claimed entries

  // The same claim with a body length that does not fit the buffer.
  set_body_len(f, 0x00FFFFFFu);
  EXPECT_EQ(decode_all(f, out), DecodeError::kTruncated);
  EXPECT_EQ(out.entries.capacity(), 0u);
}

TEST(WireDecode, NullOrEmptyBufferIsTruncated) {
  Message out;
  EXPECT_EQ(decode(nullptr, 0, kCluster, kMaxFrame, out), DecodeError::kTruncated);
  EXPECT_EQ(decode(nullptr, 100, kCluster, kMaxFrame, out), DecodeError::kTruncated);
}

TEST(WireDecode, ReusedMessageDropsOldEntries) {
  Batch big = append_entries({1, 2, 3, 4});
  Message out;
  ASSERT_EQ(decode_all(encode_one(big.msg), out), DecodeError::kOk);
  ASSERT_EQ(out.entries.size(), 4u);
  ASSERT_EQ(decode_all(encode_one(vote_response(1, 2, 3, true, false)), out), DecodeError::kOk);
  EXPECT_TRUE(out.entries.empty());
  EXPECT_TRUE(out.granted);
}

// The decoder keeps the last frame's views in place and resizes them to the
// next AppendEntries' count: a shorter batch must not leave views from the
// longer one behind, a heartbeat or another type must leave none, and a
// longer batch after a shorter one must fill every view anew.
TEST(WireDecode, ReusedMessageHoldsOnlyTheLatestFramesEntries) {
  const Batch five = append_entries({3, 0, 7, 1, 12}, 11);
  Batch two = append_entries({9, 4}, 99);
  for (EntryView& e : two.msg.entries) e.id += 500;  // not the ids of five's first two
  two.msg.prev_log_index = 105;
  const Batch heartbeat = append_entries({});
  const Message vote = request_vote(3, 1, 7, 42, 6, true);
  const Bytes f5 = encode_one(five.msg), f2 = encode_one(two.msg);
  const Bytes fh = encode_one(heartbeat.msg), fv = encode_one(vote);
  const auto expect_views_into = [](const Message& m, const Bytes& f) {
    for (const EntryView& e : m.entries) {
      if (e.len == 0) continue;
      EXPECT_GE(e.data, f.data());
      EXPECT_LE(e.data + e.len, f.data() + f.size());
    }
  };

  Message out;
  ASSERT_EQ(decode_all(f5, out), DecodeError::kOk);
  ASSERT_EQ(out.entries.size(), 5u);
  expect_same(five.msg, out);
  expect_views_into(out, f5);

  ASSERT_EQ(decode_all(f2, out), DecodeError::kOk);
  ASSERT_EQ(out.entries.size(), 2u);
  expect_same(two.msg, out);
  expect_views_into(out, f2);

  ASSERT_EQ(decode_all(fh, out), DecodeError::kOk);
  EXPECT_TRUE(out.entries.empty());
  expect_same(heartbeat.msg, out);

  ASSERT_EQ(decode_all(f5, out), DecodeError::kOk);  // views again, for the vote to drop
  ASSERT_EQ(decode_all(fv, out), DecodeError::kOk);
  EXPECT_TRUE(out.entries.empty());
  expect_same(vote, out);

  ASSERT_EQ(decode_all(f2, out), DecodeError::kOk);
  ASSERT_EQ(decode_all(f5, out), DecodeError::kOk);  // grows past what the last frame had
  expect_same(five.msg, out);
  expect_views_into(out, f5);

  // A bad second entry after a good five-entry frame: no views survive.
  Bytes bad = f2;
  bad[kHeaderBytes + kAppendEntriesFixedBytes + kEntryHeaderBytes + 9 + 8] = 0;  // its type
  reseal(bad);
  EXPECT_EQ(decode_all(bad, out), DecodeError::kBadField);
  EXPECT_TRUE(out.entries.empty());
}

// ---------------------------------------------------------------- InstallSnapshot

// Body fields after the header: commit, offset, meta_len, chunk_len, meta, chunk.
constexpr std::size_t kOffSnapOffset = kHeaderBytes + 8;
constexpr std::size_t kOffMetaLen = kHeaderBytes + 16;
constexpr std::size_t kOffChunkLen = kHeaderBytes + 20;
constexpr std::size_t kOffMeta = kHeaderBytes + kInstallSnapshotFixedBytes;

TEST(WireRoundTrip, InstallSnapshotChunkPositions) {
  expect_round_trip(install_snapshot(0, 1000, 1000).msg);  // the whole snapshot at once
  expect_round_trip(install_snapshot(0, 1, 1000).msg);     // first byte
  expect_round_trip(install_snapshot(999, 1, 1000).msg);   // last byte
  expect_round_trip(install_snapshot(400, 0, 1000).msg);   // an empty chunk mid-way
  expect_round_trip(install_snapshot(1000, 0, 1000).msg);  // an empty chunk at the end
  expect_round_trip(install_snapshot(0, 0, 0, {7}).msg);   // an empty snapshot
  expect_round_trip(install_snapshot(5, (1u << 20) + 3, 2u << 20).msg);  // a large chunk
}

TEST(WireRoundTrip, InstallSnapshotEdgeValues) {
  Chunk c = install_snapshot(kMax64, 0, kMax64, {1, kMax64});
  c.msg.from = c.msg.to = c.msg.term = c.msg.commit = kMax64;
  c.msg.snapshot.index = c.msg.snapshot.term = kMax64;
  c.msg.snapshot.crc = 0xFFFFFFFFu;
  expect_round_trip(c.msg);
  c.msg.term = c.msg.commit = 0;
  c.msg.snapshot.crc = 0;
  c.msg.offset = 0;
  c.msg.snapshot.size = 0;
  expect_round_trip(c.msg);
}

TEST(WireRoundTrip, InstallSnapshotWithTheMostVoters) {
  std::vector<NodeId> voters(kSnapshotMetaMaxVoters);
  for (std::size_t i = 0; i < voters.size(); ++i) voters[i] = 3 * i + 1;
  expect_round_trip(install_snapshot(10, 20, 30, voters).msg);
}

TEST(WireRoundTrip, InstallSnapshotResponseEdgeValues) {
  expect_round_trip(install_response(1, 2, 0, 0, 0, 0, false, false));
  expect_round_trip(install_response(kMax64, kMax64, kMax64, kMax64, kMax64, kMax64, true, true));
  expect_round_trip(install_response(2, 1, 4, 600, 0, 600, true, false));
  expect_round_trip(install_response(2, 1, 4, 600, 4096, 0, false, true));
}

TEST(WireEncode, InstallSnapshotBytesMatchTheDocumentedLayout) {
  const Chunk c = install_snapshot(0x10, 3, 0x20, {4, 9});
  const Bytes f = encode_one(c.msg);
  const std::size_t meta_len = kSnapshotMetaFixedBytes + 2 * 8;
  ASSERT_EQ(f.size(), kFrameOverhead + kInstallSnapshotFixedBytes + meta_len + 3);
  EXPECT_EQ(f[kOffType], 5);
  EXPECT_EQ(le::load64(f.data() + kHeaderBytes), 640u);  // commit
  EXPECT_EQ(le::load64(f.data() + kOffSnapOffset), 0x10u);
  EXPECT_EQ(le::load32(f.data() + kOffMetaLen), meta_len);
  EXPECT_EQ(le::load32(f.data() + kOffChunkLen), 3u);
  Bytes meta;
  encode_snapshot_meta(c.msg.snapshot, meta);
  EXPECT_EQ(Bytes(f.begin() + kOffMeta, f.begin() + kOffMeta + meta_len), meta);
  EXPECT_EQ(Bytes(f.begin() + kOffMeta + meta_len, f.end() - kChecksumBytes), c.bytes);

  const Bytes r = encode_one(install_response(3, 1, 12, 600, 237, 599, true, false));
  ASSERT_EQ(r.size(), kFrameOverhead + 26);
  EXPECT_EQ(r[kOffType], 6);
  EXPECT_EQ(le::load64(r.data() + kHeaderBytes), 600u);
  EXPECT_EQ(le::load64(r.data() + kHeaderBytes + 8), 237u);
  EXPECT_EQ(le::load64(r.data() + kHeaderBytes + 16), 599u);
  EXPECT_EQ(r[kHeaderBytes + 24], 1);
  EXPECT_EQ(r[kHeaderBytes + 25], 0);
}

TEST(WireDecode, InstallSnapshotLengthsMustAddUp) {
  const Bytes f = encode_one(install_snapshot(100, 40).msg);
  const std::uint32_t meta_len = le::load32(f.data() + kOffMetaLen);
  struct Case {
    std::uint32_t meta_len, chunk_len;
  };
  const std::vector<Case> cases = {
      {meta_len + 1, 40}, {meta_len - 1, 40},      {meta_len, 41},  {meta_len, 39}, {0, 0},
      {0xFFFFFFFFu, 40},  {meta_len, 0xFFFFFFFFu}, {0xFFFFFFFFu, 1}};
  for (const Case& c : cases) {
    Bytes g = f;
    le::store32(g.data() + kOffMetaLen, c.meta_len);
    le::store32(g.data() + kOffChunkLen, c.chunk_len);
    reseal(g);
    Message out;
    EXPECT_EQ(decode_all(g, out), DecodeError::kBadLength) << c.meta_len << " " << c.chunk_len;
    EXPECT_TRUE(out.snapshot.voters.empty());
  }
  // Lengths that add up but move the meta's end are a bad meta, not bad lengths.
  for (const Case& c :
       std::vector<Case>{{meta_len - 8, 48}, {meta_len + 8, 32}, {meta_len + 40, 0}}) {
    Bytes g = f;
    le::store32(g.data() + kOffMetaLen, c.meta_len);
    le::store32(g.data() + kOffChunkLen, c.chunk_len);
    reseal(g);
    Message out;
    EXPECT_EQ(decode_all(g, out), DecodeError::kBadField) << c.meta_len << " " << c.chunk_len;
  }
}

TEST(WireDecode, InstallSnapshotBodyShorterThanItsFixedPartIsBadLength) {
  const Bytes f = encode_one(install_snapshot(0, 0, 0).msg);
  for (std::size_t body : {0, 1, 23}) {
    Bytes g(f.begin(), f.begin() + kHeaderBytes + body);
    g.resize(g.size() + kChecksumBytes);
    set_body_len(g, static_cast<std::uint32_t>(body));
    reseal(g);
    Message out;
    EXPECT_EQ(decode_all(g, out), DecodeError::kBadLength) << body;
  }
}

TEST(WireDecode, InstallSnapshotWithAnInvalidMetaIsBadField) {
  std::vector<Chunk> bad;
  for (std::vector<NodeId> voters : std::vector<std::vector<NodeId>>{
           {}, {0, 1}, {3, 1}, {2, 2}, std::vector<NodeId>(kSnapshotMetaMaxVoters + 1, 1)}) {
    if (voters.size() > kSnapshotMetaMaxVoters) {
      for (std::size_t i = 0; i < voters.size(); ++i) voters[i] = i + 1;  // valid but too many
    }
    bad.push_back(install_snapshot(0, 10, 100, voters));
  }
  bad.push_back(install_snapshot(0, 10));
  bad.back().msg.snapshot.index = 0;
  bad.push_back(install_snapshot(0, 10));
  bad.back().msg.snapshot.term = 0;
  for (const Chunk& c : bad) {
    Message out;
    EXPECT_EQ(decode_all(encode_one(c.msg), out), DecodeError::kBadField)
        << c.msg.snapshot.voters.size();
    EXPECT_TRUE(out.snapshot.voters.empty());
    EXPECT_EQ(out.snapshot.voters.capacity(), 0u);  // rejected before allocating
  }
  // A meta damaged inside an intact frame fails the meta's own checksum.
  Bytes g = encode_one(install_snapshot(0, 10).msg);
  g[kOffMeta + 12] ^= 1;  // inside the meta's index
  reseal(g);
  Message out;
  EXPECT_EQ(decode_all(g, out), DecodeError::kBadField);
}

TEST(WireDecode, InstallSnapshotChunkPastTheSnapshotIsBadField) {
  struct Case {
    std::uint64_t offset;
    std::size_t len;
    std::uint64_t size;
  };
  const std::vector<Case> cases = {
      {0, 11, 10}, {10, 1, 10},         {1001, 0, 1000}, {5, 10, 10},
      {0, 1, 0},   {kMax64, 1, kMax64}, {kMax64, 2, 5},  {kMax64 - 1, 2, kMax64}};
  for (const Case& c : cases) {
    Message out;
    EXPECT_EQ(decode_all(encode_one(install_snapshot(c.offset, c.len, c.size).msg), out),
              DecodeError::kBadField)
        << c.offset << "+" << c.len << " of " << c.size;
    EXPECT_TRUE(out.snapshot.voters.empty());
  }
  Message out;
  EXPECT_EQ(decode_all(encode_one(install_snapshot(kMax64 - 2, 2, kMax64).msg), out),
            DecodeError::kOk);
}

TEST(WireDecode, InstallSnapshotHugeVoterCountAllocatesNothing) {
  Bytes g = encode_one(install_snapshot(0, 4).msg);
  le::store32(g.data() + kOffMeta + 36, 0xFFFFFFFFu);  // the meta's n_voters
  reseal(g);
  Message out;
  EXPECT_EQ(decode_all(g, out), DecodeError::kBadField);
  EXPECT_EQ(out.snapshot.voters.capacity(), 0u);
}

TEST(WireErrors, EveryCodeHasADistinctDescription) {
  std::vector<std::string> seen;
  for (int i = 0; i <= static_cast<int>(DecodeError::kClusterMismatch); ++i) {
    const char* s = to_string(static_cast<DecodeError>(i));
    ASSERT_NE(s, nullptr);
    for (const std::string& t : seen) EXPECT_NE(t, s);
    seen.emplace_back(s);
  }
  EXPECT_STREQ(to_string(static_cast<DecodeError>(999)), "unknown wire error");
}

}  // namespace
}  // namespace raft::wire
