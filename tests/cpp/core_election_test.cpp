// Elections as the Raft paper (sections 5.2, 5.4.1, 9.6) and the thesis's
// pre-vote and check-quorum rules require.
#include "core_harness.hpp"

namespace raft::test {
namespace {

using core::Role;

TEST(Election, NoCampaignBeforeTheElectionTimeout) {
  Bench b(1, {2, 3});
  b.make();
  b.core->tick(b.config.election_min_ms - 1);
  EXPECT_TRUE(b.take(MsgType::kRequestVote).empty());
  b.core->tick(b.config.election_max_ms);
  auto rv = b.take(MsgType::kRequestVote);
  ASSERT_EQ(rv.size(), 2u);
  EXPECT_EQ(rv[0].term, 1u);
  EXPECT_EQ(b.core->role(), Role::kCandidate);
  EXPECT_EQ(b.core->voted_for(), 1u);
}

TEST(Election, TimeoutsAreRandomizedPerNode) {
  std::vector<std::uint64_t> deadlines;
  for (NodeId id = 1; id <= 8; ++id) {
    Bench b(id, {100});
    b.make();
    deadlines.push_back(b.core->next_deadline());
    EXPECT_GE(deadlines.back(), b.config.election_min_ms);
    EXPECT_LT(deadlines.back(), b.config.election_max_ms);
  }
  std::sort(deadlines.begin(), deadlines.end());
  EXPECT_GT(std::unique(deadlines.begin(), deadlines.end()) - deadlines.begin(), 1);
}

TEST(Election, LoneVoterElectsItselfAtOnce) {
  Bench b(1, {});
  b.make();
  EXPECT_EQ(b.core->role(), Role::kLeader);
  EXPECT_EQ(b.core->term(), 1u);
  EXPECT_EQ(b.core->commit_index(), 1u);  // its no-op
}

TEST(Election, OneVotePerTerm) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.vote_request(2, 1, 0, 0));
  auto r = b.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].granted);
  b.core->step(b.vote_request(3, 1, 0, 0));
  r = b.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].granted);
  // A retransmitted request from the same candidate is granted again.
  b.core->step(b.vote_request(2, 1, 0, 0));
  r = b.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].granted);
  EXPECT_EQ(b.core->voted_for(), 2u);
}

TEST(Election, UpToDateRuleComparesLastTermThenLength) {
  Bench b(1, {2, 3, 4, 5});
  b.make();
  b.core->step(b.append(2, 2, 0, 0, {1, 1, 2}));
  ASSERT_EQ(b.core->log().last_index(), 3u);
  b.take(MsgType::kAppendEntriesResponse);
  // Same last term, shorter log: refused.
  b.core->step(b.vote_request(3, 3, 2, 2));
  EXPECT_FALSE(b.take(MsgType::kRequestVoteResponse).at(0).granted);
  // Lower last term, longer log: refused.
  b.core->step(b.vote_request(4, 4, 9, 1));
  EXPECT_FALSE(b.take(MsgType::kRequestVoteResponse).at(0).granted);
  // Higher last term with a shorter log wins (little_raft B13 refused this).
  b.core->step(b.vote_request(5, 5, 1, 3));
  EXPECT_TRUE(b.take(MsgType::kRequestVoteResponse).at(0).granted);
}

TEST(Election, SameTermLongerOrEqualLogIsGranted) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 2, 0, 0, {1, 2}));
  b.take(MsgType::kAppendEntriesResponse);
  b.core->step(b.vote_request(3, 3, 2, 2));
  EXPECT_TRUE(b.take(MsgType::kRequestVoteResponse).at(0).granted);
}

// Found by the simulator (seed 781): a denied campaign from a higher term
// must not push back this node's own election.
TEST(Election, DeniedCampaignDoesNotResetTheElectionTimer) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 1, 0, 0, {1, 1}));  // leader 2, term 1
  b.take(MsgType::kAppendEntriesResponse);
  const std::uint64_t deadline = b.core->next_deadline();
  b.core->tick(deadline - 1);
  b.core->step(b.vote_request(3, 2, 0, 0));  // stale log: denied
  auto r = b.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].granted);
  EXPECT_EQ(b.core->term(), 2u);
  EXPECT_EQ(b.core->next_deadline(), deadline);
  // A granted vote does restart it.
  b.core->step(b.vote_request(2, 3, 2, 1));
  EXPECT_TRUE(b.take(MsgType::kRequestVoteResponse).at(0).granted);
  EXPECT_GT(b.core->next_deadline(), deadline);
}

TEST(Election, SplitVoteLosesAndRetries) {
  Bench b(1, {2, 3});
  b.make();
  b.core->tick(1000);
  b.take(MsgType::kRequestVote);
  b.core->step(b.vote_response(2, 1, false));
  b.core->step(b.vote_response(3, 1, false));
  EXPECT_EQ(b.core->role(), Role::kFollower);
  EXPECT_EQ(b.core->voted_for(), 1u);  // the vote for itself stands
  b.core->tick(3000);
  auto rv = b.take(MsgType::kRequestVote);
  ASSERT_EQ(rv.size(), 2u);
  EXPECT_EQ(rv[0].term, 2u);
}

