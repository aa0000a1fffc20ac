// The built-in file storage: round trips, locking, identity, and what
// happens to every kind of damage a crash or a bad disk can leave.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "storage/storage.hpp"
#include "temp_dir.hpp"

namespace raft::test {
namespace {

namespace fs = std::filesystem;

struct Entry {
  Term term;
  std::uint64_t id;
  std::string data;
  bool operator==(const Entry& o) const { return term == o.term && id == o.id && data == o.data; }
};

struct State {
  int rc = RAFT_OK;
  std::string why;
  Term term = 0;
  NodeId vote = 0;
  std::vector<Entry> entries;
};

// Opens dir, loads everything, closes.
State read_back(const std::string& dir, NodeId node = 1, std::uint64_t cluster = 7) {
  State s;
  raft_storage st{};
  s.rc = storage::open_file_storage(dir.c_str(), node, cluster, st, s.why);
  if (s.rc != RAFT_OK) return s;
  storage::Loaded loaded;
  s.rc = storage::load(st, loaded, s.why);
  st.close(st.ctx);
  if (s.rc != RAFT_OK) return s;
  s.term = loaded.term;
  s.vote = loaded.vote;
  for (const auto& e : loaded.entries)
    s.entries.push_back(
        Entry{e.term, e.id, std::string(reinterpret_cast<const char*>(e.data), e.len)});
  return s;
}

class Writer {
 public:
  explicit Writer(const std::string& dir,
                  std::uint64_t segment_bytes = storage::kDefaultSegmentBytes) {
    std::string why;
    rc = storage::open_file_storage(dir.c_str(), 1, 7, st, why, segment_bytes);
    EXPECT_EQ(rc, RAFT_OK) << why;
    if (rc == RAFT_OK) {
      storage::Loaded loaded;
      EXPECT_EQ(storage::load(st, loaded, why), RAFT_OK) << why;
      last = loaded.entries.size();
    }
  }
  ~Writer() {
    if (rc == RAFT_OK) st.close(st.ctx);
  }
  void append(const Entry& e) {
    raft_entry r{};
    r.term = e.term;
    r.id = e.id;
    r.type = RAFT_ENTRY_COMMAND;
    r.data = e.data.data();
    r.len = e.data.size();
    ASSERT_EQ(st.append(st.ctx, ++last, &r, 1), RAFT_OK);
  }
  // All of `v` in one append call (batch records, split at term changes).
  void append_all(const std::vector<Entry>& v) {
    std::vector<raft_entry> rs(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      rs[i].term = v[i].term;
      rs[i].id = v[i].id;
      rs[i].type = RAFT_ENTRY_COMMAND;
      rs[i].data = v[i].data.data();
      rs[i].len = v[i].data.size();
    }
    ASSERT_EQ(st.append(st.ctx, last + 1, rs.data(), rs.size()), RAFT_OK);
    last += v.size();
  }
  void hard_state(Term t, NodeId v) { ASSERT_EQ(st.save_hard_state(st.ctx, t, v), RAFT_OK); }
  void truncate(Index from) {
    ASSERT_EQ(st.truncate(st.ctx, from), RAFT_OK);
    last = from - 1;
  }
  void sync() { ASSERT_EQ(st.sync(st.ctx), RAFT_OK); }

  int rc;
  raft_storage st{};
  Index last = 0;
};

std::vector<Entry> sample(int n, Term term = 1) {
  std::vector<Entry> v;
  for (int i = 0; i < n; ++i)
    v.push_back(
        Entry{term, static_cast<std::uint64_t>(100 + i), std::string(i % 7 + 3, 'a' + i % 26)});
  return v;
}

std::string only_segment(const std::string& dir) {
  std::string seg;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.path().filename().string().rfind("log.", 0) == 0) seg = f.path();
  return seg;
}

TEST(FileStorage, RoundTripOfHardStateAndEntries) {
  TempDir d;
  auto entries = sample(10, 3);
  {
    Writer w(d.path);
    w.hard_state(3, 2);
    for (auto& e : entries) w.append(e);
    w.sync();
  }
  State s = read_back(d.path);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  EXPECT_EQ(s.term, 3u);
  EXPECT_EQ(s.vote, 2u);
  EXPECT_EQ(s.entries, entries);
}

TEST(FileStorage, TruncationIsReplayed) {
  TempDir d;
  auto entries = sample(6, 1);
  {
    Writer w(d.path);
    w.hard_state(2, 0);
    for (auto& e : entries) w.append(e);
    w.sync();
    w.truncate(4);
    w.append(Entry{2, 999, "new"});
    w.sync();
  }
  State s = read_back(d.path);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  std::vector<Entry> expect(entries.begin(), entries.begin() + 3);
  expect.push_back(Entry{2, 999, "new"});
  EXPECT_EQ(s.entries, expect);
  // The log continues correctly after a reopen.
  {
    Writer w(d.path);
    EXPECT_EQ(w.last, 4u);
    w.append(Entry{2, 1000, "more"});
    w.sync();
  }
  EXPECT_EQ(read_back(d.path).entries.size(), 5u);
}

TEST(FileStorage, UnsyncedWritesAreNotDurable) {
  TempDir d;
  {
    Writer w(d.path);
    w.hard_state(1, 0);
    w.append(Entry{1, 1, "kept"});
    w.sync();
    w.append(Entry{1, 2, "lost"});
  }
  State s = read_back(d.path);
  ASSERT_EQ(s.rc, RAFT_OK);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].data, "kept");
}

