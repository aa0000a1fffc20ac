#include "storage/snapshot_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "raft.h"
#include "storage/posix_io.hpp"
#include "wire/crc32c.hpp"
#include "wire/le.hpp"

namespace raft::storage {

namespace snapshot_format {

// Footer: data size u64, index u64, meta length u32, version u32, CRC32C of
// meta || footer[0..24) u32, zero u32, magic.
void put_trailer(std::vector<std::uint8_t>& out, Index index, std::uint64_t data_size,
                 const void* meta, std::size_t meta_len) {
  const std::size_t at = out.size();
  out.resize(at + meta_len + kFooterBytes);
  std::uint8_t* m = out.data() + at;
  if (meta_len > 0) std::memcpy(m, meta, meta_len);
  std::uint8_t* f = m + meta_len;
  wire::le::store64(f, data_size);
  wire::le::store64(f + 8, index);
  wire::le::store32(f + 16, static_cast<std::uint32_t>(meta_len));
  wire::le::store32(f + 20, kVersion);
  wire::le::store32(f + 24, wire::crc32c(f, 24, wire::crc32c(m, meta_len)));
  wire::le::store32(f + 28, 0);
  std::memcpy(f + 32, kMagic, 8);
}

}  // namespace snapshot_format

namespace {

namespace sf = snapshot_format;

constexpr std::size_t kWriteBuffer = 1 << 20;
constexpr std::uint64_t kSyncEvery = std::uint64_t{16} << 20;  // see write()
const char kTmpName[] = "snapshot.tmp";

bool parse_snapshot_name(const char* name, Index& index) {
  if (std::strncmp(name, "snapshot.", 9) != 0 || std::strlen(name) != 25) return false;
  index = 0;
  for (const char* p = name + 9; *p; ++p) {
    const char c = *p;
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return false;
    index = index << 4 | static_cast<Index>(digit);
  }
  return index != 0;
}

bool pread_all(int fd, void* buf, std::size_t len, std::uint64_t offset, std::size_t& got) {
  auto* p = static_cast<std::uint8_t*>(buf);
  got = 0;
  while (got < len) {
    const ssize_t n = ::pread(fd, p + got, len - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

std::string at_offset(const std::string& path, std::uint64_t offset, const char* what) {
  char where[48];
  std::snprintf(where, sizeof where, " at offset %" PRIu64, offset);
  return path + ": " + what + where;
}

}  // namespace

SnapshotFiles::~SnapshotFiles() {
  if (fd_ >= 0) ::close(fd_);
  abandon();
}

std::string SnapshotFiles::path_of(Index index) const {
  char name[32];
  std::snprintf(name, sizeof name, "snapshot.%016" PRIx64, index);
  return dir_ + "/" + name;
}

int SnapshotFiles::open(std::string& why) {
  const std::string tmp = dir_ + "/" + kTmpName;
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) {
    why = posix::describe("unlink", tmp);
    return RAFT_EIO;
  }
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) {
    why = posix::describe("opendir", dir_);
    return RAFT_EIO;
  }
  std::vector<Index> found;
  // readdir is safe on a stream no other thread uses (glibc).
  while (dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
    Index index;
    if (parse_snapshot_name(e->d_name, index)) found.push_back(index);
  }
  ::closedir(d);
  if (found.empty()) return RAFT_OK;
  std::sort(found.begin(), found.end());
  // The rename happens only after the file is synced, so the newest file is
  // whole unless the disk or a bug damaged it.  Falling back to an older
  // one would silently move the state machine backwards: report it instead.
  const Index newest = found.back();
  const std::string path = path_of(newest);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = posix::describe("open", path);
    return RAFT_EIO;
  }
  const int rc = validate(path, newest, fd, why);
  if (rc != RAFT_OK) {
    ::close(fd);
    return rc;
  }
  fd_ = fd;
  index_ = newest;
  // Older ones are leftovers of a crash between the rename and the deletion.
  for (std::size_t i = 0; i + 1 < found.size(); ++i) {
    const std::string old = path_of(found[i]);
    if (::unlink(old.c_str()) != 0 && errno != ENOENT) {
      why = posix::describe("unlink", old);
      return RAFT_EIO;
    }
  }
  return RAFT_OK;
}

int SnapshotFiles::validate(const std::string& path, Index index, int fd, std::string& why) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    why = posix::describe("stat", path);
    return RAFT_EIO;
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < sf::kFooterBytes) {
    why = at_offset(path, 0, "file too short for a snapshot footer");
    return RAFT_ECORRUPT;
  }
  const std::uint64_t footer_at = file_size - sf::kFooterBytes;
  std::uint8_t f[sf::kFooterBytes];
  std::size_t got = 0;
  if (!pread_all(fd, f, sizeof f, footer_at, got)) {
    why = posix::describe("read", path);
    return RAFT_EIO;
  }
  if (got != sizeof f || std::memcmp(f + 32, sf::kMagic, 8) != 0 || wire::le::load32(f + 28) != 0) {
    why = at_offset(path, footer_at, "no snapshot footer");
    return RAFT_ECORRUPT;
  }
  if (wire::le::load32(f + 20) != sf::kVersion) {
    why = at_offset(path, footer_at + 20, "unknown snapshot format version");
    return RAFT_ECORRUPT;
  }
  const std::uint64_t data_size = wire::le::load64(f);
  const std::uint32_t meta_len = wire::le::load32(f + 16);
  if (meta_len == 0 || meta_len > RAFT_SNAPSHOT_META_MAX || data_size > footer_at ||
      footer_at - data_size != meta_len) {
    why = at_offset(path, footer_at, "snapshot footer sizes do not match the file size");
    return RAFT_ECORRUPT;
  }
  if (wire::le::load64(f + 8) != index) {
    why = at_offset(path, footer_at + 8, "snapshot footer names another index than the file");
    return RAFT_ECORRUPT;
  }
  std::vector<std::uint8_t> meta(meta_len);
  if (!pread_all(fd, meta.data(), meta_len, data_size, got)) {
    why = posix::describe("read", path);
    return RAFT_EIO;
  }
  if (got != meta_len ||
      wire::le::load32(f + 24) != wire::crc32c(f, 24, wire::crc32c(meta.data(), meta_len))) {
    why = at_offset(path, data_size, "snapshot meta or footer fails its checksum");
    return RAFT_ECORRUPT;
  }
  meta_ = std::move(meta);
  size_ = data_size;
  return RAFT_OK;
}

