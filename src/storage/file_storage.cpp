// The built-in durable storage: one directory per replica holding
//   LOCK            flock()ed while a node has the directory open
//   IDENTITY        which node of which cluster owns the directory
//   log.<seq>       append-only segments of checksummed records: entries,
//                   hard state (term, vote) and truncation points
// Everything a turn writes is buffered and made durable by one write and
// one fdatasync in sync() (group commit).  On open the segments are replayed;
// a torn tail is cut back to the last whole record, and any other damage is
// RAFT_ECORRUPT naming file and offset.  docs/storage-format.md has the bytes.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>

#include "storage/posix_io.hpp"
#include "storage/record_format.hpp"
#include "storage/storage.hpp"

namespace raft::storage {

namespace {

namespace fmt = format;

std::string segment_name(std::uint64_t sequence) {
  char name[32];
  std::snprintf(name, sizeof name, "log.%016" PRIx64, sequence);
  return name;
}

bool parse_segment_name(const char* name, std::uint64_t& sequence) {
  if (std::strncmp(name, "log.", 4) != 0 || std::strlen(name) != 20) return false;
  sequence = 0;
  for (const char* p = name + 4; *p; ++p) {
    const char c = *p;
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return false;
    sequence = sequence << 4 | static_cast<std::uint64_t>(digit);
  }
  return true;
}

class FileStorage {
 public:
  FileStorage(std::string dir, NodeId node, std::uint64_t cluster, std::uint64_t segment_bytes)
      : dir_(std::move(dir)), node_(node), cluster_(cluster), segment_bytes_(segment_bytes) {}
  ~FileStorage() {
    if (segment_fd_ >= 0) ::close(segment_fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
  }

  int open(std::string& why);
  int load(std::uint64_t* term, raft_id* vote, std::uint64_t* first,
           int (*entry)(void*, const raft_entry*), void* arg);
  int save_hard_state(Term term, NodeId vote);
  int append(Index first, const raft_entry* entries, std::size_t n);
  int truncate(Index from);
  int sync();
  const char* error() const { return error_.c_str(); }

 private:
  int fail(int code, std::string why) {
    error_ = std::move(why);
    failed_ = code;
    return code;
  }
  int lock();
  int check_identity();
  int replay();
  int replay_segment(std::uint64_t sequence, bool last);
  int apply_record(const fmt::Record& r, const std::string& path, std::size_t offset);
  int start_segment(std::uint64_t sequence);

  const std::string dir_;
  const NodeId node_;
  const std::uint64_t cluster_;
  const std::uint64_t segment_bytes_;
  int lock_fd_ = -1;
  int segment_fd_ = -1;
  std::uint64_t segment_seq_ = 0;
  std::uint64_t segment_size_ = 0;
  int failed_ = RAFT_OK;  // after a failure every call fails
  std::string error_;

  // Replayed state, handed out by load() and then released.
  Term term_ = 0;
  NodeId vote_ = 0;
  struct Stored {
    Term term;
    std::uint64_t id;
    EntryType type;
    std::size_t offset, len;
  };
  std::vector<Stored> entries_;
  std::vector<std::uint8_t> payloads_;

  Index last_ = 0;                     // last index written (buffered or not)
  std::vector<std::uint8_t> pending_;  // records not yet written
};

int FileStorage::open(std::string& why) {
  int rc = RAFT_OK;
  if (!posix::make_dirs(dir_)) rc = fail(RAFT_EIO, posix::describe("mkdir", dir_));
  if (rc == RAFT_OK) rc = lock();
  if (rc == RAFT_OK) rc = check_identity();
  if (rc == RAFT_OK) rc = replay();
  if (rc != RAFT_OK) why = error_;
  return rc;
}

int FileStorage::lock() {
  const std::string path = dir_ + "/LOCK";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return fail(RAFT_EIO, posix::describe("open", path));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      return fail(RAFT_EBUSY, dir_ + " is in use by another raft node (LOCK is held)");
    return fail(RAFT_EIO, posix::describe("flock", path));
  }
  return RAFT_OK;
}

int FileStorage::check_identity() {
  char expected[128];
  std::snprintf(expected, sizeof expected,
                "libraft storage 1\nnode %" PRIu64 "\ncluster %" PRIu64 "\n", node_, cluster_);
  const std::string path = dir_ + "/IDENTITY";
  std::vector<std::uint8_t> have;
  if (!posix::read_file(path, have)) {
    if (errno != ENOENT) return fail(RAFT_EIO, posix::describe("read", path));
    // A new directory, unless it already holds a log: then IDENTITY was
    // lost, and guessing the owner could let two nodes share one log.
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return fail(RAFT_EIO, posix::describe("opendir", dir_));
    bool has_log = false;
    // readdir is safe on a stream no other thread uses (glibc).
    while (dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
      std::uint64_t seq;
      if (parse_segment_name(e->d_name, seq)) has_log = true;
    }
    ::closedir(d);
    if (has_log) return fail(RAFT_ECORRUPT, path + " is missing but the directory holds a log");
    if (!posix::replace_file(dir_, "IDENTITY", expected))
      return fail(RAFT_EIO, posix::describe("write", path));
    return RAFT_OK;
  }
  const std::string text(have.begin(), have.end());
  if (text == expected) return RAFT_OK;
  unsigned long long node = 0, cluster = 0;
  if (std::sscanf(text.c_str(), "libraft storage 1\nnode %llu\ncluster %llu\n", &node, &cluster) ==
      2)
    return fail(RAFT_EINVAL, dir_ + " belongs to node " + std::to_string(node) + " of cluster " +
                                 std::to_string(cluster) + ", not node " + std::to_string(node_) +
                                 " of cluster " + std::to_string(cluster_));
  return fail(RAFT_ECORRUPT, path + " is not a libraft identity file");
}

int FileStorage::replay() {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return fail(RAFT_EIO, posix::describe("opendir", dir_));
  std::vector<std::uint64_t> sequences;
  // readdir is safe on a stream no other thread uses (glibc).
  while (dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe)
    std::uint64_t seq;
    if (parse_segment_name(e->d_name, seq)) sequences.push_back(seq);
  }
  ::closedir(d);
  std::sort(sequences.begin(), sequences.end());
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    if (i > 0 && sequences[i] != sequences[i - 1] + 1)
      return fail(RAFT_ECORRUPT,
                  dir_ + ": segment " + segment_name(sequences[i - 1] + 1) + " is missing");
    const int rc = replay_segment(sequences[i], i + 1 == sequences.size());
    if (rc != RAFT_OK) return rc;
  }
  last_ = entries_.size();
  // No open segment: the directory is new, or the last segment was an empty
  // leftover of a crash and was removed; its number is free again.
  if (segment_fd_ < 0) return start_segment(sequences.empty() ? 1 : sequences.back());
  return RAFT_OK;
}

