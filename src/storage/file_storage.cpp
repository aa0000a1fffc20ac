// The built-in durable storage: one directory per replica holding
//   LOCK            flock()ed while a node has the directory open
//   IDENTITY        which node of which cluster owns the directory
//   log.<seq>       append-only segments of checksummed records: entries,
//                   hard state (term, vote) and truncation points; each
//                   begins with a start record (hard state, next index) so
//                   the segments before it can be deleted by compaction
//   snapshot.<idx>  the current snapshot (src/storage/snapshot_file.cpp)
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

#include <deque>
#include "storage/posix_io.hpp"

#include "storage/record_format.hpp"
#include "storage/snapshot_file.hpp"
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
      : dir_(std::move(dir)),
        node_(node),
        cluster_(cluster),
        segment_bytes_(segment_bytes),
        snapshots_(dir_) {}
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
  int compact(Index index);
  int snapshot_begin();
  int snapshot_write(const void* data, std::size_t len);
  int snapshot_commit(Index index, const void* meta, std::size_t len);
  int snapshot_meta(void* buf, std::size_t cap, std::size_t* len);
  int snapshot_read(std::uint64_t offset, void* buf, std::size_t cap, std::size_t* got);
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
  int apply_start(const fmt::Record& r, const std::string& path);
  int start_segment(std::uint64_t sequence, Index next);
  int delete_oldest_segment();
  // A snapshot call's failure: reported, but the log is untouched, so the
  // storage goes on working (the node decides whether to stop).
  int report(int code, std::string why) {
    error_ = std::move(why);
    return code;
  }

  const std::string dir_;
  const NodeId node_;
  const std::uint64_t cluster_;
  const std::uint64_t segment_bytes_;
  int lock_fd_ = -1;
  int segment_fd_ = -1;
  std::uint64_t segment_seq_ = 0;
  std::uint64_t segment_size_ = 0;
  std::uint32_t segment_version_ = 0;
  // The live segments, oldest first; compaction pops from the front.
  struct Segment {
    std::uint64_t seq;
    bool has_start;  // false only for version-1 segments
    Index start_next;
  };
  std::deque<Segment> segments_;
  SnapshotFiles snapshots_;
  int failed_ = RAFT_OK;  // after a failure every call fails
  std::string error_;

  // Replayed state, handed out by load() and then released.  term_ and
  // vote_ then follow save_hard_state; durable_* are as of the last sync.
  Term term_ = 0;
  NodeId vote_ = 0;
  Index first_ = 1;  // index of entries_[0]
  bool replayed_any_ = false;
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
  // The entries of an append, as the batch records take them, and the size
  // after which a run of entries continues in a new batch record (far below
  // fmt::kMaxRecordPayload; an entry of up to max_entry_bytes, 1 GiB, still
  // fits in a record of its own).
  std::vector<EntryView> batch_;
  static constexpr std::size_t kBatchRecordBytes = std::size_t{16} << 20;
  Term durable_term_ = 0;
  NodeId durable_vote_ = 0;
  Index durable_last_ = 0;
};

int FileStorage::open(std::string& why) {
  int rc = RAFT_OK;
  if (!posix::make_dirs(dir_)) rc = fail(RAFT_EIO, posix::describe("mkdir", dir_));
  if (rc == RAFT_OK) rc = lock();
  if (rc == RAFT_OK) rc = check_identity();
  if (rc == RAFT_OK) {
    rc = snapshots_.open(why);
    if (rc != RAFT_OK) rc = fail(rc, why);
  }
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
      if (parse_segment_name(e->d_name, seq) || std::strncmp(e->d_name, "snapshot.", 9) == 0)
        has_log = true;
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
  last_ = first_ + entries_.size() - 1;
  durable_last_ = last_;
  durable_term_ = term_;
  durable_vote_ = vote_;
  if (segment_fd_ >= 0 && segment_version_ >= 2) return RAFT_OK;
  // No open segment: the directory is new, or the last segment was an empty
  // leftover of a crash and was removed (its number is free again).  Or the
  // last segment is of version 1: new records go to a segment with a start
  // record, so that compaction can delete the old ones.
  const std::uint64_t next_seq = !segments_.empty()  ? segments_.back().seq + 1
                                 : sequences.empty() ? 1
                                                     : sequences.back();
  return start_segment(next_seq, last_ + 1);
}

