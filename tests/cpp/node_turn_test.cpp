// The order of work inside one turn of the driver.
#include "c_cluster_harness.hpp"

namespace raft::test {
namespace {

// Found by the benchmark (a turn longer than the election timeout): the
// driver fired timers before reading the inbox, so a leader ran its
// check-quorum while its followers' acks were still unread, and stepped down
// from a healthy cluster.  Messages that arrived must be handled first.
TEST(NodeTurn, MessagesAreHandledBeforeTimersFire) {
  CCluster c(3);
  for (raft_id id = 1; id <= 3; ++id) ASSERT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  const std::uint64_t t = c.now();
  const std::uint64_t min = 150;  // election_timeout_min_ms default
  // A quorum check (and a heartbeat) happens here; its window starts now.
  ASSERT_EQ(c.poll_at(leader, t + 2 * min), RAFT_OK);
  // The followers answer the heartbeat: their acks wait in the leader's inbox.
  for (raft_id id = 1; id <= 3; ++id) {
    if (id != leader) {
      ASSERT_EQ(c.poll_at(id, t + 2 * min), RAFT_OK);
    }
  }
  ASSERT_FALSE(c.at(leader).inbox.empty());
  // The leader's next turn comes after the window closed.
  ASSERT_EQ(c.poll_at(leader, t + 4 * min), RAFT_OK);
  EXPECT_EQ(c.status(leader).role, RAFT_LEADER);
}

}  // namespace
}  // namespace raft::test
