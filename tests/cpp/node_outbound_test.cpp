// What a leader sends when followers stand at the same position: one
// AppendEntries frame, encoded once and re-addressed per follower.  Each copy
// must decode, name its own addressee and carry the same entries; followers
// at different positions must get frames of their own.
#include <set>
#include <string>
#include <vector>

#include "c_cluster_harness.hpp"
#include "wire/codec.hpp"

namespace raft::test {
namespace {

struct Decoded {
  wire::DecodeError err = wire::DecodeError::kTruncated;
  Message m;
};

Decoded decode(const std::string& frame) {
  Decoded d;
  d.err = wire::decode(reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size(), 99,
                       std::size_t{1} << 30, d.m);
  return d;
}

// The AppendEntries with entries waiting in `id`'s inbox (decoded).
std::vector<Decoded> appends_in_inbox(CCluster& c, raft_id id) {
  std::vector<Decoded> out;
  for (const std::string& frame : c.at(id).inbox) {
    Decoded d = decode(frame);
    EXPECT_EQ(d.err, wire::DecodeError::kOk);
    if (d.m.type == MsgType::kAppendEntries && !d.m.entries.empty()) out.push_back(std::move(d));
  }
  return out;
}

// Runs the cluster until every replica applied index `index` (no-ops
// included, unlike the harness's command list).
bool applied_everywhere(CCluster& c, std::size_t n, Index index) {
  for (int ms = 0; ms < 5000; ++ms) {
    bool all = true;
    for (raft_id id = 1; id <= n; ++id) all = all && c.status(id).applied_index >= index;
    if (all) return true;
    if (c.run_for(1) != RAFT_OK) return false;
  }
  return false;
}

void expect_same_batch(const Message& a, const Message& b) {
  EXPECT_EQ(a.term, b.term);
  EXPECT_EQ(a.prev_log_index, b.prev_log_index);
  EXPECT_EQ(a.prev_log_term, b.prev_log_term);
  EXPECT_EQ(a.commit, b.commit);
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    EXPECT_EQ(a.entries[i].id, b.entries[i].id);
    ASSERT_EQ(a.entries[i].len, b.entries[i].len);
    EXPECT_EQ(0, std::memcmp(a.entries[i].data, b.entries[i].data, a.entries[i].len));
  }
}

TEST(NodeOutbound, FollowersAtOnePositionGetTheSameBatchEachAddressedToThem) {
  CCluster c(5);
  for (raft_id id = 1; id <= 5; ++id) ASSERT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(applied_everywhere(c, 5, 1));  // the leader's no-op
  for (raft_id id = 1; id <= 5; ++id) c.at(id).inbox.clear();
  const std::string payload(3000, 'p');
  for (std::uint64_t k = 1; k <= 20; ++k)
    ASSERT_EQ(raft_node_propose(c.at(leader).node, k, payload.data(), payload.size()), RAFT_OK);
  ASSERT_EQ(c.poll_at(leader, c.now() + 1), RAFT_OK);

  std::vector<Message> seen;
  for (raft_id id = 1; id <= 5; ++id) {
    if (id == leader) continue;
    const std::vector<Decoded> got = appends_in_inbox(c, id);
    ASSERT_EQ(got.size(), 1u) << "follower " << id;
    EXPECT_EQ(got[0].m.to, id);
    EXPECT_EQ(got[0].m.from, leader);
    EXPECT_EQ(got[0].m.entries.size(), 20u);
    seen.push_back(got[0].m);
  }
  for (std::size_t i = 1; i < seen.size(); ++i) expect_same_batch(seen[0], seen[i]);
  // And the cluster goes on: every follower accepts its copy.
  ASSERT_TRUE(c.wait_applied(20));
}

// A follower that missed entries and one that did not: while the leader
// repairs the first (it learns of the gap from a rejection, then sends from
// where that follower is), every frame either gets decodes and is addressed
// to it, and the two converge.
TEST(NodeOutbound, FollowersAtDifferentPositionsGetTheirOwnBatches) {
  CCluster c(3);
  for (raft_id id = 1; id <= 3; ++id) ASSERT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(applied_everywhere(c, 3, 1));
  const raft_id behind = leader == 1 ? 2 : 1;
  const raft_id ahead = 6 - leader - behind;
  c.isolated = {behind};
  for (std::uint64_t k = 1; k <= 10; ++k)
    ASSERT_EQ(raft_node_propose(c.at(leader).node, k, "old", 3), RAFT_OK);
  ASSERT_EQ(c.run_for(5), RAFT_OK);
  ASSERT_EQ(c.status(ahead).last_index, 11u);
  ASSERT_EQ(c.status(behind).last_index, 1u);
  c.isolated.clear();
  std::set<Index> starts_behind, starts_ahead;
  std::uint64_t next_id = 11;
  for (int step = 0; step < 400 && c.status(behind).applied_index < 21; ++step) {
    if (next_id <= 20) {
      ASSERT_EQ(raft_node_propose(c.at(leader).node, next_id++, "new", 3), RAFT_OK);
    }
    ASSERT_EQ(c.poll_at(leader, c.now() + 1), RAFT_OK);
    for (raft_id id : {behind, ahead}) {
      for (const Decoded& d : appends_in_inbox(c, id)) {
        EXPECT_EQ(d.m.to, id);
        (id == behind ? starts_behind : starts_ahead).insert(d.m.prev_log_index);
      }
      ASSERT_EQ(c.poll_at(id, c.now()), RAFT_OK);
    }
  }
  EXPECT_EQ(c.status(behind).applied_index, 21u);
  EXPECT_EQ(c.status(ahead).applied_index, 21u);
  // The repair really sent `behind` batches that `ahead` never needed.
  EXPECT_TRUE(starts_behind.count(1) == 1 || starts_behind.count(0) == 1);
  EXPECT_EQ(starts_ahead.count(1), 0u);
}

}  // namespace
}  // namespace raft::test
