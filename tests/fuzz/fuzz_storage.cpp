// libFuzzer target: open a storage directory whose segments and snapshot
// files hold arbitrary bytes.  Opening must end in RAFT_OK with a consistent
// log and snapshot, or in an error code; never a crash, a hang or an
// out-of-bounds read.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "storage/record_format.hpp"
#include "storage/snapshot_file.hpp"
#include "storage/storage.hpp"

namespace {

void write_file(const std::string& path, const std::uint8_t* p, std::size_t n) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(p), static_cast<std::streamsize>(n));
}

// One scratch directory per process, under $TMPDIR (make fuzz points it into build/), removed
// again when the fuzzer exits normally.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/raft-fuzz-storage-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) __builtin_trap();
    path_ = tmpl;
    std::ofstream(path_ + "/IDENTITY") << "libraft storage 1\nnode 1\ncluster 7\n";
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const ScratchDir scratch;
  const std::string& dir = scratch.path();
  // The first byte chooses how many segments the input is split into (a
  // valid header is put in front of each so replay reaches the records) and
  // what snapshot files there are: none; raw bytes; bytes and meta wrapped
  // in a valid trailer (so the meta decoder and the loader's rules are
  // reached); that plus a leftover snapshot.tmp.
  const std::uint8_t control = size == 0 ? 0 : data[0];
  const std::size_t segments = 1 + control % 3;
  const unsigned snapshot_mode = (control >> 2) % 4;
  const std::uint8_t* p = size == 0 ? data : data + 1;
  std::size_t left = size == 0 ? 0 : size - 1;
  if (snapshot_mode != 0) {
    const std::size_t n = left / 2;
    const raft::Index index = 1 + (control >> 4);
    char name[96];
    std::snprintf(name, sizeof name, "%s/snapshot.%016zx", dir.c_str(),
                  static_cast<std::size_t>(index));
    if (snapshot_mode == 1) {
      write_file(name, p, n);
    } else {
      std::vector<std::uint8_t> bytes(p, p + n / 2);
      raft::storage::snapshot_format::put_trailer(bytes, index, n / 2, p + n / 2, n - n / 2);
      write_file(name, bytes.data(), bytes.size());
      if (snapshot_mode == 3) write_file(dir + "/snapshot.tmp", p, n / 3);
    }
    p += n;
    left -= n;
  }
  for (std::size_t i = 1; i <= segments; ++i) {
    const std::size_t n = i == segments ? left : left / 2;
    std::vector<std::uint8_t> bytes;
    raft::storage::format::put_segment_header(bytes, i);
    bytes.insert(bytes.end(), p, p + n);
    p += n;
    left -= n;
    char name[64];
    std::snprintf(name, sizeof name, "%s/log.%016zx", dir.c_str(), i);
    write_file(name, bytes.data(), bytes.size());
  }
  raft_storage st{};
  std::string why;
  if (raft::storage::open_file_storage(dir.c_str(), 1, 7, st, why) == RAFT_OK) {
    raft::storage::Loaded loaded;
    if (raft::storage::load(st, loaded, why) == RAFT_OK) {
      for (std::size_t i = 1; i < loaded.entries.size(); ++i)
        if (loaded.entries[i].term < loaded.entries[i - 1].term) __builtin_trap();
      if (loaded.snapshot.index != 0 && loaded.first_index != loaded.snapshot.index + 1)
        __builtin_trap();
      if (loaded.log_conflicts_snapshot && !loaded.entries.empty()) __builtin_trap();
      // The whole snapshot reads back, in chunks, without going past its end.
      std::uint8_t chunk[4096];
      std::uint64_t offset = 0;
      for (;;) {
        std::size_t got = 0;
        if (st.snapshot_read(st.ctx, offset, chunk, sizeof chunk, &got) != RAFT_OK) break;
        offset += got;
        if (got < sizeof chunk) break;
      }
    }
    st.close(st.ctx);
  }
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string name = f.path().filename().string();
    if (name.rfind("log.", 0) == 0 || name.rfind("snapshot.", 0) == 0)
      std::filesystem::remove(f.path());
  }
  return 0;
}
