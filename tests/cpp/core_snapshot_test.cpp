// Snapshots in the consensus core: log compaction, a leader streaming its
// snapshot to a follower that needs compacted entries, and a follower
// installing one (reliability scenarios 56-60 at the level of one core).
#include <string>

#include "core_harness.hpp"

namespace raft::test {
namespace {

using core::Role;
using core::Transition;

const std::uint8_t* bytes(const std::string& s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

// ---------------------------------------------------------------- the log

TEST(LogCompaction, KeepsIndexesTermsAndPayloadsOfTheSuffix) {
  core::Log log;
  std::vector<std::string> payload;
  for (int i = 1; i <= 20000; ++i) {
    payload.push_back(
        std::string(static_cast<std::size_t>(i % 300), static_cast<char>('a' + i % 26)));
    log.append(1 + i / 1000, EntryType::kCommand, i, bytes(payload.back()), payload.back().size());
  }
  const std::size_t before = log.payload_bytes();
  log.compact(12345);
  EXPECT_EQ(log.base_index(), 12345u);
  EXPECT_EQ(log.base_term(), 1u + 12345 / 1000);
  EXPECT_EQ(log.last_index(), 20000u);
  EXPECT_LT(log.payload_bytes(), before);
  EXPECT_EQ(log.term_at(12344), 0u);  // gone
  for (Index i = 12346; i <= 20000; ++i) {
    const EntryView e = log.at(i);
    ASSERT_EQ(e.id, i);
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(e.data), e.len), payload[i - 1]) << i;
  }
  // Truncation and appends keep working behind a compacted base.
  log.truncate_from(15000);
  EXPECT_EQ(log.last_index(), 14999u);
  log.append(99, EntryType::kCommand, 15000, bytes("z"), 1);
  EXPECT_EQ(log.term_at(15000), 99u);
  EXPECT_EQ(log.at(14999).id, 14999u);
}

TEST(LogCompaction, RepeatedCompactionReusesMemoryAndStaysCorrect) {
  core::Log log;
  const std::string p(64, 'x');
  Index next = 1;
  std::size_t peak = 0;
  for (int round = 0; round < 50; ++round) {
    for (int k = 0; k < 20000; ++k, ++next)
      log.append(1, EntryType::kCommand, next, bytes(p), p.size());
    peak = std::max(peak, log.payload_bytes());
    log.compact(log.last_index() - 100);
    ASSERT_EQ(log.payload_bytes(), 100 * p.size());
    ASSERT_EQ(log.at(log.last_index()).id, log.last_index());
    ASSERT_EQ(log.at(log.base_index() + 1).id, log.base_index() + 1);
  }
  EXPECT_EQ(log.last_index(), 50u * 20000);
  EXPECT_LE(peak, 20100 * p.size());
}

TEST(LogCompaction, CompactToTheEndEmptiesAndResetRestarts) {
  core::Log log;
  for (Index i = 1; i <= 10; ++i) log.append(2, EntryType::kCommand, i, nullptr, 0);
  log.mark_persisted();
  log.compact(10);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(log.base_index(), 10u);
  EXPECT_EQ(log.base_term(), 2u);
  EXPECT_EQ(log.dirty_from(), 0u);  // nothing for storage to do
  log.reset(500, 7);
  EXPECT_EQ(log.last_index(), 500u);
  EXPECT_EQ(log.last_term(), 7u);
  EXPECT_EQ(log.dirty_from(), 501u);  // storage must drop what it holds after 500
  log.append(8, EntryType::kCommand, 501, nullptr, 0);
  EXPECT_EQ(log.term_at(501), 8u);
}

// Terms live in runs, not per entry: every lookup path (newest run, older
// runs by search, across truncation and compaction) must give each entry's
// own term, and types and lengths survive the packed metadata.
TEST(LogMetadata, TermsTypesAndLengthsSurviveTruncationAndCompaction) {
  core::Log log;
  std::vector<Term> terms;
  std::vector<EntryType> types;
  const std::string big(3000, 'q');
  auto push = [&](Term t, EntryType type, std::size_t len) {
    log.append(t, type, terms.size() + 1, bytes(big), len);
    terms.push_back(t);
    types.push_back(type);
  };
  auto verify = [&] {
    for (Index i = log.base_index() + 1; i <= log.last_index(); ++i) {
      const EntryView e = log.at(i);
      ASSERT_EQ(e.term, terms[i - 1]) << i;
      ASSERT_EQ(log.term_at(i), terms[i - 1]) << i;
      ASSERT_EQ(e.type, types[i - 1]) << i;
      ASSERT_EQ(e.len, (i * 7) % 3000) << i;
      ASSERT_EQ(e.id, i);
    }
  };
  for (Term t = 1; t <= 40; ++t) {
    for (int k = 0; k < 37; ++k)
      push(t * 3, k == 0 ? EntryType::kNoop : EntryType::kCommand, ((terms.size() + 1) * 7) % 3000);
  }
  verify();
  // Truncate inside a run and continue with a newer term, then with the
  // same term as the run that now ends the log.
  log.truncate_from(500);
  terms.resize(499);
  types.resize(499);
  push(200, EntryType::kNoop, (500 * 7) % 3000);
  log.truncate_from(501);
  terms.resize(500);
  types.resize(500);
  push(200, EntryType::kCommand, (501 * 7) % 3000);
  verify();
  log.compact(321);
  EXPECT_EQ(log.base_term(), terms[320]);
  EXPECT_EQ(log.term_at(321), terms[320]);
  EXPECT_EQ(log.term_at(320), 0u);
  verify();
  log.truncate_from(322);
  terms.resize(321);
  types.resize(321);
  push(7, EntryType::kCommand,
       (322 * 7) % 3000);  // a lower term than the log's: any order is stored
  verify();
}

// ---------------------------------------------------------------- leader side

// A leader of term 2 over {1,2,3} whose log 1..n is committed and applied,
// with a snapshot at `snap` and the log compacted to `compact_to`.
struct LeaderWithSnapshot {
  Bench b{1, {2, 3}};
  std::string data;
  LeaderWithSnapshot(Index n, Index snap, Index compact_to, std::size_t size, std::uint32_t chunk) {
    b.config.snapshot_chunk_bytes = chunk;
    b.make();
    b.elect({2, 3});
    b.take(MsgType::kAppendEntries);
    const Term t = b.core->term();
    for (Index i = 2; i <= n; ++i) b.core->propose(i, nullptr, 0);
    b.core->flush();
    b.core->step(b.append_ok(3, t, n));  // node 3 is up to date; node 2 is silent
    for (Index i = 1; i <= n; ++i) b.core->applied(i);
    b.take(MsgType::kAppendEntries);
    for (std::size_t i = 0; i < size; ++i) data.push_back(static_cast<char>('A' + i % 23));
    SnapshotInfo info;
    info.index = snap;
    info.term = b.core->log().term_at(snap);
    info.size = size;
    info.crc = 123;
    info.voters = {1, 2, 3};
    b.core->snapshot_saved(info);
    b.core->compact(compact_to);
  }
  Message reply(const Message& is, std::uint64_t offset, bool success = false,
                bool rewind = false) {
    Message r;
    r.type = MsgType::kInstallSnapshotResponse;
    r.from = is.to;
    r.to = 1;
    r.term = is.term;
    r.snapshot.index = is.snapshot.index;
    r.offset = offset;
    r.success = success;
    r.rewind = rewind;
    r.match_index = success ? is.snapshot.index : 0;
    return r;
  }
};

std::size_t count_to(const std::vector<Message>& ms, NodeId to) {
  std::size_t n = 0;
  for (const auto& m : ms) n += m.to == to;
  return n;
}

Message reject(NodeId from, Term term, Index reject_index, Index hint_index) {
  Message m;
  m.type = MsgType::kAppendEntriesResponse;
  m.from = from;
  m.to = 1;
  m.term = term;
  m.reject_index = reject_index;
  m.hint_index = hint_index;
  return m;
}

// Scenario 56 (leader half): a follower behind the compacted prefix gets the
// snapshot in chunks, then ordinary appends right after it.
TEST(SnapshotSend, FollowerBehindCompactionGetsChunksThenAppends) {
  LeaderWithSnapshot l(50, 40, 40, 10, 4);
  Bench& b = l.b;
  const Term t = b.core->term();
  b.core->step(reject(2, t, 50, 1));  // node 2's log is empty
  b.core->flush();
  auto chunks = b.take(MsgType::kInstallSnapshot);
  ASSERT_EQ(chunks.size(), 3u);  // 4 + 4 + 2 bytes, window of 4
  EXPECT_EQ(chunks[0].offset, 0u);
  EXPECT_EQ(chunks[1].offset, 4u);
  EXPECT_EQ(chunks[2].offset, 8u);
  EXPECT_EQ(chunks[2].chunk_len, 2u);
  EXPECT_EQ(chunks[0].snapshot.index, 40u);
  EXPECT_EQ(chunks[0].snapshot.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(count_to(b.take(MsgType::kAppendEntries), 2), 0u);
  b.core->step(l.reply(chunks[2], 10, true));
  b.core->flush();
  auto ae = b.take(MsgType::kAppendEntries);
  ASSERT_EQ(count_to(ae, 2), 1u);
  for (const auto& m : ae) {
    if (m.to != 2) continue;
    EXPECT_EQ(m.prev_log_index, 40u);
    EXPECT_EQ(m.entries.size(), 10u);
  }
}

// Scenario 57: a snapshot at the leader's last index == commit; the install
// acknowledgement alone puts the follower back into replication.
TEST(SnapshotSend, SnapshotAtLastIndexReturnsToReplicate) {
  LeaderWithSnapshot l(30, 30, 30, 3, 1024);
  Bench& b = l.b;
  const Term t = b.core->term();
  b.core->step(reject(2, t, 30, 1));
  b.core->flush();
  auto chunks = b.take(MsgType::kInstallSnapshot);
  ASSERT_EQ(chunks.size(), 1u);
  b.core->step(l.reply(chunks[0], 3, true));
  // A new proposal streams to node 2 at once, without a probe round.
  b.core->propose(99, nullptr, 0);
  b.core->flush();
  auto ae = b.take(MsgType::kAppendEntries);
  bool to2 = false;
  for (const auto& m : ae) {
    if (m.to != 2) continue;
    to2 = true;
    EXPECT_EQ(m.prev_log_index, 30u);
    EXPECT_EQ(m.entries.size(), 1u);
  }
  EXPECT_TRUE(to2);
}

TEST(SnapshotSend, RewindResendsAndSilentHeartbeatGoesBackN) {
  LeaderWithSnapshot l(50, 40, 40, 20, 4);
  Bench& b = l.b;
  const Term t = b.core->term();
  b.core->step(reject(2, t, 50, 1));
  b.core->flush();
  auto first = b.take(MsgType::kInstallSnapshot);
  ASSERT_EQ(first.size(), 4u);  // the window
  // The follower lost chunk 0 and saw chunk 4: it asks for a rewind.
  b.core->step(l.reply(first[1], 0, false, true));
  auto again = b.take(MsgType::kInstallSnapshot);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].offset, 0u);
  // Acks move the window; with no progress for two heartbeats it resends
  // from the last confirmed byte.
  b.core->step(l.reply(again[0], 8));
  b.core->flush();
  b.take(MsgType::kInstallSnapshot);
  b.core->tick(b.now += 60);  // heartbeat: progress since the last one
  b.take(MsgType::kInstallSnapshot);
  b.core->tick(b.now += 60);  // no progress once: keep waiting
  EXPECT_TRUE(b.take(MsgType::kInstallSnapshot).empty());
  b.core->tick(b.now += 60);  // twice: go back to byte 8
  auto hb = b.take(MsgType::kInstallSnapshot);
  ASSERT_FALSE(hb.empty());
  EXPECT_EQ(hb[0].offset, 8u);
}