int FileStorage::replay_segment(std::uint64_t sequence, bool last) {
  const std::string path = dir_ + "/" + segment_name(sequence);
  std::vector<std::uint8_t> buf;
  if (!posix::read_file(path, buf)) return fail(RAFT_EIO, posix::describe("read", path));
  if (!fmt::check_segment_header(buf.data(), buf.size(), sequence)) {
    // A crash while a new segment was being created leaves a short file
    // with nothing in it; anything else is damage.
    if (last && buf.size() <= fmt::kSegmentHeaderBytes) {
      if (::unlink(path.c_str()) != 0) return fail(RAFT_EIO, posix::describe("unlink", path));
      return RAFT_OK;
    }
    return fail(RAFT_ECORRUPT, path + ": bad segment header at offset 0");
  }
  std::size_t offset = fmt::kSegmentHeaderBytes;
  while (offset < buf.size()) {
    fmt::Record r;
    const fmt::Parse p = fmt::parse_record(buf.data() + offset, buf.size() - offset, r);
    if (p == fmt::Parse::kOk) {
      const int rc = apply_record(r, path, offset);
      if (rc != RAFT_OK) return rc;
      offset += r.size;
      continue;
    }
    // A torn tail is a prefix of the last write: no whole record follows
    // it.  A valid record after the damage means the damage is not a tail.
    bool later_record = false;
    for (std::size_t at = offset + 1; at + fmt::kRecordHeaderBytes <= buf.size(); ++at) {
      fmt::Record probe;
      if (fmt::parse_record(buf.data() + at, buf.size() - at, probe) == fmt::Parse::kOk) {
        later_record = true;
        break;
      }
    }
    if (!last || later_record) {
      char where[64];
      std::snprintf(where, sizeof where, " at offset %zu", offset);
      return fail(RAFT_ECORRUPT, path + ": damaged record" + where);
    }
    if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0)
      return fail(RAFT_EIO, posix::describe("truncate", path));
    buf.resize(offset);
    break;
  }
  if (last) {
    segment_fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (segment_fd_ < 0) return fail(RAFT_EIO, posix::describe("open", path));
    // The cut (if any) must be durable before new records follow it.
    if (::fdatasync(segment_fd_) != 0) return fail(RAFT_EIO, posix::describe("fdatasync", path));
    segment_seq_ = sequence;
    segment_size_ = buf.size();
  }
  return RAFT_OK;
}

