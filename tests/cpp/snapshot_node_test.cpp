// Snapshots end to end through the C API: real nodes, an in-memory network
// and a virtual clock (tests/cpp/c_cluster_harness.hpp).  The replicas'
// state is the list of applied ids; a snapshot is that list.
#include <unistd.h>

#include <cstdlib>
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

}  // namespace
}  // namespace raft::test