TEST(SnapshotSend, NewerSnapshotRestartsTheTransfer) {
  LeaderWithSnapshot l(50, 40, 40, 20, 4);
  Bench& b = l.b;
  const Term t = b.core->term();
  b.core->step(reject(2, t, 50, 1));
  b.core->flush();
  b.take(MsgType::kInstallSnapshot);
  SnapshotInfo newer;
  newer.index = 50;
  newer.term = t;
  newer.size = 6;
  newer.voters = {1, 2, 3};
  b.core->snapshot_saved(newer);
  b.core->flush();
  auto chunks = b.take(MsgType::kInstallSnapshot);
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks[0].snapshot.index, 50u);
  EXPECT_EQ(chunks[0].offset, 0u);
  // A late acknowledgement of the old transfer changes nothing.
  Message old = l.reply(chunks[0], 4);
  old.snapshot.index = 40;
  old.success = true;
  old.match_index = 40;
  b.core->step(old);
  b.core->flush();
  EXPECT_EQ(count_to(b.take(MsgType::kAppendEntries), 2), 0u);
}

// ---------------------------------------------------------------- follower side

Message install(NodeId from, Term term, Index index, Term snap_term, const std::string& data,
                std::uint64_t offset, std::size_t len, Index commit = 0) {
  Message m;
  m.type = MsgType::kInstallSnapshot;
  m.from = from;
  m.to = 2;
  m.term = term;
  m.snapshot.index = index;
  m.snapshot.term = snap_term;
  m.snapshot.size = data.size();
  m.snapshot.voters = {1, 2, 3};
  m.offset = offset;
  m.chunk = reinterpret_cast<const std::uint8_t*>(data.data()) + offset;
  m.chunk_len = len;
  m.commit = commit;
  return m;
}