int FileStorage::replay_segment(std::uint64_t sequence, bool last) {
  const std::string path = dir_ + "/" + segment_name(sequence);
  std::vector<std::uint8_t> buf;
  if (!posix::read_file(path, buf)) return fail(RAFT_EIO, posix::describe("read", path));
  const std::uint32_t version = fmt::segment_header_version(buf.data(), buf.size(), sequence);
  if (version == 0) {
    // A crash while a new segment was being created leaves a short file
    // with nothing in it; anything else is damage.
    if (last && buf.size() <= fmt::kSegmentHeaderBytes) {
      if (::unlink(path.c_str()) != 0) return fail(RAFT_EIO, posix::describe("unlink", path));
      return RAFT_OK;
    }
    return fail(RAFT_ECORRUPT, path + ": bad segment header at offset 0");
  }
  auto corrupt = [&](const char* what, std::size_t offset) {
    char where[64];
    std::snprintf(where, sizeof where, " at offset %zu", offset);
    return fail(RAFT_ECORRUPT, path + ": " + what + where);
  };
  bool has_start = false;
  Index start_next = 0;
  std::size_t offset = fmt::kSegmentHeaderBytes;
  while (offset < buf.size()) {
    fmt::Record r;
    const fmt::Parse p = fmt::parse_record(buf.data() + offset, buf.size() - offset, r);
    if (p == fmt::Parse::kOk) {
      const bool at_start = offset == fmt::kSegmentHeaderBytes;
      int rc;
      if (r.type == fmt::RecordType::kStart) {
        if (!at_start || version < 2) return corrupt("start record inside a segment", offset);
        rc = apply_start(r, path);
        has_start = true;
        start_next = r.next;
      } else {
        if (at_start && version >= 2) return corrupt("segment lacks its start record", offset);
        if (r.type == fmt::RecordType::kEntries && version < 3)
          return corrupt("batch record in a segment older than version 3", offset);
        if (!replayed_any_ && sequence != 1)
          return fail(RAFT_ECORRUPT, dir_ + ": segment " + segment_name(1) + " is missing");
        rc = apply_record(r, path, offset);
      }
      replayed_any_ = true;
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
    if (!last || later_record) return corrupt("damaged record", offset);
    if (::truncate(path.c_str(), static_cast<off_t>(offset)) != 0)
      return fail(RAFT_EIO, posix::describe("truncate", path));
    buf.resize(offset);
    break;
  }
  if (version >= 2 && !has_start) {
    // Only the header made it: a crash while the segment was created (its
    // header and start record are one write).
    if (!last) return corrupt("segment lacks its start record", fmt::kSegmentHeaderBytes);
    if (::unlink(path.c_str()) != 0) return fail(RAFT_EIO, posix::describe("unlink", path));
    return RAFT_OK;
  }
  if (version < 2 && !replayed_any_ && sequence != 1)
    return fail(RAFT_ECORRUPT, dir_ + ": segment " + segment_name(1) + " is missing");
  segments_.push_back(Segment{sequence, has_start, start_next});
  if (last) {
    segment_fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (segment_fd_ < 0) return fail(RAFT_EIO, posix::describe("open", path));
    // The cut (if any) must be durable before new records follow it.
    if (::fdatasync(segment_fd_) != 0) return fail(RAFT_EIO, posix::describe("fdatasync", path));
    segment_seq_ = sequence;
    segment_size_ = buf.size();
    segment_version_ = version;
  }
  return RAFT_OK;
}

// The start record of a segment: the hard state and next index as they were
// durable when the segment was created.  In the first segment replayed it
// defines where the log begins (the segments before it were compacted away).
// Later, a next index beyond the log means the log was compacted past its
// end: the log becomes empty and continues there.
int FileStorage::apply_start(const fmt::Record& r, const std::string& path) {
  auto corrupt = [&](const char* what) {
    return fail(RAFT_ECORRUPT,
                path + ": " + what + " at offset " + std::to_string(fmt::kSegmentHeaderBytes));
  };
  if (r.term < term_) return corrupt("term goes backwards");
  term_ = r.term;
  vote_ = r.vote;
  const Index expected = first_ + entries_.size();
  if (replayed_any_ && r.next < expected) return corrupt("start record behind the log");
  if (!replayed_any_ || r.next > expected) {
    std::vector<Stored>().swap(entries_);
    std::vector<std::uint8_t>().swap(payloads_);
    first_ = r.next;
  }
  return RAFT_OK;
}

int FileStorage::apply_record(const fmt::Record& r, const std::string& path, std::size_t offset) {
  auto corrupt = [&](const char* what) {
    char where[64];
    std::snprintf(where, sizeof where, " at offset %zu", offset);
    return fail(RAFT_ECORRUPT, path + ": " + what + where);
  };
  const Index next = first_ + entries_.size();
  switch (r.type) {
    case fmt::RecordType::kEntry:
      if (r.index != next) return corrupt("entry out of sequence");
      if (!entries_.empty() && r.entry.term < entries_.back().term)
        return corrupt("entry term goes backwards");
      entries_.push_back(
          Stored{r.entry.term, r.entry.id, r.entry.type, payloads_.size(), r.entry.len});
      payloads_.insert(payloads_.end(), r.entry.data, r.entry.data + r.entry.len);
      return RAFT_OK;
    case fmt::RecordType::kEntries: {
      if (r.index != next) return corrupt("entries out of sequence");
      if (!entries_.empty() && r.term < entries_.back().term)
        return corrupt("entry term goes backwards");
      fmt::BatchReader batch(r);
      for (std::uint32_t k = 0; k < r.count; ++k) {
        const EntryView e = batch.next();
        entries_.push_back(Stored{e.term, e.id, e.type, payloads_.size(), e.len});
        payloads_.insert(payloads_.end(), e.data, e.data + e.len);
      }
      return RAFT_OK;
    }
    case fmt::RecordType::kHardState:
      if (r.term < term_) return corrupt("term goes backwards");
      term_ = r.term;
      vote_ = r.vote;
      return RAFT_OK;
    case fmt::RecordType::kTruncate:
      if (r.from > next) return corrupt("truncation beyond the log");
      if (r.from <= first_) {
        // Before the first retained entry: the log becomes empty there.
        entries_.clear();
        payloads_.clear();
        first_ = r.from;
      } else if (r.from < next) {
        payloads_.resize(entries_[r.from - first_].offset);
        entries_.resize(r.from - first_);
      }
      return RAFT_OK;
    case fmt::RecordType::kStart:
      break;
  }
  return corrupt("unknown record");
}

int FileStorage::start_segment(std::uint64_t sequence, Index next) {
  const std::string path = dir_ + "/" + segment_name(sequence);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return fail(RAFT_EIO, posix::describe("create", path));
  std::vector<std::uint8_t> header;
  fmt::put_segment_header(header, sequence);
  fmt::put_start(header, durable_term_, durable_vote_, next);
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
  segment_version_ = fmt::kFormatVersion;
  segments_.push_back(Segment{sequence, true, next});
  return RAFT_OK;
}

int FileStorage::load(std::uint64_t* term, raft_id* vote, std::uint64_t* first,
                      int (*entry)(void*, const raft_entry*), void* arg) {
  if (failed_ != RAFT_OK) return failed_;
  *term = term_;
  *vote = vote_;
  *first = first_;
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
  term_ = term;
  vote_ = vote;
  return RAFT_OK;
}

int FileStorage::append(Index first, const raft_entry* entries, std::size_t n) {
  if (failed_ != RAFT_OK) return failed_;
  if (first != last_ + 1) return fail(RAFT_EINVAL, "append does not continue the log");
  if (segment_version_ < 3) {
    // A segment of an older version (reopened) gets records of its version.
    for (std::size_t i = 0; i < n; ++i) {
      const raft_entry& e = entries[i];
      fmt::put_entry(pending_, first + i, e.term, e.id, e.type, e.data, e.len);
    }
  } else {
    // One batch record per run of one term, cut into records of at most
    // kBatchRecordBytes (metadata included: a run of millions of empty
    // entries must not outgrow what replay accepts).
    batch_.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const raft_entry& e = entries[i];
      batch_.push_back(EntryView{e.term, static_cast<EntryType>(e.type), e.id,
                                 static_cast<const std::uint8_t*>(e.data), e.len});
    }
    std::size_t i = 0;
    while (i < n) {
      std::size_t run = 1;
      while (i + run < n && batch_[i + run].term == batch_[i].term) ++run;
      const std::size_t take = fmt::entries_that_fit(batch_.data() + i, run, kBatchRecordBytes);
      fmt::put_entries(pending_, first + i, batch_[i].term, batch_.data() + i, take);
      i += take;
    }
  }
  last_ += n;
  return RAFT_OK;
}