void SnapshotFiles::abandon() {
  if (tmp_fd_ < 0) return;
  ::close(tmp_fd_);
  tmp_fd_ = -1;
  // Best effort: a leftover is removed by the next begin or open.
  ::unlink((dir_ + "/" + kTmpName).c_str());
  std::vector<std::uint8_t>().swap(buffer_);
}

int SnapshotFiles::begin(std::string& why) {
  abandon();
  const std::string tmp = dir_ + "/" + kTmpName;
  // Read-write: after the rename this descriptor serves reads of the new
  // current snapshot, so nothing can fail between the rename and that.
  tmp_fd_ = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (tmp_fd_ < 0) {
    why = posix::describe("create", tmp);
    return RAFT_EIO;
  }
  tmp_size_ = 0;
  unsynced_ = 0;
  buffer_.clear();
  buffer_.reserve(kWriteBuffer);
  return RAFT_OK;
}

bool SnapshotFiles::flush() {
  if (buffer_.empty()) return true;
  if (!posix::write_all(tmp_fd_, buffer_.data(), buffer_.size())) return false;
  buffer_.clear();
  return true;
}

int SnapshotFiles::write(const void* data, std::size_t len, std::string& why) {
  if (tmp_fd_ < 0) {
    why = "snapshot_write without snapshot_begin";
    return RAFT_EINVAL;
  }
  if (len > 0 && data == nullptr) {
    why = "snapshot_write of NULL data";
    return RAFT_EINVAL;
  }
  const auto* p = static_cast<const std::uint8_t*>(data);
  bool ok = true, buffered = true;
  if (buffer_.size() + len > kWriteBuffer) {
    ok = flush();
    // A large write goes straight to the file rather than through the buffer.
    if (ok && len >= kWriteBuffer) {
      ok = posix::write_all(tmp_fd_, p, len);
      buffered = false;
    }
  }
  if (ok && buffered && len > 0) buffer_.insert(buffer_.end(), p, p + len);
  // Synced as it grows: commit runs on the node's loop thread, and one
  // fsync of a whole large snapshot there would stall heartbeats for
  // seconds (1 GiB: 2 s here); now it covers at most kSyncEvery bytes.
  unsynced_ += len;
  if (ok && unsynced_ >= kSyncEvery) {
    ok = flush() && ::fdatasync(tmp_fd_) == 0;
    unsynced_ = 0;
  }
  if (!ok) {
    why = posix::describe("write", dir_ + "/" + kTmpName);
    abandon();
    return RAFT_EIO;
  }
  tmp_size_ += len;
  return RAFT_OK;
}

