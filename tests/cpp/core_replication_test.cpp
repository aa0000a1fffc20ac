// Log replication and commitment (Raft sections 5.3, 5.4.2; Figures 7 and 8).
#include "core_harness.hpp"

namespace raft::test {
namespace {

using core::Role;
using core::Transition;

// Delivers messages between a leader bench and one follower bench until
// neither has anything more to say.  Messages to other nodes are dropped.
void pump(Bench& leader, Bench& follower) {
  for (int round = 0; round < 1000; ++round) {
    leader.core->flush();
    bool moved = false;
    for (const Message& m : leader.take(MsgType::kAppendEntries)) {
      if (m.to != follower.config.id) continue;
      follower.core->step(m);
      moved = true;
    }
    for (const Message& m : follower.take(MsgType::kAppendEntriesResponse)) {
      leader.core->step(m);
      moved = true;
    }
    if (!moved) return;
  }
  FAIL() << "no quiescence";
}

// A follower whose log holds exactly these terms (ids = index).
void give_log(Bench& b, NodeId leader, const std::vector<Term>& terms) {
  const Term top = terms.empty() ? 1 : *std::max_element(terms.begin(), terms.end());
  b.core->step(b.append(leader, top, 0, 0, terms));
  b.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(b.log_terms(), terms);
}

TEST(Replication, NewLeaderAppendsANoopAndSendsIt) {
  Bench b(1, {2, 3});
  b.make();
  b.elect({2, 3});
  ASSERT_EQ(b.core->role(), Role::kLeader);
  ASSERT_EQ(b.core->log().last_index(), 1u);
  EXPECT_EQ(b.core->log().at(1).type, EntryType::kNoop);
  auto ae = b.take(MsgType::kAppendEntries);
  ASSERT_EQ(ae.size(), 2u);
  EXPECT_EQ(ae[0].entries.size(), 1u);
}

TEST(Replication, CommitNeedsAMajorityAndReportsTransitions) {
  Bench b(1, {2, 3, 4, 5});
  b.make();
  b.elect({2, 3});
  b.take(MsgType::kAppendEntries);
  const Term t = b.core->term();
  ASSERT_TRUE(b.core->propose(77, reinterpret_cast<const std::uint8_t*>("x"), 1));
  b.core->flush();
  b.core->step(b.append_ok(2, t, 2));
  EXPECT_EQ(b.core->commit_index(), 0u);  // 2 of 5
  b.core->step(b.append_ok(3, t, 2));
  EXPECT_EQ(b.core->commit_index(), 2u);  // 3 of 5
  b.core->applied(1);
  b.core->applied(2);
  using P = std::pair<std::uint64_t, Transition>;
  EXPECT_EQ(b.transitions, (std::vector<P>{{77, Transition::kQueued},
                                           {77, Transition::kCommitted},
                                           {77, Transition::kApplied}}));
}

TEST(Replication, ProposalOnFollowerIsAbandoned) {
  Bench b(1, {2, 3});
  b.make();
  EXPECT_FALSE(b.core->propose(5, nullptr, 0));
  ASSERT_EQ(b.transitions.size(), 1u);
  EXPECT_EQ(b.transitions[0].second, Transition::kAbandonedNotLeader);
  EXPECT_EQ(b.core->log().last_index(), 0u);
}

// Figure 8: an entry from an earlier term is not committed by counting
// replicas; it commits only once an entry of the leader's term does.
TEST(Replication, Figure8EarlierTermEntriesAreNotCommittedByCounting) {
  Bench b(1, {2, 3, 4, 5});
  b.make();
  give_log(b, 5, {1, 2});                  // index 2 from term 2, never committed
  b.core->step(b.append(5, 3, 2, 2, {}));  // move to term 3
  b.elect({2, 3});
  ASSERT_EQ(b.core->role(), Role::kLeader);
  const Term t = b.core->term();
  ASSERT_EQ(b.core->log().term_at(3), t);  // the no-op
  b.take(MsgType::kAppendEntries);
  // A majority holds index 2 (term 2), but not the no-op: nothing commits.
  b.core->step(b.append_ok(2, t, 2));
  b.core->step(b.append_ok(3, t, 2));
  EXPECT_EQ(b.core->commit_index(), 0u);
  // Once the no-op of the current term is on a majority, both commit.
  b.core->step(b.append_ok(2, t, 3));
  b.core->step(b.append_ok(3, t, 3));
  EXPECT_EQ(b.core->commit_index(), 3u);
}

// Figure 7: whatever a follower's log looks like, the leader brings it to
// exactly its own log.
struct Figure7Case {
  const char* name;
  std::vector<Term> follower;
};

class Figure7 : public ::testing::TestWithParam<Figure7Case> {};

TEST_P(Figure7, FollowerConvergesToTheLeadersLog) {
  const std::vector<Term> leader_log = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  Bench leader(1, {2, 3, 4, 5, 6, 7});
  leader.make();
  give_log(leader, 9 - 2, leader_log);
  leader.core->step(leader.append(7, 7, 10, 6, {}));  // term 7 elsewhere
  leader.take(MsgType::kAppendEntriesResponse);
  leader.elect({3, 4, 5});
  ASSERT_EQ(leader.core->role(), Role::kLeader);
  ASSERT_EQ(leader.core->term(), 8u);

  Bench follower(2, {1, 3, 4, 5, 6, 7});
  follower.make();
  if (!GetParam().follower.empty()) give_log(follower, 3, GetParam().follower);
  pump(leader, follower);
  EXPECT_EQ(follower.log_terms(), leader.log_terms()) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(Paper, Figure7,
                         ::testing::Values(Figure7Case{"a", {1, 1, 1, 4, 4, 5, 5, 6, 6}},
                                           Figure7Case{"b", {1, 1, 1, 4}},
                                           Figure7Case{"c", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}},
                                           Figure7Case{"d", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}},
                                           Figure7Case{"e", {1, 1, 1, 4, 4, 4, 4}},
                                           Figure7Case{"f", {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}},
                                           Figure7Case{"empty", {}}),
                         [](const auto& info) { return std::string(info.param.name); });

std::vector<std::uint64_t> ids_in(const Bench& b, Transition state) {
  std::vector<std::uint64_t> ids;
  for (auto& [id, s] : b.transitions)
    if (s == state) ids.push_back(id);
  return ids;
}

TEST(Replication, OverwrittenProposalsAreAbandonedOnceTheirIndexCommits) {
  Bench b(1, {2, 3});
  b.make();
  b.elect({2});
  const Term t = b.core->term();
  b.core->propose(10, nullptr, 0);
  b.core->propose(11, nullptr, 0);
  ASSERT_EQ(b.core->log().last_index(), 3u);
  // A new leader of a later term overwrites indexes 2.. with its own entries.
  b.core->step(b.append(2, t + 1, 1, t, {t + 1}));
  EXPECT_EQ(b.log_terms(), (std::vector<Term>{t, t + 1}));
  // Not yet decided: the entries might still be committed by someone else.
  EXPECT_TRUE(ids_in(b, Transition::kAbandonedConflict).empty());
  // Index 2 commits with the new leader's entry: 10 is proven lost; 11
  // (index 3) is still open until index 3 commits.
  b.core->step(b.append(2, t + 1, 2, t + 1, {}, 2));
  EXPECT_EQ(ids_in(b, Transition::kAbandonedConflict), (std::vector<std::uint64_t>{10}));
  b.core->step(b.append(2, t + 1, 2, t + 1, {t + 1}, 3));
  EXPECT_EQ(ids_in(b, Transition::kAbandonedConflict), (std::vector<std::uint64_t>{10, 11}));
  EXPECT_TRUE(ids_in(b, Transition::kCommitted).empty());
}

// Found by the KV crash work: with five replicas, leader A's entry X reaches
// only B; C wins term 2 and overwrites X on A; B wins term 3 and commits X.
// A must report X as committed and applied, never as abandoned.
TEST(Replication, TruncatedProposalCommittedByALaterLeaderIsReportedCommitted) {
  Bench a(1, {2, 3, 4, 5});
  a.make();
  a.elect({2, 3});
  const Term t1 = a.core->term();
  a.core->propose(4242, nullptr, 0);  // X at index 2
  ASSERT_EQ(a.core->log().last_index(), 2u);
  // C's term-2 entry overwrites index 2 on A.
  a.core->step(a.append(3, t1 + 1, 1, t1, {t1 + 1}));
  ASSERT_EQ(a.log_terms(), (std::vector<Term>{t1, t1 + 1}));
  // B (holding X) leads term 3 and replicates X back, then its no-op, and
  // commits both.
  a.core->step(a.append(2, t1 + 2, 1, t1, {t1, t1 + 2}, 3));
  EXPECT_EQ(a.log_terms(), (std::vector<Term>{t1, t1, t1 + 2}));
  EXPECT_TRUE(ids_in(a, Transition::kAbandonedConflict).empty());
  EXPECT_EQ(ids_in(a, Transition::kCommitted), (std::vector<std::uint64_t>{4242}));
  for (Index i = 1; i <= 3; ++i) a.core->applied(i);
  EXPECT_EQ(ids_in(a, Transition::kApplied), (std::vector<std::uint64_t>{4242}));
}

TEST(Replication, LateDuplicateAppendNeverTruncates) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 1, 0, 0, {1, 1, 1}));
  b.core->step(b.append(2, 1, 0, 0, {1}));  // an old, shorter copy
  EXPECT_EQ(b.core->log().last_index(), 3u);
  auto r = b.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].match_index, 1u);  // acknowledges what it verified
}

