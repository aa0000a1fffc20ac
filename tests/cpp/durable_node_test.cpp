// Nodes with durable storage: a restart resumes term, vote and log; a
// failing storage stops the node before anything that depends on it leaves.
#include <filesystem>

#include "c_cluster_harness.hpp"

namespace raft::test {
namespace {

namespace fs = std::filesystem;

struct TempDirs {
  explicit TempDirs(int n) {
    char tmpl[] = "/tmp/raft-durable-XXXXXX";
    root = ::mkdtemp(tmpl);
    for (int i = 1; i <= n; ++i) dirs.push_back(root + "/node" + std::to_string(i));
  }
  ~TempDirs() { fs::remove_all(root); }
  std::string root;
  std::vector<std::string> dirs;
};

TEST(DurableNode, RestartResumesTermVoteAndLog) {
  TempDirs tmp(3);
  CCluster c(3);
  for (raft_id id = 1; id <= 3; ++id) {
    c.at(id).data_dir = tmp.dirs[id - 1];
    ASSERT_EQ(c.start(id), RAFT_OK);
  }
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  for (std::uint64_t i = 1; i <= 50; ++i)
    ASSERT_EQ(raft_node_propose(c.at(leader).node, i, "v", 1), RAFT_OK);
  ASSERT_TRUE(c.wait_applied(50));

  std::vector<std::uint64_t> terms, votes, lasts;
  for (raft_id id = 1; id <= 3; ++id) {
    terms.push_back(c.core(id).term());
    votes.push_back(c.core(id).voted_for());
    lasts.push_back(c.core(id).log().last_index());
  }
  const auto before = c.at(1).applied;
  for (raft_id id = 1; id <= 3; ++id) c.stop(id);
  for (raft_id id = 1; id <= 3; ++id) {
    ASSERT_EQ(c.start(id), RAFT_OK);
    // Before any poll, the status and the core reflect the stored state.
    EXPECT_EQ(c.status(id).term, terms[id - 1]);
    EXPECT_EQ(c.status(id).last_index, lasts[id - 1]);
    EXPECT_EQ(c.core(id).voted_for(), votes[id - 1]);
  }
  const raft_id leader2 = c.wait_leader();
  ASSERT_NE(leader2, 0u);
  EXPECT_GT(c.status(leader2).term, terms[leader2 - 1]);
  for (std::uint64_t i = 51; i <= 100; ++i)
    ASSERT_EQ(raft_node_propose(c.at(leader2).node, i, "w", 1), RAFT_OK);
  ASSERT_TRUE(c.wait_applied(100));
  // Every replica re-applied the old entries, then the new ones, in order.
  for (raft_id id = 1; id <= 3; ++id) {
    ASSERT_EQ(c.at(id).applied.size(), 100u);
    EXPECT_TRUE(std::equal(before.begin(), before.end(), c.at(id).applied.begin()));
    EXPECT_EQ(c.at(id).applied, c.at(1).applied);
  }
}

TEST(DurableNode, SingleNodeRestartReappliesItsLog) {
  TempDirs tmp(1);
  CCluster c(1);
  c.at(1).data_dir = tmp.dirs[0] + "/nested/twice";  // parents are created too
  ASSERT_EQ(c.start(1), RAFT_OK);
  for (std::uint64_t i = 1; i <= 10; ++i)
    ASSERT_EQ(raft_node_propose(c.at(1).node, i, "x", 1), RAFT_OK);
  ASSERT_TRUE(c.wait_applied(10));
  c.stop(1);
  ASSERT_EQ(c.start(1), RAFT_OK);
  ASSERT_TRUE(c.wait_applied(10));
  EXPECT_EQ(c.at(1).applied, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(c.status(1).term, 2u);
}

TEST(DurableNode, DirectoryOfAnotherNodeOrInUseIsRefused) {
  TempDirs tmp(2);
  CCluster c(2);
  c.at(1).data_dir = tmp.dirs[0];
  ASSERT_EQ(c.start(1), RAFT_OK);
  c.at(2).data_dir = tmp.dirs[0];  // node 1's directory, in use
  EXPECT_EQ(c.start(2), RAFT_EBUSY);
  c.stop(1);
  EXPECT_EQ(c.start(2), RAFT_EINVAL);  // free now, but it belongs to node 1
}

// A storage that works until told to fail, then fails every call.
struct FlakyStorage {
  int syncs_left = 1 << 30;
  int syncs = 0;
  static raft_storage make(FlakyStorage* self) {
    raft_storage st;
    raft_storage_init(&st);
    st.ctx = self;
    st.load = [](void*, std::uint64_t* term, raft_id* vote, std::uint64_t* first,
                 int (*)(void*, const raft_entry*), void*) {
      *term = 0;
      *vote = 0;
      *first = 1;
      return RAFT_OK;
    };
    st.save_hard_state = [](void*, std::uint64_t, raft_id) { return RAFT_OK; };
    st.append = [](void*, std::uint64_t, const raft_entry*, std::size_t) { return RAFT_OK; };
    st.truncate = [](void*, std::uint64_t) { return RAFT_OK; };
    st.sync = [](void* ctx) {
      auto* s = static_cast<FlakyStorage*>(ctx);
      ++s->syncs;
      return s->syncs_left-- > 0 ? RAFT_OK : RAFT_EIO;
    };
    return st;
  }
};

TEST(DurableNode, FailingStorageStopsTheNodeAndSendsNothingUnsynced) {
  CCluster c(3);
  FlakyStorage flaky[3];
  raft_storage st[3];
  for (raft_id id = 1; id <= 3; ++id) {
    st[id - 1] = FlakyStorage::make(&flaky[id - 1]);
    c.at(id).storage = &st[id - 1];
    ASSERT_EQ(c.start(id), RAFT_OK);
  }
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  ASSERT_GT(flaky[leader - 1].syncs, 0);  // the vote and the no-op were synced
  flaky[leader - 1].syncs_left = 0;
  const std::uint64_t sent_before = c.at(leader).sent;
  ASSERT_EQ(raft_node_propose(c.at(leader).node, 1, "x", 1), RAFT_OK);
  int rc = RAFT_OK;
  for (int i = 0; i < 5 && rc == RAFT_OK; ++i)
    rc = raft_node_poll(c.at(leader).node, 2000000 + i, nullptr);
  EXPECT_EQ(rc, RAFT_EIO);
  EXPECT_EQ(c.at(leader).sent, sent_before);  // the unsynced entry never left
  EXPECT_EQ(raft_node_poll(c.at(leader).node, 2000010, nullptr), RAFT_EIO);
  EXPECT_NE(std::string(raft_node_errmsg(c.at(leader).node)).find("sync"), std::string::npos);
  EXPECT_EQ(c.status(leader).role, RAFT_FOLLOWER);
  // The others elect a new leader without it.
  c.stop(leader);
  EXPECT_NE(c.wait_leader(), 0u);
}

}  // namespace
}  // namespace raft::test
