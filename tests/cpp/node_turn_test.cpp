// The order of work inside one turn of the driver.
#include <new>
#include <string>

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

// A turn cut short by an exception (here: out of memory in the apply
// callback, standing for any allocation inside the turn) may leave the log,
// the core and the outbox half-updated.  The node must stop for good, as
// after a storage failure, instead of going on from an inconsistent state.
TEST(NodeTurn, OutOfMemoryInATurnStopsTheNodeForGood) {
  raft_options opt;
  raft_options_init(&opt);
  opt.id = 1;
  opt.cluster_id = 7;
  raft_callbacks cb;
  raft_callbacks_init(&cb);
  static int applies = 0;
  applies = 0;
  cb.apply = [](std::uint64_t, const void*, std::size_t, void*) {
    if (++applies == 1) throw std::bad_alloc();
  };
  raft_node* node = nullptr;
  ASSERT_EQ(raft_node_create(&node, &opt, &cb, nullptr), RAFT_OK);
  std::uint64_t now = 1;
  for (int i = 0; i < 50; ++i) ASSERT_EQ(raft_node_poll(node, now += 100, nullptr), RAFT_OK);
  raft_status st;
  raft_status_init(&st);
  ASSERT_EQ(raft_node_status(node, &st), RAFT_OK);
  ASSERT_EQ(st.role, RAFT_LEADER);  // a lone voter elects itself
  ASSERT_EQ(raft_node_propose(node, 1, "x", 1), RAFT_OK);
  EXPECT_EQ(raft_node_poll(node, now += 1, nullptr), RAFT_ENOMEM);
  EXPECT_NE(std::string(raft_node_errmsg(node)).find("out of memory during a turn"),
            std::string::npos)
      << raft_node_errmsg(node);
  // Stopped: no more turns, no more applies, whatever comes.
  ASSERT_EQ(raft_node_propose(node, 2, "y", 1), RAFT_OK);
  EXPECT_EQ(raft_node_poll(node, now += 1, nullptr), RAFT_ENOMEM);
  EXPECT_EQ(raft_node_poll(node, now += 1000, nullptr), RAFT_ENOMEM);
  EXPECT_EQ(applies, 1);
  ASSERT_EQ(raft_node_status(node, &st), RAFT_OK);
  EXPECT_NE(st.role, RAFT_LEADER);
  raft_node_destroy(node);
}

}  // namespace
}  // namespace raft::test