// `from` may lie before the first retained entry (even before a compacted
// prefix): the log then becomes empty and continues at `from`.
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
    const int rc = start_segment(segment_seq_ + 1, durable_last_ + 1);
    if (rc != RAFT_OK) return rc;
  }
  const std::string path = dir_ + "/" + segment_name(segment_seq_);
  if (!posix::write_all(segment_fd_, pending_.data(), pending_.size()))
    return fail(RAFT_EIO, posix::describe("write", path));
  if (::fdatasync(segment_fd_) != 0) return fail(RAFT_EIO, posix::describe("fdatasync", path));
  segment_size_ += pending_.size();
  pending_.clear();
  durable_term_ = term_;
  durable_vote_ = vote_;
  durable_last_ = last_;
  return RAFT_OK;
}

// Deletes the oldest segment, and makes that durable before the next one
// goes: a file system may persist unlinks out of order, and a gap in the
// numbers is reported as corruption.  Rare (once per segment_bytes of log).
int FileStorage::delete_oldest_segment() {
  const std::string path = dir_ + "/" + segment_name(segments_.front().seq);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return fail(RAFT_EIO, posix::describe("unlink", path));
  if (!posix::fsync_dir(dir_)) return fail(RAFT_EIO, posix::describe("fsync", dir_));
  segments_.pop_front();
  return RAFT_OK;
}

