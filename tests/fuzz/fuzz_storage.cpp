// libFuzzer target: open a storage directory whose segments hold arbitrary
// bytes.  Opening must end in RAFT_OK with a consistent log, or in an error
// code; never a crash, a hang or an out-of-bounds read.
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
#include "storage/storage.hpp"

namespace {

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
  // The first byte chooses how many segments the input is split into; a
  // valid header is put in front of each so replay reaches the records.
  const std::size_t segments = size == 0 ? 1 : 1 + data[0] % 3;
  const std::uint8_t* p = size == 0 ? data : data + 1;
  std::size_t left = size == 0 ? 0 : size - 1;
  for (std::size_t i = 1; i <= segments; ++i) {
    const std::size_t n = i == segments ? left : left / 2;
    std::vector<std::uint8_t> bytes;
    raft::storage::format::put_segment_header(bytes, i);
    bytes.insert(bytes.end(), p, p + n);
    p += n;
    left -= n;
    char name[64];
    std::snprintf(name, sizeof name, "%s/log.%016zx", dir.c_str(), i);
    std::ofstream(name, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  raft_storage st{};
  std::string why;
  if (raft::storage::open_file_storage(dir.c_str(), 1, 7, st, why) == RAFT_OK) {
    raft::storage::Loaded loaded;
    if (raft::storage::load(st, loaded, why) == RAFT_OK) {
      for (std::size_t i = 1; i < loaded.entries.size(); ++i)
        if (loaded.entries[i].term < loaded.entries[i - 1].term) __builtin_trap();
    }
    st.close(st.ctx);
  }
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().filename().string().rfind("log.", 0) == 0) std::filesystem::remove(f.path());
  return 0;
}