TEST(Election, DuplicateGrantsCountOnce) {
  Bench b(1, {2, 3, 4, 5});
  b.make();
  b.core->tick(1000);
  b.core->step(b.vote_response(2, 1, true));
  b.core->step(b.vote_response(2, 1, true));
  EXPECT_EQ(b.core->role(), Role::kCandidate);
  b.core->step(b.vote_response(3, 1, true));
  EXPECT_EQ(b.core->role(), Role::kLeader);
}

// Found by fuzz_node: a term of 2^64-1 was adopted and the next campaign
// wrapped it to 0.
TEST(Election, ImpossibleTermIsDropped) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, ~Term{0}, 0, 0, {}));
  b.core->step(b.vote_request(3, core::kMaxTerm + 1, 0, 0));
  EXPECT_EQ(b.core->term(), 0u);
  EXPECT_TRUE(b.take(MsgType::kAppendEntriesResponse).empty());
  b.core->step(b.append(2, core::kMaxTerm, 0, 0, {}));
  EXPECT_EQ(b.core->term(), core::kMaxTerm);
}

// ---------------------------------------------------------------- pre-vote

TEST(PreVote, DoesNotChangeAnyTerm) {
  Bench b(1, {2, 3}, /*pre_vote=*/true);
  b.make();
  b.core->tick(1000);
  EXPECT_EQ(b.core->role(), Role::kPreCandidate);
  EXPECT_EQ(b.core->term(), 0u);
  auto rv = b.take(MsgType::kRequestVote);
  ASSERT_EQ(rv.size(), 2u);
  EXPECT_TRUE(rv[0].pre_vote);
  EXPECT_EQ(rv[0].term, 1u);

  Bench voter(2, {1, 3}, true);
  voter.make();
  voter.core->step(voter.vote_request(1, 1, 0, 0, /*pre_vote=*/true));
  auto r = voter.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].granted);
  EXPECT_EQ(r[0].term, 1u);
  EXPECT_EQ(voter.core->term(), 0u);  // the voter's term is untouched
  EXPECT_EQ(voter.core->voted_for(), 0u);
}

TEST(PreVote, MajorityOfPreVotesStartsTheRealElection) {
  Bench b(1, {2, 3}, true);
  b.make();
  b.core->tick(1000);
  b.take(MsgType::kRequestVote);
  b.core->step(b.vote_response(2, 1, true, true));
  EXPECT_EQ(b.core->role(), Role::kCandidate);
  EXPECT_EQ(b.core->term(), 1u);
  auto rv = b.take(MsgType::kRequestVote);
  ASSERT_EQ(rv.size(), 2u);
  EXPECT_FALSE(rv[0].pre_vote);
  EXPECT_EQ(b.core->elections_started(), 1u);
}

TEST(PreVote, RefusedWhileTheLeaderIsHeard) {
  Bench b(1, {2, 3}, true);
  b.make();
  b.core->step(b.append(2, 1, 0, 0, {}));
  b.take(MsgType::kAppendEntriesResponse);
  b.core->step(b.vote_request(3, 2, 5, 1, /*pre_vote=*/true));
  auto r = b.take(MsgType::kRequestVoteResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].granted);
  EXPECT_EQ(b.core->term(), 1u);
}

TEST(PreVote, StaleGrantFromAnotherRoundIsIgnored) {
  Bench b(1, {2, 3, 4, 5}, true);
  b.make();
  b.core->tick(1000);
  b.core->step(b.vote_response(2, 7, true, true));  // for a term we never asked
  b.core->step(b.vote_response(3, 7, true, true));
  EXPECT_EQ(b.core->role(), Role::kPreCandidate);
}

// ---------------------------------------------------------------- check-quorum

TEST(CheckQuorum, IsolatedLeaderStepsDown) {
  Bench b(1, {2, 3}, false, /*check_quorum=*/true);
  b.make();
  b.elect({2});
  ASSERT_EQ(b.core->role(), Role::kLeader);
  const Term term = b.core->term();
  b.core->tick(b.now += b.config.election_min_ms);
  EXPECT_EQ(b.core->role(), Role::kFollower);
  EXPECT_EQ(b.core->term(), term);
  EXPECT_EQ(b.core->leader(), 0u);
}

TEST(CheckQuorum, LeaderHearingAMajorityStays) {
  Bench b(1, {2, 3}, false, true);
  b.make();
  b.elect({2});
  for (int round = 0; round < 5; ++round) {
    b.now += b.config.election_min_ms / 2;
    b.core->step(b.append_ok(2, b.core->term(), 0));
    b.core->tick(b.now);
    b.core->tick(b.now += b.config.election_min_ms / 2);
  }
  EXPECT_EQ(b.core->role(), Role::kLeader);
}

TEST(CheckQuorum, FollowerIgnoresCampaignWhileLeaderIsAlive) {
  Bench b(1, {2, 3}, false, true);
  b.make();
  b.core->step(b.append(2, 1, 0, 0, {}));
  b.take(MsgType::kAppendEntriesResponse);
  b.core->step(b.vote_request(3, 5, 10, 4));
  EXPECT_TRUE(b.take(MsgType::kRequestVoteResponse).empty());
  EXPECT_EQ(b.core->term(), 1u);
  // Once the leader has been silent for an election timeout, it listens.
  b.core->tick(b.now += b.config.election_min_ms);
  b.core->step(b.vote_request(3, 5, 10, 4));
  EXPECT_EQ(b.core->term(), 5u);
}

}  // namespace
}  // namespace raft::test
