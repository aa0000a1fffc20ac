// Snapshots end to end through the C API: real nodes, an in-memory network
// and a virtual clock (tests/cpp/c_cluster_harness.hpp).  The replicas'
// state is the list of applied ids; a snapshot is that list.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "c_cluster_harness.hpp"

namespace raft::test {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/raft-snapnode-XXXXXX";
  const char* d = mkdtemp(tmpl);
  EXPECT_NE(d, nullptr);
  return d ? d : "";
}

void remove_dir(const std::string& d) {
  if (!d.empty()) (void)!std::system(("rm -rf '" + d + "'").c_str());
}

// Proposes ids first..last on the leader, running the cluster as it goes.
void propose_all(CCluster& c, raft_id leader, std::uint64_t first, std::uint64_t last) {
  for (std::uint64_t id = first; id <= last; ++id) {
    ASSERT_EQ(raft_node_propose(c.at(leader).node, id, &id, sizeof id), RAFT_OK);
    if (id % 50 == 0) {
      ASSERT_EQ(c.run_for(2), RAFT_OK);
    }
  }
}

std::vector<std::uint64_t> ids(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = first; i <= last; ++i) v.push_back(i);
  return v;
}

TEST(SnapshotNode, ClusterCompactsAndEveryReplicaAppliesTheSameState) {
  CCluster c(3);
  c.snapshot_interval = 100;
  c.snapshot_trailing = 10;
  for (raft_id id = 1; id <= 3; ++id) ASSERT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  propose_all(c, leader, 1, 2000);
  ASSERT_TRUE(c.wait_applied(2000));
  for (raft_id id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.at(id).applied, ids(1, 2000)) << "replica " << id;
    const raft_status st = c.status(id);
    EXPECT_GE(st.snapshot_index, 1900u) << id;
    EXPECT_LE(st.snapshot_index, st.commit_index) << id;
    // The log holds at most an interval plus the trailing entries (and what
    // is newer than the last snapshot).
    const auto& log = c.core(id).log();
    EXPECT_GT(log.base_index(), 0u);
    EXPECT_LE(log.last_index() - log.base_index(), 100u + 10u + 10u) << id;
    EXPECT_GE(c.at(id).save_calls, 19) << id;
    EXPECT_TRUE(c.at(id).loads.empty()) << id;  // nobody needed a snapshot
  }
}

// Scenario 56 end to end: a replica that lost everything rejoins behind the
// leader's compacted prefix, installs the snapshot (many chunks) and then
// appends; its state equals the others'.
TEST(SnapshotNode, WipedFollowerCatchesUpThroughASnapshot) {
  CCluster c(3);
  c.snapshot_interval = 100;
  c.snapshot_trailing = 5;
  c.chunk_bytes = 256;  // an 8 KB snapshot: dozens of chunks
  for (raft_id id = 1; id <= 3; ++id) ASSERT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  const raft_id lagger = leader == 3 ? 2 : 3;
  c.stop(lagger);  // memory storage: it comes back empty
  propose_all(c, leader, 1, 1000);
  ASSERT_EQ(c.run_for(200), RAFT_OK);
  ASSERT_GT(c.core(leader).log().base_index(), 1u);
  ASSERT_EQ(c.start(lagger), RAFT_OK);
  ASSERT_TRUE(c.wait_applied(1000));
  EXPECT_EQ(c.at(lagger).applied, ids(1, 1000));
  ASSERT_FALSE(c.at(lagger).loads.empty());
  EXPECT_GE(c.at(lagger).loads.back(), 900u);
  // It keeps replicating normally afterwards.
  propose_all(c, leader, 1001, 1100);
  ASSERT_TRUE(c.wait_applied(1100));
  EXPECT_EQ(c.at(lagger).applied, ids(1, 1100));
  EXPECT_EQ(c.status(leader).term, c.status(lagger).term);
}