struct Follower {
  Bench f{2, {1, 3}};
  Follower(const std::vector<Term>& terms, Term term, Index commit = 0) {
    f.config.can_install_snapshots = true;
    f.make();
    if (!terms.empty() || term > 0) {
      f.core->step(f.append(1, term, 0, 0, terms, commit));
      f.take(MsgType::kAppendEntriesResponse);
    }
    for (Index i = 1; i <= f.core->commit_index(); ++i) f.core->applied(i);
  }
  Message last_reply() {
    auto r = f.take(MsgType::kInstallSnapshotResponse);
    EXPECT_FALSE(r.empty());
    return r.empty() ? Message{} : r.back();
  }
};

TEST(SnapshotInstall, InOrderChunksInstallAndMoveCommitAndApplied) {
  Follower fo({1, 1}, 2, 1);
  Bench& f = fo.f;
  const std::string data = "0123456789";
  f.core->step(install(1, 2, 20, 2, data, 0, 4));
  EXPECT_EQ(fo.last_reply().offset, 4u);
  f.core->step(install(1, 2, 20, 2, data, 4, 4));
  EXPECT_EQ(fo.last_reply().offset, 8u);
  EXPECT_TRUE(f.installed.empty());
  f.core->step(install(1, 2, 20, 2, data, 8, 2));
  Message r = fo.last_reply();
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.match_index, 20u);
  EXPECT_EQ(f.received, data);
  ASSERT_EQ(f.installed.size(), 1u);
  EXPECT_EQ(f.installed[0], (std::pair<Index, bool>{20, false}));
  EXPECT_EQ(f.core->commit_index(), 20u);
  EXPECT_EQ(f.core->applied_index(), 20u);
  EXPECT_EQ(f.core->log().base_index(), 20u);
  EXPECT_EQ(f.core->log().last_index(), 20u);
  EXPECT_EQ(f.core->snapshot().index, 20u);
  // Appends continue right after the snapshot.
  f.core->step(f.append(1, 2, 20, 2, {2, 2}, 22));
  auto ok = f.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_TRUE(ok[0].success);
  EXPECT_EQ(ok[0].match_index, 22u);
  EXPECT_EQ(f.core->commit_index(), 22u);
}

