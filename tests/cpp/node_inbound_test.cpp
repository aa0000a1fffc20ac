// Frames that decode but that no correct leader could send are rejected
// before they reach the core: the log and the commit rule rely on entry terms
// that only grow and never pass the sender's term.
#include <string>
#include <vector>

#include "c_cluster_harness.hpp"
#include "core/core.hpp"
#include "wire/codec.hpp"

namespace raft::test {
namespace {

std::string append_entries_frame(NodeId from, NodeId to, Term term, Index prev_index,
                                 Term prev_term, Index commit, const std::vector<Term>& terms) {
  static const std::uint8_t byte = 'x';
  Message m;
  m.type = MsgType::kAppendEntries;
  m.from = from;
  m.to = to;
  m.term = term;
  m.prev_log_index = prev_index;
  m.prev_log_term = prev_term;
  m.commit = commit;
  std::uint64_t id = 1000;
  for (Term t : terms) {
    EntryView e;
    e.term = t;
    e.type = EntryType::kCommand;
    e.id = id++;
    e.data = &byte;
    e.len = 1;
    m.entries.push_back(e);
  }
  std::vector<std::uint8_t> out;
  wire::encode(m, 99, out);  // the harness's cluster id
  return std::string(out.begin(), out.end());
}

TEST(NodeInbound, ImpossibleEntryTermsAreRejected) {
  CCluster c(3);
  for (raft_id id = 1; id <= 3; ++id) ASSERT_EQ(c.start(id), RAFT_OK);
  const raft_id leader = c.wait_leader();
  ASSERT_NE(leader, 0u);
  ASSERT_TRUE(c.wait_applied(0));
  const raft_id follower = leader == 1 ? 2 : 1;
  c.isolated = {leader};  // only our frames reach the follower from now on
  const Term term = c.status(leader).term;
  const Index last = c.status(follower).last_index;
  const Term last_term = c.core(follower).log().last_term();
  ASSERT_EQ(last_term, term);

  const std::vector<std::vector<Term>> impossible = {
      {0},                    // term 0
      {term, term + 1},       // above the message's term
      {term, last_term - 1},  // terms going down (last_term is the leader's no-op's)
  };
  std::uint64_t rejected = c.status(follower).msgs_rejected;
  for (const auto& terms : impossible) {
    c.at(follower).inbox.push_back(
        append_entries_frame(leader, follower, term, last, last_term, 0, terms));
    ASSERT_EQ(c.poll_at(follower, c.now() + 1), RAFT_OK);
    EXPECT_EQ(c.status(follower).msgs_rejected, ++rejected);
    EXPECT_EQ(c.status(follower).last_index, last);
  }
  // The same frame with possible terms is taken.
  c.at(follower).inbox.push_back(
      append_entries_frame(leader, follower, term, last, last_term, 0, {term, term}));
  ASSERT_EQ(c.poll_at(follower, c.now() + 1), RAFT_OK);
  EXPECT_EQ(c.status(follower).msgs_rejected, rejected);
  EXPECT_EQ(c.status(follower).last_index, last + 2);
}

}  // namespace
}  // namespace raft::test