// A follower that was fully caught up loses its storage (wiped, restarted
// empty).  The leader still records it as matched; its rejections must make
// the leader start over from its empty log -- here with the snapshot.
TEST(SnapshotNode, CaughtUpFollowerThatLostItsStorageIsRebuilt) {
  CCluster c(3);
  c.snapshot_interval = 100;
  c.snapshot_trailing = 5;
  c.chunk_bytes = 512;
  for (raft_id id = 1; id <= 3; ++id) ASSERT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  const raft_id wiped = leader == 3 ? 2 : 3;
  propose_all(c, leader, 1, 700);
  ASSERT_TRUE(c.wait_applied(700));
  c.stop(wiped);  // memory storage: everything is gone
  ASSERT_EQ(c.start(wiped), RAFT_OK);
  ASSERT_TRUE(c.wait_applied(700, 3000));
  EXPECT_EQ(c.at(wiped).applied, ids(1, 700));
  ASSERT_FALSE(c.at(wiped).loads.empty());
  EXPECT_EQ(c.status(leader).role, RAFT_LEADER);  // no election was needed
}

// Restart: snapshot_load with the latest snapshot, then replay of the log
// after it -- never a transition twice, never one missing.
TEST(SnapshotNode, RestartLoadsTheSnapshotThenReplaysTheSuffix) {
  const std::string dir = temp_dir();
  {
    CCluster c(1);
    c.snapshot_interval = 100;
    c.snapshot_trailing = 10;
    c.at(1).data_dir = dir;
    ASSERT_EQ(c.start(1), RAFT_OK);
    ASSERT_EQ(c.wait_leader(), 1u);
    propose_all(c, 1, 1, 250);
    ASSERT_TRUE(c.wait_applied(250));
    const raft_status st = c.status(1);
    EXPECT_GE(st.snapshot_index, 200u);
    c.stop(1);
    ASSERT_EQ(c.start(1), RAFT_OK);
    ASSERT_EQ(c.at(1).loads.size(), 1u);
    EXPECT_EQ(c.at(1).loads[0], st.snapshot_index);
    // The snapshot alone is the state up to its index.
    EXPECT_EQ(c.at(1).applied, ids(1, st.snapshot_index - 1));
    ASSERT_EQ(c.wait_leader(), 1u);
    ASSERT_TRUE(c.wait_applied(250));
    EXPECT_EQ(c.at(1).applied, ids(1, 250));
    EXPECT_EQ(c.status(1).snapshot_index, st.snapshot_index);
  }
  remove_dir(dir);
}

// A save that takes longer than the election timeout, in steps, does not
// cost the leader its leadership: heartbeats and commits go on meanwhile;
// only applying waits.
TEST(SnapshotNode, SaveInStepsLongerThanTheElectionTimeoutKeepsTheLeader) {
  CCluster c(3);
  c.snapshot_interval = 200;
  c.snapshot_trailing = 0;
  c.save_steps = 500;  // one step per 1 ms turn: 500 ms > election timeout 300 ms
  for (raft_id id = 1; id <= 3; ++id) ASSERT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  std::uint64_t elections_before = 0;
  for (raft_id id = 1; id <= 3; ++id) elections_before += c.status(id).elections_started;
  const raft_status before = c.status(leader);
  propose_all(c, leader, 1, 199);
  ASSERT_TRUE(c.wait_applied(199));
  propose_all(c, leader, 200, 200);  // crosses the interval: saves begin
  ASSERT_EQ(c.run_for(20), RAFT_OK);
  ASSERT_EQ(c.at(leader).save_calls, 1);
  // While saving, new entries commit but are not applied.
  propose_all(c, leader, 201, 220);
  ASSERT_EQ(c.run_for(300), RAFT_OK);
  EXPECT_GE(c.status(leader).commit_index, 221u);
  EXPECT_LE(c.at(leader).applied.size(), 200u);
  ASSERT_TRUE(c.wait_applied(220, 2000));
  for (raft_id id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.at(id).applied, ids(1, 220));
    EXPECT_GE(c.status(id).snapshot_index, 200u);
  }
  const raft_status after = c.status(leader);
  EXPECT_EQ(after.role, RAFT_LEADER);
  EXPECT_EQ(after.term, before.term);
  std::uint64_t elections_after = 0;
  for (raft_id id = 1; id <= 3; ++id) elections_after += c.status(id).elections_started;
  EXPECT_EQ(elections_after, elections_before);
}

