// Writes the seed corpus for fuzz_wire: one small valid frame per message
// shape, addressed to the fuzz target's cluster id.
//   g++ -std=c++17 -Iinclude -Isrc src/wire/*.cpp tests/fuzz/make_wire_corpus.cpp -o mk
//   ./mk tests/fuzz/corpus/wire
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "wire/codec.hpp"

namespace {

// Must match kFuzzCluster in tests/fuzz/fuzz_wire.cpp.
constexpr std::uint64_t kFuzzCluster = 0x4655'5A5A'434C'5553ull;

raft::Message base(raft::MsgType type) {
  raft::Message m;
  m.type = type;
  m.from = 1;
  m.to = 2;
  m.term = 7;
  return m;
}

bool write(const std::string& dir, const char* name, const raft::Message& m) {
  std::vector<std::uint8_t> frame;
  raft::wire::encode(m, kFuzzCluster, frame);
  const std::string path = dir + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(frame.data(), 1, frame.size(), f) == frame.size();
  return (std::fclose(f) == 0) && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  bool ok = true;

  raft::Message rv = base(raft::MsgType::kRequestVote);
  rv.last_log_index = 41;
  rv.last_log_term = 6;
  rv.pre_vote = true;
  ok &= write(dir, "request_vote.bin", rv);

  raft::Message rvr = base(raft::MsgType::kRequestVoteResponse);
  rvr.granted = true;
  ok &= write(dir, "request_vote_response.bin", rvr);

  raft::Message hb = base(raft::MsgType::kAppendEntries);
  hb.prev_log_index = 41;
  hb.prev_log_term = 6;
  hb.commit = 40;
  ok &= write(dir, "append_entries_heartbeat.bin", hb);

  const std::uint8_t payload_a[] = {'s', 'e', 't', ' ', 'x', '=', '1'};
  const std::uint8_t payload_b[] = {0x00, 0xFF, 0x10};
  raft::Message ae = hb;
  ae.entries.push_back({7, raft::EntryType::kNoop, 0, nullptr, 0});
  ae.entries.push_back({7, raft::EntryType::kCommand, 1001, payload_a, sizeof payload_a});
  ae.entries.push_back({7, raft::EntryType::kCommand, 1002, payload_b, sizeof payload_b});
  ok &= write(dir, "append_entries_3.bin", ae);

  raft::Message aer = base(raft::MsgType::kAppendEntriesResponse);
  aer.reject_index = 41;
  aer.hint_index = 30;
  aer.hint_term = 5;
  ok &= write(dir, "append_entries_response_reject.bin", aer);

  if (!ok) std::fprintf(stderr, "failed to write the corpus into %s\n", dir.c_str());
  return ok ? 0 : 1;
}