// Scenario 58: a snapshot at or below the commit index is acknowledged and
// ignored; applied never moves back.
TEST(SnapshotInstall, StaleSnapshotIsIgnored) {
  Follower fo({1, 1, 1, 1, 1}, 1, 5);
  Bench& f = fo.f;
  ASSERT_EQ(f.core->applied_index(), 5u);
  f.core->step(install(1, 1, 3, 1, "abc", 0, 3));
  Message r = fo.last_reply();
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.match_index, 3u);
  EXPECT_TRUE(f.chunk_infos.empty());
  EXPECT_TRUE(f.installed.empty());
  EXPECT_EQ(f.core->applied_index(), 5u);
  EXPECT_EQ(f.core->log().last_index(), 5u);
}

// Scenario 60: entries after the snapshot that match it are retained.
TEST(SnapshotInstall, MatchingSuffixIsKept) {
  Follower fo({1, 1, 1, 2, 2, 2, 2}, 2, 1);
  Bench& f = fo.f;
  f.core->step(install(1, 2, 5, 2, "xy", 0, 2));
  ASSERT_EQ(f.installed.size(), 1u);
  EXPECT_TRUE(f.installed[0].second);
  EXPECT_EQ(f.core->log().base_index(), 5u);
  EXPECT_EQ(f.core->log().last_index(), 7u);
  EXPECT_EQ(f.core->log().term_at(7), 2u);
  EXPECT_EQ(f.core->applied_index(), 5u);
}