// An in-memory raft_storage that logs every call, to check the order in
// which the node writes.  Every call is "durable" at once (order is what
// matters here).
class RecordingStorage {
 public:
  RecordingStorage() {
    raft_storage_init(&vt_);
    vt_.ctx = this;
    vt_.load = [](void* c, std::uint64_t* term, raft_id* vote, std::uint64_t* first,
                  int (*entry)(void*, const raft_entry*), void* arg) {
      auto* self = static_cast<RecordingStorage*>(c);
      *term = self->term_;
      *vote = self->vote_;
      *first = self->first_;
      for (const auto& e : self->log_) {
        raft_entry r{e.term, e.id, e.type, e.data.data(), e.data.size()};
        if (entry(arg, &r) != 0) return RAFT_ECORRUPT;
      }
      return RAFT_OK;
    };
    vt_.save_hard_state = [](void* c, std::uint64_t term, raft_id vote) {
      auto* self = static_cast<RecordingStorage*>(c);
      self->term_ = term;
      self->vote_ = vote;
      return RAFT_OK;
    };
    vt_.append = [](void* c, std::uint64_t first, const raft_entry* es, std::size_t n) {
      auto* self = static_cast<RecordingStorage*>(c);
      if (first != self->first_ + self->log_.size()) return RAFT_EINVAL;
      for (std::size_t i = 0; i < n; ++i)
        self->log_.push_back(Entry{es[i].term, es[i].id, es[i].type,
                                   std::string(static_cast<const char*>(es[i].data), es[i].len)});
      return RAFT_OK;
    };
    vt_.truncate = [](void* c, std::uint64_t from) {
      auto* self = static_cast<RecordingStorage*>(c);
      self->calls.push_back("truncate " + std::to_string(from));
      if (from < self->first_) from = self->first_;
      if (from - self->first_ < self->log_.size()) self->log_.resize(from - self->first_);
      return RAFT_OK;
    };
    vt_.sync = [](void* c) {
      static_cast<RecordingStorage*>(c)->calls.push_back("sync");
      return RAFT_OK;
    };
    vt_.snapshot_begin = [](void* c) {
      static_cast<RecordingStorage*>(c)->pending_.clear();
      return RAFT_OK;
    };
    vt_.snapshot_write = [](void* c, const void* d, std::size_t n) {
      static_cast<RecordingStorage*>(c)->pending_.append(static_cast<const char*>(d), n);
      return RAFT_OK;
    };
    vt_.snapshot_commit = [](void* c, std::uint64_t index, const void* meta, std::size_t n) {
      auto* self = static_cast<RecordingStorage*>(c);
      self->calls.push_back("snapshot_commit " + std::to_string(index));
      self->snapshot_ = self->pending_;
      self->meta_.assign(static_cast<const char*>(meta), n);
      self->snapshot_index_ = index;
      return RAFT_OK;
    };
    vt_.snapshot_meta = [](void* c, void* buf, std::size_t cap, std::size_t* n) {
      auto* self = static_cast<RecordingStorage*>(c);
      if (self->meta_.size() > cap) return RAFT_EINVAL;
      std::memcpy(buf, self->meta_.data(), self->meta_.size());
      *n = self->meta_.size();
      return RAFT_OK;
    };
    vt_.snapshot_read = [](void* c, std::uint64_t off, void* buf, std::size_t cap,
                           std::size_t* got) {
      auto* self = static_cast<RecordingStorage*>(c);
      if (off > self->snapshot_.size()) return RAFT_EINVAL;
      *got = std::min<std::size_t>(cap, self->snapshot_.size() - off);
      std::memcpy(buf, self->snapshot_.data() + off, *got);
      return RAFT_OK;
    };
    vt_.compact = [](void* c, std::uint64_t index) {
      auto* self = static_cast<RecordingStorage*>(c);
      self->calls.push_back("compact " + std::to_string(index));
      while (!self->log_.empty() && self->first_ <= index) {
        self->log_.erase(self->log_.begin());
        ++self->first_;
      }
      if (self->first_ <= index) self->first_ = index + 1;
      return RAFT_OK;
    };
  }
  const raft_storage* vtable() const { return &vt_; }
  std::vector<std::string> calls;  // truncate, sync, snapshot_commit, compact