TEST(Replication, StaleAndReorderedAcksNeverLowerMatch) {
  Bench b(1, {2, 3, 4, 5});
  b.make();
  b.elect({2, 3});
  const Term t = b.core->term();
  for (int i = 0; i < 4; ++i) b.core->propose(100 + i, nullptr, 0);
  b.core->step(b.append_ok(2, t, 5));
  b.core->step(b.append_ok(2, t, 3));  // reordered older ack
  b.core->step(b.append_ok(3, t, 5));
  EXPECT_EQ(b.core->commit_index(), 5u);
  // An ack beyond the leader's log is ignored, not trusted.
  b.core->step(b.append_ok(4, t, 99));
  b.core->step(b.append_ok(5, t, 99));
  EXPECT_EQ(b.core->commit_index(), 5u);
}

TEST(Replication, FollowerCommitIsBoundedByWhatTheRequestVerified) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 2, 0, 0, {1, 2, 2, 2}));
  // A later leader knows entries up to 6 are committed, but this request only
  // proves index 1 matches.
  b.core->step(b.append(3, 3, 1, 1, {}, 6));
  EXPECT_EQ(b.core->commit_index(), 1u);
}

TEST(Replication, HeartbeatCarriesTheCommitIndex) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 1, 0, 0, {1, 1}));
  EXPECT_EQ(b.core->commit_index(), 0u);
  b.core->step(b.append(2, 1, 2, 1, {}, 2));
  EXPECT_EQ(b.core->commit_index(), 2u);
}