// Scenario 60: a log that conflicts with the snapshot is discarded whole.
TEST(SnapshotInstall, ConflictingLogIsDiscarded) {
  Follower fo({1, 1, 1, 1, 1, 1, 1}, 1, 1);
  Bench& f = fo.f;
  f.core->step(install(1, 3, 5, 2, "xy", 0, 2));
  ASSERT_EQ(f.installed.size(), 1u);
  EXPECT_FALSE(f.installed[0].second);
  EXPECT_EQ(f.core->log().base_index(), 5u);
  EXPECT_EQ(f.core->log().last_index(), 5u);
  EXPECT_EQ(f.core->log().last_term(), 2u);
  EXPECT_EQ(f.core->log().dirty_from(), 6u);  // storage drops its old suffix
}

TEST(SnapshotInstall, OutOfOrderDuplicateAndRestartedTransfers) {
  Follower fo({}, 0);
  Bench& f = fo.f;
  const std::string data = "abcdefghij";
  // A chunk from the middle of an unknown transfer: start from 0.
  f.core->step(install(1, 1, 9, 1, data, 4, 4));
  Message r = fo.last_reply();
  EXPECT_TRUE(r.rewind);
  EXPECT_EQ(r.offset, 0u);
  f.core->step(install(1, 1, 9, 1, data, 0, 4));
  EXPECT_EQ(fo.last_reply().offset, 4u);
  // Duplicate of chunk 0: no rewind, just where we are.
  f.core->step(install(1, 1, 9, 1, data, 0, 4));
  r = fo.last_reply();
  EXPECT_FALSE(r.rewind);
  EXPECT_EQ(r.offset, 4u);
  // A gap: rewind to 4.
  f.core->step(install(1, 1, 9, 1, data, 8, 2));
  r = fo.last_reply();
  EXPECT_TRUE(r.rewind);
  EXPECT_EQ(r.offset, 4u);
  // A new leader (term 2) starts its own snapshot: the old one is dropped.
  const std::string other = "XYZ";
  f.core->step(install(3, 2, 12, 2, other, 0, 3));
  r = f.take(MsgType::kInstallSnapshotResponse).back();
  EXPECT_TRUE(r.success);
  EXPECT_EQ(f.received, other);
  EXPECT_EQ(f.core->applied_index(), 12u);
  // The old leader's chunks are now from a stale term.
  f.core->step(install(1, 1, 9, 1, data, 4, 4));
  EXPECT_EQ(f.core->applied_index(), 12u);
}