int SnapshotFiles::commit(Index index, const void* meta, std::size_t meta_len, std::string& why,
                          bool& unknown) {
  unknown = false;
  if (tmp_fd_ < 0) {
    why = "snapshot_commit without snapshot_begin";
    return RAFT_EINVAL;
  }
  if (index == 0 || meta == nullptr || meta_len == 0 || meta_len > RAFT_SNAPSHOT_META_MAX) {
    why = "snapshot_commit: index 0, or meta empty or larger than RAFT_SNAPSHOT_META_MAX";
    abandon();
    return RAFT_EINVAL;
  }
  const std::string tmp = dir_ + "/" + kTmpName;
  sf::put_trailer(buffer_, index, tmp_size_, meta, meta_len);
  if (!flush() || ::fsync(tmp_fd_) != 0) {
    why = posix::describe("write", tmp);
    abandon();
    return RAFT_EIO;
  }
  const std::string path = path_of(index);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    why = posix::describe("rename", tmp);
    abandon();
    return RAFT_EIO;
  }
  const Index old = index_;
  if (fd_ >= 0) ::close(fd_);
  fd_ = tmp_fd_;
  tmp_fd_ = -1;
  index_ = index;
  size_ = tmp_size_;
  meta_.assign(static_cast<const std::uint8_t*>(meta),
               static_cast<const std::uint8_t*>(meta) + meta_len);
  std::vector<std::uint8_t>().swap(buffer_);
  if (!posix::fsync_dir(dir_)) {
    why = posix::describe("fsync", dir_);
    unknown = true;
    return RAFT_EIO;
  }
  if (old != 0 && old != index) {
    const std::string old_path = path_of(old);
    if (::unlink(old_path.c_str()) != 0 && errno != ENOENT) {
      why = posix::describe("unlink", old_path);
      unknown = old > index;
      return RAFT_EIO;
    }
    // A higher-numbered leftover would win after a crash: its removal must
    // be durable before the new snapshot counts as current.
    if (old > index && !posix::fsync_dir(dir_)) {
      why = posix::describe("fsync", dir_);
      unknown = true;
      return RAFT_EIO;
    }
  }
  return RAFT_OK;
}

int SnapshotFiles::read(std::uint64_t offset, void* buf, std::size_t cap, std::size_t* got,
                        std::string& why) const {
  *got = 0;
  if (index_ == 0) {
    why = "snapshot_read: there is no snapshot";
    return RAFT_EINVAL;
  }
  if (offset > size_ || (cap > 0 && buf == nullptr)) {
    why = "snapshot_read: offset beyond the snapshot, or NULL buffer";
    return RAFT_EINVAL;
  }
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(cap, size_ - offset));
  std::size_t n = 0;
  if (!pread_all(fd_, buf, want, offset, n)) {
    why = posix::describe("read", path_of(index_));
    return RAFT_EIO;
  }
  if (n != want) {
    why = at_offset(path_of(index_), offset + n, "snapshot file is shorter than its footer says");
    return RAFT_ECORRUPT;
  }
  *got = n;
  return RAFT_OK;
}

}  // namespace raft::storage