TEST(Replication, InflightWindowBoundsPipelining) {
  Bench b(1, {2, 3});
  b.config.max_inflight = 3;
  b.config.max_batch_bytes = 1;  // one entry per message
  b.make();
  b.elect({2, 3});
  const Term t = b.core->term();
  b.take(MsgType::kAppendEntries);
  b.core->step(b.append_ok(2, t, 1));  // now replicating
  for (int i = 0; i < 10; ++i) b.core->propose(i, nullptr, 0);
  b.core->flush();
  std::size_t to2 = 0;
  for (const Message& m : b.take(MsgType::kAppendEntries))
    if (m.to == 2 && !m.entries.empty()) ++to2;
  EXPECT_EQ(to2, 3u);
  b.core->step(b.append_ok(2, t, 3));  // frees two slots
  b.core->flush();
  to2 = 0;
  for (const Message& m : b.take(MsgType::kAppendEntries))
    if (m.to == 2 && !m.entries.empty()) ++to2;
  EXPECT_EQ(to2, 2u);
}

TEST(Replication, BatchesRespectMaxBatchBytes) {
  Bench b(1, {2});
  b.config.max_batch_bytes = 3 * (100 + kEntryWireOverhead);
  b.make();
  b.elect({2});
  const Term t = b.core->term();
  b.take(MsgType::kAppendEntries);
  b.core->step(b.append_ok(2, t, 1));
  std::string payload(100, 'p');
  for (int i = 0; i < 7; ++i)
    b.core->propose(i, reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
  b.core->flush();
  std::vector<std::size_t> sizes;
  for (const Message& m : b.take(MsgType::kAppendEntries)) sizes.push_back(m.entries.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 1}));
}