TEST(SnapshotInstall, BadChecksumRestartsAndSavingRefuses) {
  Follower fo({}, 0);
  Bench& f = fo.f;
  f.complete_ok = false;
  f.core->step(install(1, 1, 9, 1, "abc", 0, 3));
  Message r = fo.last_reply();
  EXPECT_TRUE(r.rewind);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_TRUE(f.installed.empty());
  EXPECT_EQ(f.core->applied_index(), 0u);
  f.complete_ok = true;
  f.core->set_saving(true);
  f.core->step(install(1, 1, 9, 1, "abc", 0, 3));
  r = fo.last_reply();
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_TRUE(f.installed.empty());
  f.core->set_saving(false);
  f.core->step(install(1, 1, 9, 1, "abc", 0, 3));
  EXPECT_TRUE(fo.last_reply().success);
}

TEST(SnapshotInstall, ForeignConfigurationAndNoSupportAreRefused) {
  Follower fo({}, 0);
  Bench& f = fo.f;
  Message m = install(1, 1, 9, 1, "abc", 0, 3);
  m.snapshot.voters = {1, 2, 4};
  f.core->step(m);
  EXPECT_TRUE(f.take(MsgType::kInstallSnapshotResponse).empty());
  EXPECT_TRUE(f.chunk_infos.empty());

  Bench g(2, {1, 3});  // can_install_snapshots is false
  g.make();
  g.core->step(install(1, 1, 9, 1, "abc", 0, 3));
  EXPECT_TRUE(g.take(MsgType::kInstallSnapshotResponse).empty());
  EXPECT_EQ(g.core->applied_index(), 0u);
}

// A deposed leader's undecided proposals that a snapshot swallows cannot
// be proven either way: they are reported UNKNOWN, never silently dropped.
TEST(SnapshotInstall, SwallowedProposalsAreReportedUnknown) {
  Bench f(2, {1, 3});
  f.config.can_install_snapshots = true;
  f.make();
  f.elect({1, 3});
  ASSERT_EQ(f.core->role(), Role::kLeader);
  f.core->propose(501, nullptr, 0);
  f.core->propose(502, nullptr, 0);
  f.transitions.clear();
  const Term t = f.core->term();
  f.core->step(install(3, t + 1, 2, t + 1, "s", 0, 1));
  ASSERT_EQ(f.core->role(), Role::kFollower);
  using P = std::pair<std::uint64_t, Transition>;
  // Index 2 (id 501) is inside the snapshot; index 3 (502) is displaced and
  // decided later when index 3 commits.
  EXPECT_EQ(f.transitions, (std::vector<P>{{501, Transition::kUnknown}}));
  f.core->step(f.append(3, t + 1, 2, t + 1, {t + 1}, 3));
  EXPECT_EQ(f.transitions.back(), (P{502, Transition::kAbandonedConflict}));
}

TEST(SnapshotInstall, AppendBelowTheBaseIsAcceptedAsMatching) {
  Follower fo({}, 0);
  Bench& f = fo.f;
  f.core->step(install(1, 1, 10, 1, "abc", 0, 3));
  f.take(MsgType::kInstallSnapshotResponse);
  // The leader's older AppendEntries (prev 5, entries 6..12) crosses it.
  f.core->step(f.append(1, 1, 5, 1, {1, 1, 1, 1, 1, 1, 1}, 12));
  auto r = f.take(MsgType::kAppendEntriesResponse);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].success);
  EXPECT_EQ(r[0].match_index, 12u);
  EXPECT_EQ(f.core->log().last_index(), 12u);
  EXPECT_EQ(f.core->commit_index(), 12u);
}

}  // namespace
}  // namespace raft::test