TEST(FileStorage, ADirectoryIsLockedByOneNode) {
  TempDir d;
  Writer first(d.path);
  raft_storage st{};
  std::string why;
  EXPECT_EQ(storage::open_file_storage(d.path.c_str(), 1, 7, st, why), RAFT_EBUSY);
  EXPECT_NE(why.find("in use"), std::string::npos) << why;
}

TEST(FileStorage, RefusesAnotherNodesOrClustersDirectory) {
  TempDir d;
  { Writer w(d.path); }
  State other_node = read_back(d.path, 2, 7);
  EXPECT_EQ(other_node.rc, RAFT_EINVAL);
  EXPECT_NE(other_node.why.find("belongs to node 1"), std::string::npos) << other_node.why;
  EXPECT_EQ(read_back(d.path, 1, 8).rc, RAFT_EINVAL);
  EXPECT_EQ(read_back(d.path, 1, 7).rc, RAFT_OK);
}

TEST(FileStorage, MissingIdentityWithALogIsCorruption) {
  TempDir d;
  {
    Writer w(d.path);
    w.hard_state(1, 0);
    w.append(Entry{1, 1, "x"});
    w.sync();
  }
  fs::remove(d.path + "/IDENTITY");
  EXPECT_EQ(read_back(d.path).rc, RAFT_ECORRUPT);
}

TEST(FileStorage, ManySegmentsReplayInOrderAndAGapIsCorruption) {
  TempDir d;
  auto entries = sample(60, 1);
  {
    Writer w(d.path, /*segment_bytes=*/200);
    w.hard_state(1, 0);
    for (auto& e : entries) {
      w.append(e);
      w.sync();
    }
  }
  int segments = 0;
  std::string middle;
  for (const auto& f : fs::directory_iterator(d.path))
    if (f.path().filename().string().rfind("log.", 0) == 0) ++segments;
  EXPECT_GT(segments, 5);
  State s = read_back(d.path);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  EXPECT_EQ(s.entries, entries);
  fs::remove(d.path + "/log.0000000000000002");
  State broken = read_back(d.path);
  EXPECT_EQ(broken.rc, RAFT_ECORRUPT);
  EXPECT_NE(broken.why.find("missing"), std::string::npos) << broken.why;
}

TEST(FileStorage, TornTailIsCutBackToTheLastWholeRecord) {
  TempDir d;
  auto entries = sample(5);
  {
    Writer w(d.path);
    w.hard_state(1, 0);
    for (auto& e : entries) w.append(e);
    w.sync();
  }
  const std::string seg = only_segment(d.path);
  const auto good_size = fs::file_size(seg);
  {
    std::ofstream out(seg, std::ios::app | std::ios::binary);
    out << std::string(9, '\x01');  // half a record header
  }
  State s = read_back(d.path);
  ASSERT_EQ(s.rc, RAFT_OK) << s.why;
  EXPECT_EQ(s.entries, entries);
  EXPECT_EQ(fs::file_size(seg), good_size);
}

