// One test per safety bug found in little_raft 0.2.0
// (../shared/reference/little_raft-study.md section 4), proving libraft does
// not share it.  Each replays the study's probe against our core.
#include <limits>

#include "core_harness.hpp"

namespace raft::test {
namespace {

using core::Role;

// B1: in a 4-node cluster, self plus one vote (2 of 4) elected a leader.
TEST(LittleRaftB1, EvenClusterNeedsAStrictMajority) {
  Bench b(1, {2, 3, 4});
  b.make();
  b.core->tick(1000);
  b.core->step(b.vote_response(2, 1, true));
  EXPECT_EQ(b.core->role(), Role::kCandidate);
  b.core->step(b.vote_response(3, 1, true));
  EXPECT_EQ(b.core->role(), Role::kLeader);
}

// B2: a granted vote from an older term was counted in a newer term.
TEST(LittleRaftB2, VotesFromAnOlderTermAreNotCounted) {
  Bench b(1, {2, 3});
  b.make();
  b.core->tick(1000);  // term 1
  b.core->step(b.vote_response(2, 1, false));
  b.core->step(b.vote_response(3, 1, false));
  b.core->tick(5000);  // term 2
  ASSERT_EQ(b.core->term(), 2u);
  b.core->step(b.vote_response(2, 1, true));  // late grant from term 1
  EXPECT_EQ(b.core->role(), Role::kCandidate);
}

// B3: stepping down within a term (candidate hearing the term's leader)
// cleared the vote, allowing a second vote in the same term.
TEST(LittleRaftB3, SteppingDownInATermKeepsTheVote) {
  Bench b(1, {2, 3});
  b.make();
  b.core->tick(1000);  // candidate in term 1, voted for itself
  b.core->step(b.append(2, 1, 0, 0, {}));
  ASSERT_EQ(b.core->role(), Role::kFollower);
  EXPECT_EQ(b.core->voted_for(), 1u);
  b.core->step(b.vote_request(3, 1, 0, 0));
  auto r = b.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].granted);
}

// B4: a lower-term vote request got a rejection and then a grant.
TEST(LittleRaftB4, LowerTermVoteRequestGetsOneRejection) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 5, 0, 0, {}));
  b.take(MsgType::kAppendEntriesResponse);
  b.core->step(b.vote_request(3, 4, 10, 4));
  auto r = b.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].granted);
  EXPECT_EQ(r[0].term, 5u);
  EXPECT_EQ(b.core->voted_for(), 0u);
}

// B5: a follower did not adopt a higher term from AppendEntries, and later
// accepted AppendEntries from a deposed lower-term leader.
TEST(LittleRaftB5, FollowerAdoptsHigherTermFromAppendEntries) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 5, 0, 0, {}));
  EXPECT_EQ(b.core->term(), 5u);
  b.take(MsgType::kAppendEntriesResponse);
  b.core->step(b.append(3, 3, 0, 0, {3}));
  EXPECT_EQ(b.core->log().last_index(), 0u);
  auto r = b.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].success);
  EXPECT_EQ(r[0].term, 5u);
}

// B6: a leader ignored every request whatever its term.
TEST(LittleRaftB6, LeaderStepsDownOnHigherTermRequests) {
  Bench a(1, {2, 3});
  a.make();
  a.elect({2});
  a.core->step(a.append(2, a.core->term() + 1, 0, 0, {}));
  EXPECT_EQ(a.core->role(), Role::kFollower);
  EXPECT_EQ(a.core->leader(), 2u);

  Bench b(1, {2, 3});
  b.make();
  b.elect({2});
  b.core->step(b.vote_request(3, b.core->term() + 1, 100, 100));
  EXPECT_EQ(b.core->role(), Role::kFollower);
  auto r = b.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].granted);
}

// B7: the term went backwards.  No message of any type lowers it.
TEST(LittleRaftB7, TermNeverGoesBackwards) {
  Bench b(1, {2, 3}, /*pre_vote=*/true, /*check_quorum=*/true);
  b.make();
  b.core->step(b.append(2, 7, 0, 0, {1, 2}));
  ASSERT_EQ(b.core->term(), 7u);
  for (Term t = 0; t < 7; ++t) {
    b.core->step(b.append(3, t, 0, 0, {}));
    b.core->step(b.vote_request(3, t, 50, 50));
    b.core->step(b.vote_request(3, t, 50, 50, true));
    b.core->step(b.vote_response(3, t, true));
    b.core->step(b.vote_response(3, t, true, true));
    b.core->step(b.append_ok(3, t, 2));
    EXPECT_EQ(b.core->term(), 7u);
  }
}

// B8: a follower acknowledged its whole log, including an unverified stale
// suffix, and the leader believed it.
TEST(LittleRaftB8, AcknowledgesOnlyTheVerifiedPrefix) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 2, 0, 0, {1, 2, 2, 2}));  // stale suffix from term 2
  b.take(MsgType::kAppendEntriesResponse);
  b.core->step(b.append(3, 3, 1, 1, {}));
  auto r = b.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].success);
  EXPECT_EQ(r[0].match_index, 1u);
}

// B9: conflict handling used the wrong offset and acknowledged entries the
// follower did not hold.  A conflicting suffix is replaced, and the ack
// covers exactly the leader's entries.
TEST(LittleRaftB9, ConflictIsReplacedAndAckIsExact) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 2, 0, 0, {1, 2, 2, 2, 2}));
  b.take(MsgType::kAppendEntriesResponse);
  b.core->step(b.append(3, 3, 1, 1, {3, 3}));
  EXPECT_EQ(b.log_terms(), (std::vector<Term>{1, 3, 3}));
  auto r = b.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].match_index, 3u);
  // A request beyond the real log end is rejected, never acknowledged.
  b.core->step(b.append(3, 3, 10, 3, {3}));
  r = b.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].success);
  EXPECT_EQ(r[0].hint_index, 4u);
}

// B10: indexes outside the log panicked.  Hostile positions are answered
// with a rejection, and the core stays usable.
TEST(LittleRaftB10, IndexesOutsideTheLogAreHandled) {
  const Index huge = std::numeric_limits<Index>::max();
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 1, 0, 0, {1, 1}, 2));
  b.core->step(b.append(2, 1, huge, 1, {1}));
  b.core->step(b.append(2, 1, 0, 9, {1}));  // index 0 with a bogus term
  b.core->step(b.append(2, 1, 1, 9, {}));   // conflict at a committed index
  b.core->step(b.vote_request(3, 2, huge, huge));
  EXPECT_EQ(b.core->log().last_index(), 2u);
  EXPECT_EQ(b.core->commit_index(), 2u);

  Bench leader(1, {2, 3});
  leader.make();
  leader.elect({2});
  Message bad;
  bad.type = MsgType::kAppendEntriesResponse;
  bad.from = 2;
  bad.to = 1;
  bad.term = leader.core->term();
  bad.success = false;
  bad.reject_index = huge;
  bad.hint_index = huge;
  bad.hint_term = huge;
  leader.core->step(bad);
  leader.core->flush();
  EXPECT_EQ(leader.core->role(), Role::kLeader);
  bad.success = true;
  bad.match_index = huge;
  leader.core->step(bad);
  EXPECT_EQ(leader.core->commit_index(), 0u);
}

}  // namespace
}  // namespace raft::test