int FileStorage::apply_record(const fmt::Record& r, const std::string& path, std::size_t offset) {
  auto corrupt = [&](const char* what) {
    char where[64];
    std::snprintf(where, sizeof where, " at offset %zu", offset);
    return fail(RAFT_ECORRUPT, path + ": " + what + where);
  };
  switch (r.type) {
    case fmt::RecordType::kEntry:
      if (r.index != entries_.size() + 1) return corrupt("entry out of sequence");
      if (!entries_.empty() && r.entry.term < entries_.back().term)
        return corrupt("entry term goes backwards");
      entries_.push_back(
          Stored{r.entry.term, r.entry.id, r.entry.type, payloads_.size(), r.entry.len});
      payloads_.insert(payloads_.end(), r.entry.data, r.entry.data + r.entry.len);
      return RAFT_OK;
    case fmt::RecordType::kHardState:
      if (r.term < term_) return corrupt("term goes backwards");
      term_ = r.term;
      vote_ = r.vote;
      return RAFT_OK;
    case fmt::RecordType::kTruncate:
      if (r.from > entries_.size() + 1) return corrupt("truncation beyond the log");
      if (r.from <= entries_.size()) {
        payloads_.resize(entries_[r.from - 1].offset);
        entries_.resize(r.from - 1);
      }
      return RAFT_OK;
  }
  return corrupt("unknown record");
}

int FileStorage::start_segment(std::uint64_t sequence) {
  const std::string path = dir_ + "/" + segment_name(sequence);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return fail(RAFT_EIO, posix::describe("create", path));
  std::vector<std::uint8_t> header;
  fmt::put_segment_header(header, sequence);
  if (!posix::write_all(fd, header.data(), header.size()) || ::fdatasync(fd) != 0 ||
      !posix::fsync_dir(dir_)) {
    const std::string why = posix::describe("create", path);
    ::close(fd);
    return fail(RAFT_EIO, why);
  }
  if (segment_fd_ >= 0) ::close(segment_fd_);
  segment_fd_ = fd;
  segment_seq_ = sequence;
  segment_size_ = header.size();
  return RAFT_OK;
}

int FileStorage::load(std::uint64_t* term, raft_id* vote, std::uint64_t* first,
                      int (*entry)(void*, const raft_entry*), void* arg) {
  if (failed_ != RAFT_OK) return failed_;
  *term = term_;
  *vote = vote_;
  *first = 1;
  for (const Stored& s : entries_) {
    raft_entry e{};
    e.term = s.term;
    e.id = s.id;
    e.type = static_cast<std::uint32_t>(s.type);
    e.data = payloads_.data() + s.offset;
    e.len = s.len;
    if (entry(arg, &e) != 0) return RAFT_ECORRUPT;
  }
  // The node keeps its own copy; ours is no longer needed.
  std::vector<Stored>().swap(entries_);
  std::vector<std::uint8_t>().swap(payloads_);
  return RAFT_OK;
}