 private:
  struct Entry {
    std::uint64_t term, id;
    std::uint32_t type;
    std::string data;
  };
  raft_storage vt_;
  std::uint64_t term_ = 0, vote_ = 0, first_ = 1, snapshot_index_ = 0;
  std::vector<Entry> log_;
  std::string pending_, snapshot_, meta_;
};

// A deposed leader holds a long uncommitted suffix that conflicts with the
// new leader's snapshot.  Installing it must remove that suffix durably
// (truncate, then sync) before any of its log is compacted away: otherwise
// a crash could leave a log that starts right after the snapshot with
// entries that do not follow it.
TEST(SnapshotNode, ConflictingSuffixIsTruncatedAndSyncedBeforeCompaction) {
  CCluster c(3);
  c.snapshot_interval = 100;
  c.snapshot_trailing = 0;
  RecordingStorage disks[3];
  for (raft_id id = 1; id <= 3; ++id) {
    c.at(id).storage = disks[id - 1].vtable();
    ASSERT_EQ(c.start(id), RAFT_OK);
  }
  const raft_id old_leader = c.wait_leader();
  ASSERT_NE(old_leader, 0u);
  propose_all(c, old_leader, 1, 20);
  ASSERT_TRUE(c.wait_applied(20));
  // Cut off, the old leader appends 600 entries nobody else sees.
  c.isolated.insert(old_leader);
  propose_all(c, old_leader, 1001, 1600);
  ASSERT_EQ(c.run_for(1000), RAFT_OK);
  // The others elect a leader and go past a snapshot that covers indexes
  // the old leader holds with its own term.
  raft_id new_leader = 0;
  for (raft_id id = 1; id <= 3; ++id) {
    if (id != old_leader && c.status(id).role == RAFT_LEADER) new_leader = id;
  }
  ASSERT_NE(new_leader, 0u);
  propose_all(c, new_leader, 2001, 2300);
  ASSERT_EQ(c.run_for(200), RAFT_OK);
  const raft_status st = c.status(new_leader);
  ASSERT_GT(st.snapshot_index, 200u);
  disks[old_leader - 1].calls.clear();
  c.isolated.clear();
  ASSERT_EQ(c.run_for(2000), RAFT_OK);
  // The old leader installed the snapshot and now agrees with the others.
  EXPECT_EQ(c.at(old_leader).applied, c.at(new_leader).applied);
  ASSERT_FALSE(c.at(old_leader).loads.empty());
  const auto& calls = disks[old_leader - 1].calls;
  auto at = [&](const std::string& call) {
    return std::find(calls.begin(), calls.end(), call) - calls.begin();
  };
  const std::string snap = std::to_string(c.at(old_leader).loads.front());
  const auto commit = at("snapshot_commit " + snap);
  const auto truncate = at("truncate " + std::to_string(std::stoull(snap) + 1));
  const auto compact = at("compact " + snap);
  ASSERT_LT(static_cast<std::size_t>(commit), calls.size());
  ASSERT_LT(static_cast<std::size_t>(truncate), calls.size());
  ASSERT_LT(static_cast<std::size_t>(compact), calls.size());
  EXPECT_LT(commit, truncate);
  EXPECT_LT(truncate, compact);
  EXPECT_NE(std::find(calls.begin() + truncate, calls.begin() + compact, "sync"),
            calls.begin() + compact)
      << "no sync between the truncation and the compaction";
}

}  // namespace
}  // namespace raft::test
