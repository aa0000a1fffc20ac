// A leader that cannot commit stops taking proposals at
// max_uncommitted_bytes: what is queued, what a turn has taken from the
// queue and what sits in its log beyond the commit index all count, so its
// memory stays bounded however long its followers are unreachable.
#include <gtest/gtest.h>

#include <string>

#include "c_cluster_harness.hpp"
#include "core/core.hpp"

namespace raft::test {
namespace {

constexpr std::uint64_t kLimit = 2000;
const std::string kPayload(100, 'p');  // 124 bytes while queued

// Proposes kPayload on node `id` until it is refused; returns how many were
// taken.  The refusal must be the uncommitted limit's.
int propose_until_busy(CCluster& c, raft_id id, std::uint64_t* next_tid) {
  for (int taken = 0;; ++taken) {
    const int rc =
        raft_node_propose(c.at(id).node, (*next_tid)++, kPayload.data(), kPayload.size());
    if (rc == RAFT_EBUSY) {
      EXPECT_NE(std::string(raft_node_errmsg(c.at(id).node)).find("max_uncommitted_bytes"),
                std::string::npos)
          << raft_node_errmsg(c.at(id).node);
      --*next_tid;
      return taken;
    }
    EXPECT_EQ(rc, RAFT_OK);
    if (rc != RAFT_OK) return taken;
  }
}

std::uint64_t uncommitted_in_log(CCluster& c, raft_id id) {
  const core::Core& core = c.core(id);
  return core.log().payload_after(core.commit_index());
}

// Starts three nodes with the given limit and cuts the leader's followers
// off; returns the leader.
raft_id isolated_leader(CCluster& c, std::uint64_t limit) {
  c.max_uncommitted_bytes = limit;
  for (raft_id id = 1; id <= 3; ++id) EXPECT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  EXPECT_NE(leader, 0u);
  for (raft_id id = 1; id <= 3; ++id)
    if (id != leader) c.isolated.insert(id);
  return leader;
}

// Proposes until refused, then runs one turn (one millisecond: well inside
// the election timeout, so the cut-off leader keeps leading; check-quorum
// would step it down later); the log must stay within the limit.  Returns
// how many proposals were taken.
int round_at_the_limit(CCluster& c, raft_id leader, std::uint64_t* tid, int round) {
  const int taken = propose_until_busy(c, leader, tid);
  EXPECT_EQ(c.run_for(1), RAFT_OK);
  EXPECT_EQ(c.status(leader).role, RAFT_LEADER);
  EXPECT_LE(uncommitted_in_log(c, leader), kLimit) << "round " << round;
  return taken;
}

TEST(NodeFlowControl, ALeaderThatCannotCommitStopsAtTheLimit) {
  CCluster c(3);
  const raft_id leader = isolated_leader(c, kLimit);
  ASSERT_NE(leader, 0u);
  std::uint64_t tid = 1;
  int admitted = 0;
  int admitted_late = 0;
  for (int round = 0; round < 20; ++round) {
    const int taken = round_at_the_limit(c, leader, &tid, round);
    admitted += taken;
    if (round >= 2) admitted_late += taken;
  }
  // 2000 bytes hold 16 proposals of 100 (each counted at 124 while queued).
  EXPECT_GE(admitted, 15);
  EXPECT_LE(admitted, 20);
  EXPECT_EQ(admitted_late, 0) << "more was taken although nothing committed";

  // Once the followers hear again, everything taken commits and applies,
  // and the leader takes proposals again.
  c.isolated.clear();
  ASSERT_TRUE(c.wait_applied(static_cast<std::size_t>(admitted)));
  EXPECT_EQ(uncommitted_in_log(c, leader), 0u);
  EXPECT_GT(propose_until_busy(c, leader, &tid), 0);
}

TEST(NodeFlowControl, ProposalsDuringATurnCountWhatTheTurnTookFromTheQueue) {
  CCluster c(3);
  const raft_id leader = isolated_leader(c, kLimit);
  ASSERT_NE(leader, 0u);
  std::uint64_t tid = 1;
  int during_turns = 0;
  // The leader's send callback runs inside its turn, after the turn took
  // the queue and before the turn's end recounts the uncommitted bytes:
  // proposals made there must see what the turn took.
  c.on_send = [&](CCluster::Replica& sender) {
    if (sender.id == leader) during_turns += propose_until_busy(c, leader, &tid);
  };
  for (int round = 0; round < 10; ++round) round_at_the_limit(c, leader, &tid, round);
  c.on_send = nullptr;
  ASSERT_EQ(c.run_for(1), RAFT_OK);  // whatever the last sends queued
  EXPECT_LE(uncommitted_in_log(c, leader), kLimit);
  EXPECT_GT(during_turns, 0) << "the send callback never found room: the test tests nothing";
}

// A proposal larger than the limit is still taken when nothing is
// uncommitted: the limit bounds memory, it must not make an entry size
// impossible to propose.
TEST(NodeFlowControl, OneProposalIsTakenWhenNothingIsUncommitted) {
  CCluster c(3);
  const raft_id leader = isolated_leader(c, 50);
  ASSERT_NE(leader, 0u);
  raft_node* node = c.at(leader).node;
  EXPECT_EQ(raft_node_propose(node, 1, kPayload.data(), kPayload.size()), RAFT_OK);
  EXPECT_EQ(raft_node_propose(node, 2, kPayload.data(), kPayload.size()), RAFT_EBUSY);
  ASSERT_EQ(c.run_for(1), RAFT_OK);
  EXPECT_EQ(raft_node_propose(node, 2, kPayload.data(), kPayload.size()), RAFT_EBUSY);
  c.isolated.clear();
  ASSERT_TRUE(c.wait_applied(1));
  EXPECT_EQ(raft_node_propose(node, 2, kPayload.data(), kPayload.size()), RAFT_OK);
}

}  // namespace
}  // namespace raft::test