// Whole segments go, oldest first, when everything before the next
// segment's start is covered: a replay from any segment with a start record
// is faithful to the log from its first index on, so every crash leaves a
// valid suffix.  Version-1 segments have no start record and stay until the
// segment after them has one.
int FileStorage::compact(Index index) {
  if (failed_ != RAFT_OK) return failed_;
  if (index > snapshots_.index())
    return fail(RAFT_EINVAL, "compact beyond the current snapshot (index " + std::to_string(index) +
                                 ", snapshot " + std::to_string(snapshots_.index()) + ")");
  const bool past_end = index > last_;
  if (past_end) {
    // The log ends before index + 1: it becomes empty and continues at
    // index + 1 in a new segment, whose start record says so.  Buffered
    // records go first so that their order is kept.
    int rc = sync();
    if (rc == RAFT_OK) rc = start_segment(segment_seq_ + 1, index + 1);
    if (rc != RAFT_OK) return rc;
    last_ = durable_last_ = index;
  }
  // The current segment always stays (it is the one appended to).  A
  // deletion is durable at once, so buffered records (a truncation, say) are
  // synced before the first one: a crash must not keep the deletion and lose
  // an earlier write (raft.h: an in-order prefix of the unsynced calls).
  bool synced = past_end;
  while (segments_.size() > 1 && segments_[1].has_start &&
         (past_end || segments_[1].start_next <= index + 1)) {
    if (!synced) {
      const int rc = sync();
      if (rc != RAFT_OK) return rc;
      synced = true;
    }
    const int rc = delete_oldest_segment();
    if (rc != RAFT_OK) return rc;
  }
  return RAFT_OK;
}