int FileStorage::save_hard_state(Term term, NodeId vote) {
  if (failed_ != RAFT_OK) return failed_;
  fmt::put_hard_state(pending_, term, vote);
  return RAFT_OK;
}

int FileStorage::append(Index first, const raft_entry* entries, std::size_t n) {
  if (failed_ != RAFT_OK) return failed_;
  if (first != last_ + 1) return fail(RAFT_EINVAL, "append does not continue the log");
  for (std::size_t i = 0; i < n; ++i) {
    const raft_entry& e = entries[i];
    fmt::put_entry(pending_, first + i, e.term, e.id, e.type, e.data, e.len);
  }
  last_ += n;
  return RAFT_OK;
}

int FileStorage::truncate(Index from) {
  if (failed_ != RAFT_OK) return failed_;
  if (from == 0 || from > last_ + 1) return fail(RAFT_EINVAL, "truncate beyond the log");
  fmt::put_truncate(pending_, from);
  last_ = from - 1;
  return RAFT_OK;
}

int FileStorage::sync() {
  if (failed_ != RAFT_OK) return failed_;
  if (pending_.empty()) return RAFT_OK;
  if (segment_size_ >= segment_bytes_) {
    const int rc = start_segment(segment_seq_ + 1);
    if (rc != RAFT_OK) return rc;
  }
  const std::string path = dir_ + "/" + segment_name(segment_seq_);
  if (!posix::write_all(segment_fd_, pending_.data(), pending_.size()))
    return fail(RAFT_EIO, posix::describe("write", path));
  if (::fdatasync(segment_fd_) != 0) return fail(RAFT_EIO, posix::describe("fdatasync", path));
  segment_size_ += pending_.size();
  pending_.clear();
  return RAFT_OK;
}

// ---------------------------------------------------------------- vtable

FileStorage* self(void* ctx) { return static_cast<FileStorage*>(ctx); }

int fs_load(void* ctx, std::uint64_t* term, raft_id* vote, std::uint64_t* first,
            int (*entry)(void*, const raft_entry*), void* arg) {
  return self(ctx)->load(term, vote, first, entry, arg);
}
int fs_save_hard_state(void* ctx, std::uint64_t term, raft_id vote) {
  return self(ctx)->save_hard_state(term, vote);
}
int fs_append(void* ctx, std::uint64_t first, const raft_entry* entries, std::size_t n) {
  return self(ctx)->append(first, entries, n);
}
int fs_truncate(void* ctx, std::uint64_t from) { return self(ctx)->truncate(from); }
int fs_sync(void* ctx) { return self(ctx)->sync(); }
void fs_close(void* ctx) { delete self(ctx); }

}  // namespace

int open_file_storage(const char* dir, NodeId node_id, std::uint64_t cluster_id, raft_storage& out,
                      std::string& why, std::uint64_t segment_bytes) {
  auto* fs = new (std::nothrow) FileStorage(dir, node_id, cluster_id, segment_bytes);
  if (fs == nullptr) return RAFT_ENOMEM;
  const int rc = fs->open(why);
  if (rc != RAFT_OK) {
    delete fs;
    return rc;
  }
  out = raft_storage{};
  out.version = RAFT_STORAGE_VERSION;
  out.ctx = fs;
  out.load = fs_load;
  out.save_hard_state = fs_save_hard_state;
  out.append = fs_append;
  out.truncate = fs_truncate;
  out.sync = fs_sync;
  out.close = fs_close;
  return RAFT_OK;
}

const char* file_storage_error(void* ctx) { return self(ctx)->error(); }

}  // namespace raft::storage