// A small log written once; each damage case works on a copy.
class DamagedLog : public ::testing::Test {
 protected:
  void SetUp() override {
    entries_ = sample(6, 2);
    Writer w(orig_.path);
    w.hard_state(2, 1);
    // A batch record of three entries, then three records of one.
    w.append_all({entries_.begin(), entries_.begin() + 3});
    w.sync();
    for (int i = 3; i < 6; ++i) w.append(entries_[i]);
    w.sync();
    segment_name_ = fs::path(only_segment(orig_.path)).filename();
    std::ifstream in(orig_.path + "/" + segment_name_, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), {});
  }

  // Writes `bytes` as the segment of a fresh copy and reads it back.
  State open_with(const std::string& bytes) {
    TempDir copy;
    fs::copy_file(orig_.path + "/IDENTITY", copy.path + "/IDENTITY");
    std::ofstream(copy.path + "/" + segment_name_, std::ios::binary) << bytes;
    return read_back(copy.path);
  }

  // The only acceptable outcomes: corruption reported, or a clean prefix.
  void expect_prefix_or_corrupt(const State& s, const std::string& what) {
    if (s.rc == RAFT_ECORRUPT) return;
    ASSERT_EQ(s.rc, RAFT_OK) << what << ": " << s.why;
    ASSERT_LE(s.entries.size(), entries_.size()) << what;
    for (std::size_t i = 0; i < s.entries.size(); ++i) ASSERT_EQ(s.entries[i], entries_[i]) << what;
    if (s.term != 0) {
      EXPECT_EQ(s.term, 2u) << what;
      EXPECT_EQ(s.vote, 1u) << what;
    }
  }

  TempDir orig_;
  std::vector<Entry> entries_;
  std::string segment_name_;
  std::string bytes_;
};

TEST_F(DamagedLog, EveryTruncationOpensToAPrefix) {
  for (std::size_t n = 0; n <= bytes_.size(); ++n) {
    State s = open_with(bytes_.substr(0, n));
    ASSERT_EQ(s.rc, RAFT_OK) << "cut at " << n << ": " << s.why;
    expect_prefix_or_corrupt(s, "cut at " + std::to_string(n));
  }
  EXPECT_EQ(open_with(bytes_).entries.size(), entries_.size());
}

TEST_F(DamagedLog, EverySingleByteCorruptionIsCaughtOrCutAsATail) {
  int corrupt = 0, clean = 0;
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string damaged = bytes_;
      damaged[i] = static_cast<char>(damaged[i] ^ mask);
      State s = open_with(damaged);
      expect_prefix_or_corrupt(s, "byte " + std::to_string(i));
      (s.rc == RAFT_ECORRUPT ? corrupt : clean)++;
    }
  }
  // Damage before the last record must be reported, not silently cut.
  EXPECT_GT(corrupt, clean);
}

// A child process appends and reports each durable index through a pipe; it
// is SIGKILLed at a random moment.  Every index it reported must be there.
TEST(FileStorage, SurvivesSigkillAtRandomPoints) {
  TempDir d;
  std::mt19937 rng(12345);
  std::uint64_t reported = 0;
  const int kills = 200;
  for (int round = 0; round < kills; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      raft_storage st{};
      std::string why;
      if (storage::open_file_storage(d.path.c_str(), 1, 7, st, why, 4096) != RAFT_OK) _exit(2);
      storage::Loaded loaded;
      if (storage::load(st, loaded, why) != RAFT_OK) _exit(3);
      std::uint64_t last = loaded.entries.size();
      if (st.save_hard_state(st.ctx, 1, 0) != RAFT_OK) _exit(4);
      for (;;) {
        std::string payload = "entry-" + std::to_string(last + 1);
        raft_entry r{};
        r.term = 1;
        r.id = last + 1;
        r.type = RAFT_ENTRY_COMMAND;
        r.data = payload.data();
        r.len = payload.size();
        if (st.append(st.ctx, last + 1, &r, 1) != RAFT_OK) _exit(4);
        if (st.sync(st.ctx) != RAFT_OK) _exit(5);
        ++last;
        if (::write(fds[1], &last, sizeof last) != sizeof last) _exit(6);
      }
    }
    ::close(fds[1]);
    ::usleep(std::uniform_int_distribution<int>(0, 3000)(rng));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    std::uint64_t v;
    while (::read(fds[0], &v, sizeof v) == sizeof v) reported = std::max(reported, v);
    ::close(fds[0]);
    State s = read_back(d.path);
    ASSERT_EQ(s.rc, RAFT_OK) << "after kill " << round << ": " << s.why;
    ASSERT_GE(s.entries.size(), reported) << "after kill " << round;
    for (std::size_t i = 0; i < s.entries.size(); ++i) {
      ASSERT_EQ(s.entries[i].id, i + 1);
      ASSERT_EQ(s.entries[i].data, "entry-" + std::to_string(i + 1));
    }
  }
  EXPECT_GT(reported, 0u);
}

}  // namespace
}  // namespace raft::test