// Two followers at one position, batches of three 100-byte entries: the
// leader builds the batches for the first and offers the same ones for the
// second (Effects::send_again); a driver without the frame gets them built.
// A leader of term t whose followers 2 and 3 both replicate from index 2,
// batches of three 100-byte entries, seven entries proposed, none sent yet.
void two_followers_at_one_position(Bench& b, Term* t) {
  b.config.max_batch_bytes = 3 * (100 + kEntryWireOverhead);
  b.make();
  b.elect({2, 3});
  *t = b.core->term();
  b.take(MsgType::kAppendEntries);
  b.core->step(b.append_ok(2, *t, 1));
  b.core->step(b.append_ok(3, *t, 1));
  b.take(MsgType::kAppendEntries);
  std::string payload(100, 'p');
  for (int i = 0; i < 7; ++i) {
    payload[0] = static_cast<char>('a' + i);
    b.core->propose(i, reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
  }
  b.again.clear();
}

TEST(Replication, FollowersAtOnePositionAreOfferedTheBatchesBuiltForTheFirst) {
  Bench b(1, {2, 3});
  Term t = 0;
  two_followers_at_one_position(b, &t);
  b.core->flush();
  std::vector<std::size_t> to2, to3;
  for (const Message& m : b.take(MsgType::kAppendEntries))
    (m.to == 2 ? to2 : to3).push_back(m.entries.size());
  EXPECT_EQ(to2, (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(to3, (std::vector<std::size_t>{3, 3, 1}));  // refused, so built
  ASSERT_EQ(b.again.size(), 3u);
  const Index prevs[] = {1, 4, 7};
  const std::size_t counts[] = {3, 3, 1};
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(b.again[k].to, 3u);
    EXPECT_EQ(b.again[k].prev_log_index, prevs[k]);
    EXPECT_EQ(b.again[k].count, counts[k]);
    EXPECT_EQ(b.again[k].first_data, b.core->log().at(prevs[k] + 1).data);
  }
}

// When the driver does send the frame again, the follower's progress moves
// as if the batch had been built: nothing is sent twice, and its
// acknowledgement commits.
TEST(Replication, ABatchSentAgainAdvancesTheFollower) {
  Bench b(1, {2, 3});
  Term t = 0;
  two_followers_at_one_position(b, &t);
  b.again_answer = true;
  b.core->flush();
  std::size_t with_entries_to3 = 0;
  for (const Message& m : b.take(MsgType::kAppendEntries))
    if (m.to == 3 && !m.entries.empty()) ++with_entries_to3;
  EXPECT_EQ(with_entries_to3, 0u);
  EXPECT_EQ(b.again.size(), 3u);
  b.core->flush();  // the window holds the three batches: nothing new
  for (const Message& m : b.take(MsgType::kAppendEntries)) EXPECT_TRUE(m.entries.empty());
  b.core->step(b.append_ok(3, t, 8));
  EXPECT_EQ(b.core->commit_index(), 8u);
}

// A batch is offered again only while the log is unchanged since it was
// built: afterwards the same index may start a different batch.
TEST(Replication, BatchesAreNotOfferedAgainOnceTheLogChanged) {
  for (const bool change : {false, true}) {
    SCOPED_TRACE(change ? "log changed" : "log unchanged");
    Bench b(1, {2, 3});
    b.make();
    b.elect({2, 3});
    const Term t = b.core->term();
    b.take(MsgType::kAppendEntries);
    b.core->step(b.append_ok(2, t, 1));  // 3 stays probing, its probe unanswered
    for (int i = 0; i < 3; ++i) b.core->propose(i, nullptr, 0);
    b.core->flush();  // a batch of 2..4 for 2 only
    if (change) b.core->propose(3, nullptr, 0);
    b.again.clear();
    b.core->step(b.append_ok(3, t, 1));  // 3 replicates from 2 now
    b.core->flush();
    if (change) {
      EXPECT_TRUE(b.again.empty());
      std::size_t entries_to3 = 0;
      for (const Message& m : b.take(MsgType::kAppendEntries))
        if (m.to == 3) entries_to3 += m.entries.size();
      EXPECT_EQ(entries_to3, 4u);
    } else {
      ASSERT_EQ(b.again.size(), 1u);
      EXPECT_EQ(b.again[0].count, 3u);
    }
  }
}

TEST(Replication, RejectionHintSkipsAWholeTerm) {
  Bench follower(2, {1, 3});
  follower.make();
  give_log(follower, 3, {1, 1, 2, 2, 2, 2});
  Message ae = follower.append(1, 3, 6, 3, {});
  follower.core->step(ae);
  auto r = follower.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].success);
  EXPECT_EQ(r[0].hint_term, 2u);
  EXPECT_EQ(r[0].hint_index, 3u);
}

