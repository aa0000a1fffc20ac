// libFuzzer target for the wire decoder.
//
// Each input is decoded three ways: as is with a fixed cluster id; with the
// cluster id the input itself carries (so mutations get past that check);
// and with its checksum recomputed (so mutations reach the field checks
// instead of stopping at kBadChecksum).  Whatever decodes must be canonical:
// re-encoding gives the same bytes, and those decode to the same fields;
// retarget() agrees with encoding for another peer.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "wire/codec.hpp"
#include "wire/crc32c.hpp"
#include "wire/le.hpp"

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

bool same(const Message& a, const Message& b) {
  return a.type == b.type && a.from == b.from && a.to == b.to && a.term == b.term &&
         a.last_log_index == b.last_log_index && a.last_log_term == b.last_log_term &&
         a.pre_vote == b.pre_vote && a.granted == b.granted &&
         a.prev_log_index == b.prev_log_index && a.prev_log_term == b.prev_log_term &&
         a.commit == b.commit && a.success == b.success && a.match_index == b.match_index &&
         a.reject_index == b.reject_index && a.hint_index == b.hint_index &&
         a.hint_term == b.hint_term && same_entries(a, b);
}

void check(const std::uint8_t* data, std::size_t size, std::uint64_t cluster) {
  Message m;
  const wire::DecodeError err = wire::decode(data, size, cluster, kMaxFrame, m);
  FUZZ_CHECK(wire::to_string(err) != nullptr);
  if (err != wire::DecodeError::kOk) {
    FUZZ_CHECK(m.entries.empty());
    return;
  }
  for (const raft::EntryView& e : m.entries) {  // views stay inside the input
    FUZZ_CHECK(e.data >= data && e.data + e.len <= data + size);
  }
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check(data, size, kFuzzCluster);
  if (size < wire::kFrameOverhead) return 0;
  const std::uint64_t carried = raft::wire::le::load64(data + wire::kOffClusterId);
  check(data, size, carried);
  // An exact-size heap copy, so ASan still catches any read past the end.
  std::vector<std::uint8_t> sealed(data, data + size);
  const std::size_t covered = size - wire::kChecksumBytes;
  raft::wire::le::store32(sealed.data() + covered, wire::crc32c(sealed.data(), covered));
  check(sealed.data(), size, carried);
  return 0;
}
