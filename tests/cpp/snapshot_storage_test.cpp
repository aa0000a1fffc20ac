// Snapshots and compaction in the storages: the file storage's snapshot
// files (round trip, every crash state of a commit, damage), compaction of
// segments and what a restart then loads, the memory storage's snapshots,
// and the generic loader's rules for a log beside a snapshot.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "storage/snapshot_file.hpp"
#include "storage/storage.hpp"
#include "temp_dir.hpp"
#include "wire/snapshot_meta.hpp"

namespace raft::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::uint8_t> meta_for(Index index, Term term, std::uint64_t size = 0) {
  SnapshotInfo info;
  info.index = index;
  info.term = term;
  info.size = size;
  info.crc = 0x1234u;
  info.voters = {1, 2, 3};
  std::vector<std::uint8_t> out;
  wire::encode_snapshot_meta(info, out);
  return out;
}

std::string snapshot_file(Index index) {
  char name[32];
  std::snprintf(name, sizeof name, "snapshot.%016llx", static_cast<unsigned long long>(index));
  return name;
}

std::vector<std::string> files_with_prefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(dir)) {
    const std::string name = f.path().filename();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string payload(Index i) { return "entry-" + std::to_string(i); }

// What a storage's own load() reported, before the loader's rules.
struct RawLog {
  int rc = RAFT_OK;
  Term term = 0;
  std::uint64_t first = 0;
  std::vector<std::pair<Term, std::string>> entries;
};

RawLog raw_load(raft_storage& st) {
  RawLog r;
  raft_id vote = 0;
  r.rc = st.load(
      st.ctx, &r.term, &vote, &r.first,
      [](void* arg, const raft_entry* e) {
        static_cast<RawLog*>(arg)->entries.emplace_back(
            e->term, std::string(static_cast<const char*>(e->data), e->len));
        return 0;
      },
      &r);
  return r;
}

// An open file storage with helpers; the log's last index is tracked.
class Store {
 public:
  explicit Store(const std::string& dir,
                 std::uint64_t segment_bytes = storage::kDefaultSegmentBytes,
                 bool load_now = true) {
    rc = storage::open_file_storage(dir.c_str(), 1, 7, st, why, segment_bytes);
    if (rc == RAFT_OK && load_now) {
      rc = storage::load(st, loaded, why);
      last = loaded.stored_last;
    }
  }
  ~Store() {
    if (st.close != nullptr) st.close(st.ctx);
  }
  void append(Index from, Index to, Term term) {
    for (Index i = from; i <= to; ++i) {
      const std::string data = payload(i);
      raft_entry e{};
      e.term = term;
      e.id = i;
      e.type = RAFT_ENTRY_COMMAND;
      e.data = data.data();
      e.len = data.size();
      ASSERT_EQ(st.append(st.ctx, i, &e, 1), RAFT_OK) << "append " << i;
      last = i;
    }
  }
  void sync() { ASSERT_EQ(st.sync(st.ctx), RAFT_OK) << storage::file_storage_error(st.ctx); }
  // A snapshot's term may not be above the stored term.
  void hard_state(Term term) {
    ASSERT_EQ(st.save_hard_state(st.ctx, term, 0), RAFT_OK);
    sync();
  }
  void snapshot(Index index, Term term, const std::string& data) {
    ASSERT_EQ(st.snapshot_begin(st.ctx), RAFT_OK);
    ASSERT_EQ(st.snapshot_write(st.ctx, data.data(), data.size()), RAFT_OK);
    const auto meta = meta_for(index, term, data.size());
    ASSERT_EQ(st.snapshot_commit(st.ctx, index, meta.data(), meta.size()), RAFT_OK)
        << storage::file_storage_error(st.ctx);
  }
  std::string read_all() {
    std::string out;
    std::vector<char> buf(70000);
    for (;;) {
      std::size_t got = 0;
      EXPECT_EQ(st.snapshot_read(st.ctx, out.size(), buf.data(), buf.size(), &got), RAFT_OK);
      out.append(buf.data(), got);
      if (got < buf.size()) return out;
    }
  }

  int rc;
  std::string why;
  raft_storage st{};
  storage::Loaded loaded;
  Index last = 0;
};

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// ------------------------------------------------------------ file snapshots

TEST(FileSnapshot, MultiMegabyteRoundTripInManyWritesSurvivesRestart) {
  TempDir d;
  const std::string data = random_bytes(3 * 1024 * 1024 + 17, 1);
  {
    Store s(d.path);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    s.hard_state(3);
    ASSERT_EQ(s.st.snapshot_begin(s.st.ctx), RAFT_OK);
    std::mt19937 rng(2);
    std::size_t at = 0;
    while (at < data.size()) {
      // Small writes, and some larger than the write buffer.
      std::size_t n = rng() % 5 == 0 ? 1500000 : rng() % 70000;
      n = std::min(n, data.size() - at);
      ASSERT_EQ(s.st.snapshot_write(s.st.ctx, data.data() + at, n), RAFT_OK);
      at += n;
    }
    const auto meta = meta_for(50, 3, data.size());
    ASSERT_EQ(s.st.snapshot_commit(s.st.ctx, 50, meta.data(), meta.size()), RAFT_OK);
    EXPECT_EQ(s.read_all(), data);
  }
  EXPECT_EQ(files_with_prefix(d.path, "snapshot."), std::vector<std::string>{snapshot_file(50)});
  Store s(d.path);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  EXPECT_EQ(s.loaded.snapshot.index, 50u);
  EXPECT_EQ(s.loaded.snapshot.term, 3u);
  EXPECT_EQ(s.loaded.snapshot.size, data.size());
  EXPECT_EQ(s.read_all(), data);
  // Reads at an offset, and at the end.
  std::vector<char> buf(10);
  std::size_t got = 99;
  ASSERT_EQ(s.st.snapshot_read(s.st.ctx, 1000, buf.data(), buf.size(), &got), RAFT_OK);
  EXPECT_EQ(std::string(buf.data(), got), data.substr(1000, 10));
  ASSERT_EQ(s.st.snapshot_read(s.st.ctx, data.size() - 3, buf.data(), buf.size(), &got), RAFT_OK);
  EXPECT_EQ(got, 3u);
  ASSERT_EQ(s.st.snapshot_read(s.st.ctx, data.size(), buf.data(), buf.size(), &got), RAFT_OK);
  EXPECT_EQ(got, 0u);
  EXPECT_EQ(s.st.snapshot_read(s.st.ctx, data.size() + 1, buf.data(), buf.size(), &got),
            RAFT_EINVAL);
}

TEST(FileSnapshot, NoSnapshotMeansEmptyMetaAndAReplacedOneIsDeleted) {
  TempDir d;
  Store s(d.path);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  std::vector<std::uint8_t> buf(RAFT_SNAPSHOT_META_MAX);
  std::size_t len = 1;
  ASSERT_EQ(s.st.snapshot_meta(s.st.ctx, buf.data(), buf.size(), &len), RAFT_OK);
  EXPECT_EQ(len, 0u);
  std::size_t got = 0;
  EXPECT_EQ(s.st.snapshot_read(s.st.ctx, 0, buf.data(), 1, &got), RAFT_EINVAL);
  // Misuse is refused without breaking the storage.
  EXPECT_EQ(s.st.snapshot_write(s.st.ctx, "x", 1), RAFT_EINVAL);
  EXPECT_EQ(s.st.snapshot_commit(s.st.ctx, 5, buf.data(), 10), RAFT_EINVAL);
  s.snapshot(10, 1, "first");
  s.snapshot(20, 2, "second");
  EXPECT_EQ(files_with_prefix(d.path, "snapshot."), std::vector<std::string>{snapshot_file(20)});
  EXPECT_EQ(s.read_all(), "second");
  const auto want = meta_for(20, 2, 6);
  ASSERT_EQ(s.st.snapshot_meta(s.st.ctx, buf.data(), buf.size(), &len), RAFT_OK);
  EXPECT_EQ(std::vector<std::uint8_t>(buf.begin(), buf.begin() + len), want);
  // An unfinished one is discarded by the next begin; the current one stays.
  ASSERT_EQ(s.st.snapshot_begin(s.st.ctx), RAFT_OK);
  ASSERT_EQ(s.st.snapshot_write(s.st.ctx, "junk", 4), RAFT_OK);
  s.snapshot(30, 2, "third");
  EXPECT_EQ(s.read_all(), "third");
  s.append(1, 3, 1);
  s.sync();  // the log still works after all that
}

// The states a crash can leave during snapshot_commit, made by hand.
class SnapshotCrash : public ::testing::Test {
 protected:
  void SetUp() override {
    Store s(dir_.path);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    s.hard_state(2);
    s.snapshot(10, 1, "old state");
    old_file_ = dir_.path + "/" + snapshot_file(10);
    fs::copy_file(old_file_, saved_.path + "/old");
    s.snapshot(20, 2, "new state");
    new_file_ = dir_.path + "/" + snapshot_file(20);
    fs::copy_file(new_file_, saved_.path + "/new");
  }
  void only_old() {
    fs::remove(new_file_);
    fs::copy_file(saved_.path + "/old", old_file_);
  }

  TempDir dir_, saved_;
  std::string old_file_, new_file_;
};

TEST_F(SnapshotCrash, BeforeTheRenameTheOldOneIsCurrentAndTmpIsRemoved) {
  only_old();
  // A whole synced tmp file as well as a torn one: never current.
  fs::copy_file(saved_.path + "/new", dir_.path + "/snapshot.tmp");
  for (int torn = 0; torn < 2; ++torn) {
    if (torn == 1) fs::resize_file(dir_.path + "/snapshot.tmp", 7);
    Store s(dir_.path);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    EXPECT_EQ(s.loaded.snapshot.index, 10u);
    EXPECT_EQ(s.read_all(), "old state");
    EXPECT_FALSE(fs::exists(dir_.path + "/snapshot.tmp"));
    fs::copy_file(saved_.path + "/new", dir_.path + "/snapshot.tmp");
  }
}

TEST_F(SnapshotCrash, AfterTheRenameTheNewOneIsCurrentAndTheOldOneGoes) {
  fs::copy_file(saved_.path + "/old", old_file_);
  Store s(dir_.path);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  EXPECT_EQ(s.loaded.snapshot.index, 20u);
  EXPECT_EQ(s.read_all(), "new state");
  EXPECT_EQ(files_with_prefix(dir_.path, "snapshot."), std::vector<std::string>{snapshot_file(20)});
}

TEST_F(SnapshotCrash, ADamagedNewestSnapshotIsCorruptionNotAFallback) {
  fs::copy_file(saved_.path + "/old", old_file_);
  const auto size = fs::file_size(new_file_);
  // Torn trailer, a flipped meta byte, a flipped footer byte, a renamed file.
  for (int damage = 0; damage < 4; ++damage) {
    fs::remove(new_file_);
    fs::copy_file(saved_.path + "/new", new_file_);
    std::string target = new_file_;
    if (damage == 0) {
      fs::resize_file(new_file_, size - 5);
    } else if (damage < 3) {
      std::fstream f(new_file_, std::ios::in | std::ios::out | std::ios::binary);
      const auto at = static_cast<std::streamoff>(damage == 1 ? 9 + 20 : size - 30);
      f.seekg(at);
      char c = 0;
      f.get(c);
      f.seekp(at);
      f.put(static_cast<char>(c ^ 0x10));
    } else {
      target = dir_.path + "/" + snapshot_file(21);
      fs::rename(new_file_, target);
    }
    Store s(dir_.path);
    EXPECT_EQ(s.rc, RAFT_ECORRUPT) << "damage " << damage;
    EXPECT_NE(s.why.find(target), std::string::npos) << s.why;
    EXPECT_NE(s.why.find("offset"), std::string::npos) << s.why;
    EXPECT_TRUE(fs::exists(old_file_)) << "evidence kept";
    if (damage == 3) fs::rename(target, new_file_);
  }
}

// ----------------------------------------------------------------- compaction

TEST(FileCompaction, DeletesCoveredSegmentsAndARestartLoadsTheSuffix) {
  TempDir d;
  {
    Store s(d.path, 256);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    ASSERT_EQ(s.st.save_hard_state(s.st.ctx, 4, 2), RAFT_OK);
    for (Index i = 1; i <= 80; ++i) {
      s.append(i, i, i <= 40 ? 2 : 4);
      s.sync();
    }
    const auto before = files_with_prefix(d.path, "log.");
    ASSERT_GT(before.size(), 10u);
    s.snapshot(50, 4, "state at 50");
    ASSERT_EQ(s.st.compact(s.st.ctx, 45), RAFT_OK);
    const auto after = files_with_prefix(d.path, "log.");
    EXPECT_LT(after.size(), before.size() / 2);
    EXPECT_EQ(after.back(), before.back());
  }
  {
    Store s(d.path, 256, /*load_now=*/false);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    RawLog raw = raw_load(s.st);
    ASSERT_EQ(raw.rc, RAFT_OK);
    EXPECT_EQ(raw.term, 4u);
    EXPECT_GT(raw.first, 1u);
    EXPECT_LE(raw.first, 46u);
    ASSERT_EQ(raw.first + raw.entries.size() - 1, 80u);
    for (std::size_t i = 0; i < raw.entries.size(); ++i)
      EXPECT_EQ(raw.entries[i].second, payload(raw.first + i));
  }
  // Through the loader: the suffix after the snapshot.
  Store t(d.path, 256);
  ASSERT_EQ(t.rc, RAFT_OK) << t.why;
  EXPECT_EQ(t.loaded.term, 4u);
  EXPECT_EQ(t.loaded.vote, 2u);
  EXPECT_EQ(t.loaded.snapshot.index, 50u);
  EXPECT_FALSE(t.loaded.log_conflicts_snapshot);
  EXPECT_EQ(t.loaded.first_index, 51u);
  EXPECT_EQ(t.loaded.stored_last, 80u);
  ASSERT_EQ(t.loaded.entries.size(), 30u);
  EXPECT_EQ(
      std::string(reinterpret_cast<const char*>(t.loaded.entries[0].data), t.loaded.entries[0].len),
      payload(51));
}

TEST(FileCompaction, BeyondTheSnapshotIsRefused) {
  TempDir d;
  Store s(d.path);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  s.snapshot(5, 1, "x");
  EXPECT_EQ(s.st.compact(s.st.ctx, 6), RAFT_EINVAL);
  EXPECT_NE(std::string(storage::file_storage_error(s.st.ctx)).find("beyond"), std::string::npos);
}

TEST(FileCompaction, PastTheEndEmptiesTheLogAndAppendsContinueThere) {
  TempDir d;
  {
    Store s(d.path, 256);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    ASSERT_EQ(s.st.save_hard_state(s.st.ctx, 3, 0), RAFT_OK);
    s.append(1, 30, 1);
    s.sync();
    s.snapshot(100, 3, "leader's state");
    s.append(31, 32, 1);  // buffered, then compacted away
    ASSERT_EQ(s.st.compact(s.st.ctx, 100), RAFT_OK);
    EXPECT_EQ(files_with_prefix(d.path, "log.").size(), 1u);
    s.append(101, 105, 3);
    s.sync();
  }
  Store s(d.path, 256);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  EXPECT_EQ(s.loaded.term, 3u);
  EXPECT_FALSE(s.loaded.log_conflicts_snapshot);
  EXPECT_EQ(s.loaded.first_index, 101u);
  EXPECT_EQ(s.loaded.stored_last, 105u);
  EXPECT_EQ(s.loaded.entries.size(), 5u);
}

TEST(FileCompaction, ACrashBeforeTheOldSegmentsAreDeletedLoadsTheSameLog) {
  TempDir d, saved;
  {
    Store s(d.path, 256);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    s.append(1, 40, 1);
    s.sync();
    for (const auto& f : files_with_prefix(d.path, "log."))
      fs::copy_file(d.path + "/" + f, saved.path + "/" + f);
    s.snapshot(100, 1, "state");
    ASSERT_EQ(s.st.compact(s.st.ctx, 100), RAFT_OK);
  }
  // Every suffix of the old segments may be left by a crash (oldest first).
  const auto old = files_with_prefix(saved.path, "log.");
  for (std::size_t keep_from = 0; keep_from <= old.size(); ++keep_from) {
    for (std::size_t i = 0; i < old.size(); ++i) {
      fs::remove(d.path + "/" + old[i]);
      if (i >= keep_from) fs::copy_file(saved.path + "/" + old[i], d.path + "/" + old[i]);
    }
    Store s(d.path, 256, /*load_now=*/false);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    RawLog raw = raw_load(s.st);
    ASSERT_EQ(raw.rc, RAFT_OK);
    EXPECT_EQ(raw.first, 101u) << "keeping segments from " << keep_from;
    EXPECT_TRUE(raw.entries.empty());
  }
}

TEST(FileCompaction, TruncateBeforeTheFirstRetainedEntry) {
  TempDir d;
  {
    Store s(d.path, 256);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    ASSERT_EQ(s.st.save_hard_state(s.st.ctx, 5, 0), RAFT_OK);
    for (Index i = 1; i <= 60; ++i) {
      s.append(i, i, 1);
      s.sync();
    }
    s.snapshot(40, 1, "s");
    ASSERT_EQ(s.st.compact(s.st.ctx, 40), RAFT_OK);
  }
  Index first_retained;
  {
    Store s(d.path, 256, /*load_now=*/false);
    ASSERT_EQ(s.rc, RAFT_OK) << s.why;
    RawLog raw = raw_load(s.st);
    first_retained = raw.first;
    ASSERT_GT(first_retained, 5u);
    ASSERT_EQ(s.st.truncate(s.st.ctx, 3), RAFT_OK);
    s.last = 2;
    s.append(3, 6, 5);
    s.sync();
  }
  Store s(d.path, 256, /*load_now=*/false);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  RawLog raw = raw_load(s.st);
  ASSERT_EQ(raw.rc, RAFT_OK);
  EXPECT_EQ(raw.first, 3u);
  ASSERT_EQ(raw.entries.size(), 4u);
  EXPECT_EQ(raw.entries[0], std::make_pair(Term{5}, payload(3)));
}

// A long run with frequent snapshots: segment files, the directory's size
// and the storage's bookkeeping stay bounded.
TEST(FileCompaction, ALongRunKeepsTheDirectoryBounded) {
  TempDir d;
  Store s(d.path, 2048);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  std::size_t peak_files = 0;
  std::uintmax_t peak_bytes = 0;
  for (Index i = 1; i <= 6000; i += 50) {
    s.append(i, i + 49, 1);
    s.sync();
    if ((i + 49) % 500 == 0) {
      s.snapshot(i + 49, 1, std::string(300, 's'));
      ASSERT_EQ(s.st.compact(s.st.ctx, i + 49 - 100), RAFT_OK);
      std::uintmax_t bytes = 0;
      std::size_t files = 0;
      for (const auto& f : fs::directory_iterator(d.path)) {
        bytes += fs::file_size(f.path());
        ++files;
      }
      if (i > 1000) {
        peak_files = std::max(peak_files, files);
        peak_bytes = std::max(peak_bytes, bytes);
      }
    }
  }
  // About 600 entries of ~45 bytes at most between compactions: ~14
  // segments of 2 KiB, plus LOCK, IDENTITY and the snapshot.
  EXPECT_LE(peak_files, 22u);
  EXPECT_LE(peak_bytes, 40u * 1024);
}

// ------------------------------------------------------------- memory storage

TEST(MemorySnapshot, KeepsTheCurrentSnapshotUntilClosed) {
  raft_storage st = storage::memory_storage();
  ASSERT_NE(st.snapshot_begin, nullptr);
  std::vector<std::uint8_t> buf(RAFT_SNAPSHOT_META_MAX);
  std::size_t len = 7;
  ASSERT_EQ(st.snapshot_meta(st.ctx, buf.data(), buf.size(), &len), RAFT_OK);
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(st.snapshot_write(st.ctx, "x", 1), RAFT_EINVAL);
  ASSERT_EQ(st.snapshot_begin(st.ctx), RAFT_OK);
  ASSERT_EQ(st.snapshot_write(st.ctx, "hello ", 6), RAFT_OK);
  ASSERT_EQ(st.snapshot_write(st.ctx, "world", 5), RAFT_OK);
  const auto meta = meta_for(9, 2, 11);
  ASSERT_EQ(st.snapshot_commit(st.ctx, 9, meta.data(), meta.size()), RAFT_OK);
  ASSERT_EQ(st.snapshot_begin(st.ctx), RAFT_OK);  // unfinished: the current one stays
  ASSERT_EQ(st.snapshot_write(st.ctx, "zzz", 3), RAFT_OK);
  ASSERT_EQ(st.snapshot_meta(st.ctx, buf.data(), buf.size(), &len), RAFT_OK);
  EXPECT_EQ(std::vector<std::uint8_t>(buf.begin(), buf.begin() + len), meta);
  char out[8];
  std::size_t got = 0;
  ASSERT_EQ(st.snapshot_read(st.ctx, 3, out, sizeof out, &got), RAFT_OK);
  EXPECT_EQ(std::string(out, got), "lo world");
  ASSERT_EQ(st.snapshot_read(st.ctx, 8, out, sizeof out, &got), RAFT_OK);
  EXPECT_EQ(std::string(out, got), "rld");
  EXPECT_EQ(st.snapshot_read(st.ctx, 12, out, sizeof out, &got), RAFT_EINVAL);
  EXPECT_EQ(st.compact(st.ctx, 9), RAFT_OK);
  st.close(st.ctx);  // frees the bytes (the ASan build checks)
}

// ----------------------------------------------------------- the loader rules

// A storage whose load() and snapshot_meta() answer what the test says.
struct Fake {
  Term term = 5;
  std::uint64_t first = 1;
  std::vector<Term> terms;  // one entry per term, from `first`
  std::vector<std::uint8_t> meta;
  bool with_snapshots = true;
  bool late_first = false;  // set *first_index only after the entries

  raft_storage storage() {
    raft_storage s{};
    s.version = RAFT_STORAGE_VERSION;
    s.ctx = this;
    s.load = [](void* ctx, std::uint64_t* term, raft_id* vote, std::uint64_t* first,
                int (*entry)(void*, const raft_entry*), void* arg) {
      auto* f = static_cast<Fake*>(ctx);
      *term = f->term;
      *vote = RAFT_NO_ID;
      if (!f->late_first) *first = f->first;
      for (std::size_t i = 0; i < f->terms.size(); ++i) {
        const std::string data = payload(f->first + i);
        raft_entry e{};
        e.term = f->terms[i];
        e.id = f->first + i;
        e.type = RAFT_ENTRY_COMMAND;
        e.data = data.data();
        e.len = data.size();
        if (entry(arg, &e) != 0) return RAFT_ECORRUPT;
      }
      *first = f->first;
      return RAFT_OK;
    };
    if (with_snapshots) {
      s.snapshot_begin = [](void*) { return RAFT_OK; };
      s.snapshot_write = [](void*, const void*, std::size_t) { return RAFT_OK; };
      s.snapshot_commit = [](void*, std::uint64_t, const void*, std::size_t) { return RAFT_OK; };
      s.snapshot_read = [](void*, std::uint64_t, void*, std::size_t, std::size_t*) {
        return RAFT_OK;
      };
      s.compact = [](void*, std::uint64_t) { return RAFT_OK; };
      s.snapshot_meta = [](void* ctx, void* buf, std::size_t cap, std::size_t* len) {
        auto* f = static_cast<Fake*>(ctx);
        if (f->meta.size() > cap) return RAFT_EINVAL;
        std::copy(f->meta.begin(), f->meta.end(), static_cast<std::uint8_t*>(buf));
        *len = f->meta.size();
        return RAFT_OK;
      };
    }
    return s;
  }

  int run(storage::Loaded& out, std::string& why) {
    why.clear();
    return storage::load(storage(), out, why);
  }
};

// Terms of `n` entries from `first` where the entry at `at` has term `t`
// (earlier ones 1, later ones t).
std::vector<Term> terms_with(Index first, std::size_t n, Index at, Term t) {
  std::vector<Term> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(first + i < at ? 1 : t);
  return v;
}

TEST(Loader, WithoutASnapshotTheLogStartsAtOne) {
  Fake f;
  f.with_snapshots = false;
  f.terms = {1, 1, 2};
  storage::Loaded out;
  std::string why;
  ASSERT_EQ(f.run(out, why), RAFT_OK) << why;
  EXPECT_EQ(out.first_index, 1u);
  EXPECT_EQ(out.stored_last, 3u);
  EXPECT_EQ(out.entries.size(), 3u);
  f.first = 2;
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
  EXPECT_NE(why.find("missing"), std::string::npos) << why;
  f.with_snapshots = true;  // snapshot functions, but no snapshot yet
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
}

TEST(Loader, KeepsTheSuffixOfALogThatHoldsTheSnapshotsLastEntry) {
  Fake f;
  f.meta = meta_for(10, 3);
  f.first = 5;
  f.terms = terms_with(5, 11, 10, 3);  // 5..15, term 3 from 10 on
  storage::Loaded out;
  std::string why;
  ASSERT_EQ(f.run(out, why), RAFT_OK) << why;
  EXPECT_EQ(out.snapshot.index, 10u);
  EXPECT_FALSE(out.log_conflicts_snapshot);
  EXPECT_EQ(out.first_index, 11u);
  EXPECT_EQ(out.stored_last, 15u);
  ASSERT_EQ(out.entries.size(), 5u);
  EXPECT_EQ(out.entries[0].id, 11u);
  // Payloads the snapshot covers are not copied.
  std::size_t kept = 0;
  for (Index i = 11; i <= 15; ++i) kept += payload(i).size();
  EXPECT_EQ(out.bytes.size(), kept);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.entries[4].data), out.entries[4].len),
            payload(15));
}