// reliability.md scenario 21: entries that conflict with an entry at or
// below the follower's commit index come from a broken or forged leader;
// committed data is never truncated (an error is logged instead).
TEST(Replication, ConflictWithACommittedEntryNeverTruncates) {
  Bench b(1, {2, 3});
  b.make();
  b.core->step(b.append(2, 1, 0, 0, {1, 1, 1}, 2));
  ASSERT_EQ(b.core->commit_index(), 2u);
  b.take(MsgType::kAppendEntriesResponse);
  b.core->step(b.append(3, 2, 1, 1, {2, 2}));  // index 2 is committed with term 1
  EXPECT_EQ(b.log_terms(), (std::vector<Term>{1, 1, 1}));
  EXPECT_EQ(b.core->commit_index(), 2u);
  EXPECT_TRUE(b.take(MsgType::kAppendEntriesResponse).empty());
  ASSERT_FALSE(b.logs.empty());
  EXPECT_NE(b.logs.back().find("committed"), std::string::npos) << b.logs.back();
}

// reliability.md scenario 25: a follower whose suffix collides with the
// leader's over several terms at the same indexes.  A rejection's hint is a
// retry position (with the term to skip), never a claimed match; no success
// ever claims a match where the logs differ, and they converge in a few
// round trips (one per conflicting term, not one per entry).
TEST(Replication, SuffixCollisionOverSeveralTermsConverges) {
  Bench leader(1, {2, 3});
  leader.make();
  give_log(leader, 3, {1, 1, 2, 2, 4, 4, 4});
  leader.core->step(leader.append(3, 6, 7, 4, {}));
  leader.take(MsgType::kAppendEntriesResponse);
  leader.elect({3});
  ASSERT_EQ(leader.core->role(), core::Role::kLeader);
  Bench follower(2, {1, 3});
  follower.make();
  give_log(follower, 3, {1, 1, 3, 3, 3, 5, 5, 5, 5});
  int rounds = 0;
  for (; rounds < 50; ++rounds) {
    leader.core->flush();
    bool moved = false;
    for (const Message& m : leader.take(MsgType::kAppendEntries)) {
      if (m.to != 2) continue;
      follower.core->step(m);
      moved = true;
    }
    for (const Message& r : follower.take(MsgType::kAppendEntriesResponse)) {
      if (r.success) {
        const auto f = follower.log_terms(), l = leader.log_terms();
        ASSERT_LE(r.match_index, f.size());
        EXPECT_TRUE(std::equal(f.begin(), f.begin() + r.match_index, l.begin()))
            << "ack of " << r.match_index << " over differing logs";
      }
      leader.core->step(r);
      moved = true;
    }
    if (!moved) break;
  }
  EXPECT_LT(rounds, 10);  // a few round trips, not one per entry
  EXPECT_EQ(follower.log_terms(), leader.log_terms());
}

TEST(Replication, LoneVoterCommitsAtOnce) {
  Bench b(1, {});
  b.make();
  b.core->propose(9, nullptr, 0);
  EXPECT_EQ(b.core->commit_index(), 2u);
}

}  // namespace
}  // namespace raft::test