int FileStorage::snapshot_begin() {
  if (failed_ != RAFT_OK) return failed_;
  std::string why;
  const int rc = snapshots_.begin(why);
  return rc == RAFT_OK ? rc : report(rc, why);
}

int FileStorage::snapshot_write(const void* data, std::size_t len) {
  if (failed_ != RAFT_OK) return failed_;
  std::string why;
  const int rc = snapshots_.write(data, len, why);
  return rc == RAFT_OK ? rc : report(rc, why);
}

int FileStorage::snapshot_commit(Index index, const void* meta, std::size_t len) {
  if (failed_ != RAFT_OK) return failed_;
  std::string why;
  bool unknown = false;
  const int rc = snapshots_.commit(index, meta, len, why, unknown);
  if (rc == RAFT_OK) return rc;
  return unknown ? fail(rc, why) : report(rc, why);
}

int FileStorage::snapshot_meta(void* buf, std::size_t cap, std::size_t* len) {
  if (failed_ != RAFT_OK) return failed_;
  const auto& meta = snapshots_.meta();
  if (buf == nullptr || len == nullptr || meta.size() > cap)
    return report(RAFT_EINVAL, "snapshot_meta: NULL argument or buffer too small");
  if (!meta.empty()) std::memcpy(buf, meta.data(), meta.size());
  *len = snapshots_.index() == 0 ? 0 : meta.size();
  return RAFT_OK;
}

int FileStorage::snapshot_read(std::uint64_t offset, void* buf, std::size_t cap, std::size_t* got) {
  if (failed_ != RAFT_OK) return failed_;
  if (got == nullptr) return report(RAFT_EINVAL, "snapshot_read: NULL got");
  std::string why;
  const int rc = snapshots_.read(offset, buf, cap, got, why);
  return rc == RAFT_OK ? rc : report(rc, why);
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
int fs_compact(void* ctx, std::uint64_t index) { return self(ctx)->compact(index); }
int fs_snapshot_begin(void* ctx) { return self(ctx)->snapshot_begin(); }
int fs_snapshot_write(void* ctx, const void* data, std::size_t len) {
  return self(ctx)->snapshot_write(data, len);
}
int fs_snapshot_commit(void* ctx, std::uint64_t index, const void* meta, std::size_t len) {
  return self(ctx)->snapshot_commit(index, meta, len);
}
int fs_snapshot_meta(void* ctx, void* buf, std::size_t cap, std::size_t* len) {
  return self(ctx)->snapshot_meta(buf, cap, len);
}
int fs_snapshot_read(void* ctx, std::uint64_t offset, void* buf, std::size_t cap,
                     std::size_t* got) {
  return self(ctx)->snapshot_read(offset, buf, cap, got);
}

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
  out.snapshot_begin = fs_snapshot_begin;
  out.snapshot_write = fs_snapshot_write;
  out.snapshot_commit = fs_snapshot_commit;
  out.snapshot_meta = fs_snapshot_meta;
  out.snapshot_read = fs_snapshot_read;
  out.compact = fs_compact;
  return RAFT_OK;
}

const char* file_storage_error(void* ctx) { return self(ctx)->error(); }

}  // namespace raft::storage