TEST(Loader, ALogEndingExactlyAtTheSnapshotOrStartingAfterItMatches) {
  Fake f;
  f.meta = meta_for(10, 3);
  f.first = 5;
  f.terms = terms_with(5, 6, 10, 3);  // 5..10
  storage::Loaded out;
  std::string why;
  ASSERT_EQ(f.run(out, why), RAFT_OK) << why;
  EXPECT_FALSE(out.log_conflicts_snapshot);
  EXPECT_TRUE(out.entries.empty());
  EXPECT_EQ(out.stored_last, 10u);
  f.first = 11;
  f.terms = {3, 4};
  ASSERT_EQ(f.run(out, why), RAFT_OK) << why;
  EXPECT_FALSE(out.log_conflicts_snapshot);
  EXPECT_EQ(out.entries.size(), 2u);
  EXPECT_EQ(out.stored_last, 12u);
  f.terms.clear();  // empty, starting right after the snapshot
  ASSERT_EQ(f.run(out, why), RAFT_OK) << why;
  EXPECT_FALSE(out.log_conflicts_snapshot);
  EXPECT_EQ(out.stored_last, 10u);
}

TEST(Loader, ALogThatConflictsWithTheSnapshotIsDropped) {
  Fake f;
  f.meta = meta_for(10, 3);
  f.first = 5;
  f.terms = terms_with(5, 11, 10, 2);  // term 2 at 10
  storage::Loaded out;
  std::string why;
  ASSERT_EQ(f.run(out, why), RAFT_OK) << why;
  EXPECT_TRUE(out.log_conflicts_snapshot);
  EXPECT_TRUE(out.entries.empty());
  EXPECT_TRUE(out.bytes.empty());
  EXPECT_EQ(out.stored_last, 15u);
  EXPECT_EQ(out.first_index, 11u);
  f.terms = terms_with(5, 3, 10, 3);  // ends at 7, before the snapshot
  ASSERT_EQ(f.run(out, why), RAFT_OK) << why;
  EXPECT_TRUE(out.log_conflicts_snapshot);
  EXPECT_EQ(out.stored_last, 7u);
  f.first = 1;
  f.terms.clear();  // a new storage that received only the snapshot
  ASSERT_EQ(f.run(out, why), RAFT_OK) << why;
  EXPECT_TRUE(out.log_conflicts_snapshot);
  EXPECT_EQ(out.stored_last, 0u);
}

TEST(Loader, RefusesWhatCannotBeTrue) {
  Fake f;
  f.meta = meta_for(10, 3);
  storage::Loaded out;
  std::string why;
  f.first = 12;  // a gap after the snapshot
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
  EXPECT_NE(why.find("gap"), std::string::npos) << why;
  f.first = 11;
  f.term = 2;  // snapshot term above the stored term
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
  EXPECT_NE(why.find("snapshot's term"), std::string::npos) << why;
  f.term = 5;
  f.terms = {2};  // after the snapshot, a lower term
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
  f.terms = {3, 6};  // above the stored term
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
  f.terms = {4, 3};  // backwards
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
  f.terms = {3};
  f.late_first = true;  // *first_index changed after the entries
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
  EXPECT_NE(why.find("first_index"), std::string::npos) << why;
  f.late_first = false;
  f.meta[20] ^= 1;  // meta that does not decode
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
  EXPECT_NE(why.find("meta"), std::string::npos) << why;
  f.meta = {1, 2, 3};
  EXPECT_EQ(f.run(out, why), RAFT_ECORRUPT);
}

}  // namespace
}  // namespace raft::test
