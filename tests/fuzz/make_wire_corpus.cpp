// Writes the seed corpus for fuzz_wire: one small valid frame per message
// shape, addressed to the fuzz target's cluster id, and one snapshot meta.
//   g++ -std=c++17 -Iinclude -Isrc src/wire/*.cpp tests/fuzz/make_wire_corpus.cpp -o mk
//   ./mk tests/fuzz/corpus/wire
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "wire/codec.hpp"
#include "wire/snapshot_meta.hpp"

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

bool write_bytes(const std::string& dir, const char* name, const std::vector<std::uint8_t>& b) {
  const std::string path = dir + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(b.data(), 1, b.size(), f) == b.size();
  return (std::fclose(f) == 0) && ok;
}

bool write(const std::string& dir, const char* name, const raft::Message& m) {
  std::vector<std::uint8_t> frame;
  raft::wire::encode(m, kFuzzCluster, frame);
  return write_bytes(dir, name, frame);
}

std::vector<std::uint8_t> meta_bytes(const raft::SnapshotInfo& info) {
  std::vector<std::uint8_t> b;
  raft::wire::encode_snapshot_meta(info, b);
  return b;
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

  static const std::uint8_t chunk[] = {'s', 'n', 'a', 'p', 0x00, 0xFF, 0x42, 0x17};
  raft::Message is = base(raft::MsgType::kInstallSnapshot);
  is.commit = 45;
  is.snapshot.index = 40;
  is.snapshot.term = 6;
  is.snapshot.size = 24;
  is.snapshot.crc = 0x1234ABCDu;
  is.snapshot.voters = {1, 2, 3};
  is.offset = 8;
  is.chunk = chunk;
  is.chunk_len = sizeof chunk;
  ok &= write(dir, "install_snapshot.bin", is);

  raft::Message is_empty = is;  // an empty snapshot: one empty chunk
  is_empty.snapshot.size = 0;
  is_empty.snapshot.crc = 0;
  is_empty.snapshot.voters = {1};
  is_empty.offset = 0;
  is_empty.chunk = nullptr;
  is_empty.chunk_len = 0;
  ok &= write(dir, "install_snapshot_empty.bin", is_empty);

  raft::Message isr = base(raft::MsgType::kInstallSnapshotResponse);
  isr.from = 2;
  isr.to = 1;
  isr.snapshot.index = 40;
  isr.offset = 16;
  isr.rewind = true;
  ok &= write(dir, "install_snapshot_response_rewind.bin", isr);

  // A bare meta, as storages keep it (fuzz_wire also decodes inputs as one).
  ok &= write_bytes(dir, "snapshot_meta.bin", meta_bytes(is.snapshot));

  if (!ok) std::fprintf(stderr, "failed to write the corpus into %s\n", dir.c_str());
  return ok ? 0 : 1;
}
