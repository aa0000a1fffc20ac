// The log's fast paths against its plain ones: a batch append must leave
// exactly the log that one append per entry leaves, and a Reader must return
// exactly what at() returns, across chunk and metadata-block boundaries,
// term changes, truncation and compaction.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/log.hpp"

namespace raft::test {
namespace {

using core::Log;

// Payload bytes that depend on the entry's id and position, so that an
// entry read from the wrong place cannot look right.
std::vector<std::uint8_t> payload_of(std::uint64_t id, std::size_t len) {
  std::vector<std::uint8_t> p(len);
  for (std::size_t i = 0; i < len; ++i) p[i] = static_cast<std::uint8_t>(id * 131 + i * 7);
  return p;
}

void expect_same_entry(const EntryView& a, const EntryView& b, Index i) {
  ASSERT_EQ(a.term, b.term) << "index " << i;
  ASSERT_EQ(a.type, b.type) << "index " << i;
  ASSERT_EQ(a.id, b.id) << "index " << i;
  ASSERT_EQ(a.len, b.len) << "index " << i;
  if (a.len > 0) {
    ASSERT_EQ(0, std::memcmp(a.data, b.data, a.len)) << "index " << i;
  }
}

void expect_same_log(const Log& single, const Log& batched) {
  ASSERT_EQ(single.base_index(), batched.base_index());
  ASSERT_EQ(single.base_term(), batched.base_term());
  ASSERT_EQ(single.last_index(), batched.last_index());
  ASSERT_EQ(single.last_term(), batched.last_term());
  ASSERT_EQ(single.payload_bytes(), batched.payload_bytes());
  ASSERT_EQ(single.dirty_from(), batched.dirty_from());
  std::size_t held = 0;  // payload_bytes() is kept without walking entries: check it
  for (Index i = single.base_index() + 1; i <= single.last_index(); ++i) {
    ASSERT_EQ(single.term_at(i), batched.term_at(i)) << "index " << i;
    expect_same_entry(single.at(i), batched.at(i), i);
    held += single.at(i).len;
  }
  ASSERT_EQ(single.payload_bytes(), held);
}

// Every Reader start point in a sample, read to the end, against at().
void expect_reader_matches_at(const Log& log, std::mt19937_64& rng) {
  if (log.empty()) return;
  const Index first = log.base_index() + 1;
  for (int start_try = 0; start_try < 4; ++start_try) {
    const Index start = first + rng() % (log.last_index() - first + 1);
    Log::Reader reader = log.read_from(start);
    for (Index i = start; i <= log.last_index(); ++i)
      expect_same_entry(reader.next(), log.at(i), i);
  }
}

TEST(LogBatchAppend, MatchesSingleAppendsThroughTruncationAndCompaction) {
  std::mt19937_64 rng(20261128);
  Log single, batched;
  std::uint64_t next_id = 1;
  Term term = 1;
  std::vector<std::vector<std::uint8_t>> held;  // payloads of the batch being built
  for (int round = 0; round < 120; ++round) {
    const unsigned op = rng() % 10;
    if (op < 7) {
      // A batch of 1..1500 entries: mostly small, some empty, a rare one
      // larger than a chunk; the term may change inside the batch.
      const std::size_t n = 1 + rng() % 1500;
      std::vector<EntryView> batch(n);
      held.assign(n, {});
      for (std::size_t k = 0; k < n; ++k) {
        if (rng() % 500 == 0) ++term;
        const unsigned size_kind = rng() % 5000;
        const std::size_t len = size_kind == 0    ? (3u << 19) + rng() % 1000  // 1.5 MiB
                                : size_kind < 250 ? 0
                                                  : rng() % 300;
        held[k] = payload_of(next_id, len);
        batch[k].term = term;
        batch[k].type = rng() % 20 == 0 ? EntryType::kNoop : EntryType::kCommand;
        batch[k].id = next_id++;
        batch[k].data = held[k].data();
        batch[k].len = len;
        single.append(batch[k]);
      }
      batched.append(batch.data(), batch.size());
    } else if (op < 8 && !single.empty()) {
      const Index from =
          single.base_index() + 1 + rng() % (single.last_index() - single.base_index());
      single.truncate_from(from);
      batched.truncate_from(from);
    } else if (op < 9 && !single.empty()) {
      const Index upto =
          single.base_index() + 1 + rng() % (single.last_index() - single.base_index());
      single.compact(upto);
      batched.compact(upto);
    } else {
      single.mark_persisted();
      batched.mark_persisted();
    }
    if (rng() % 50 == 0) ++term;
    ASSERT_NO_FATAL_FAILURE(expect_same_log(single, batched)) << "round " << round;
    ASSERT_NO_FATAL_FAILURE(expect_reader_matches_at(batched, rng)) << "round " << round;
  }
  EXPECT_GT(single.last_index(), single.base_index());
}

// A log emptied by compaction or truncation restarts where the next entry
// lands: at the start of a fresh chunk, or after the kept bytes of the old
// one.  Both paths, single and batched, must agree on where that is.
TEST(LogBatchAppend, RefillsALogThatCompactionOrTruncationEmptied) {
  const auto a = payload_of(1, 700), b = payload_of(2, 900), big = payload_of(3, (1u << 20) - 500);
  for (int how = 0; how < 3; ++how) {
    Log single, batched;
    for (Log* log : {&single, &batched}) {
      log->append(1, EntryType::kCommand, 1, a.data(), a.size());
      log->append(1, EntryType::kCommand, 2, b.data(), b.size());
      log->append(1, EntryType::kCommand, 3, a.data(), a.size());
      log->compact(1);                      // the log now starts mid-chunk
      if (how == 0) log->compact(3);        // to the end: a reset
      if (how == 1) log->truncate_from(2);  // everything, the chunk kept
      if (how == 2) log->truncate_from(3);  // all but entry 2
    }
    // The second entry no longer fits the kept chunk: it starts a new one.
    EntryView batch[2];
    batch[0] = EntryView{2, EntryType::kCommand, 10, b.data(), b.size()};
    batch[1] = EntryView{2, EntryType::kCommand, 11, big.data(), big.size()};
    single.append(batch[0]);
    single.append(batch[1]);
    batched.append(batch, 2);
    ASSERT_NO_FATAL_FAILURE(expect_same_log(single, batched)) << "case " << how;
    const EntryView first = batched.at(batched.last_index() - 1);
    EXPECT_EQ(first.id, 10u);
    EXPECT_EQ(0, std::memcmp(first.data, b.data(), b.size()));
  }
}

// Compacted mid-chunk, then emptied by truncation (a follower that installed
// a snapshot, then met a conflicting leader), then refilled past the kept
// chunk: the next compaction must count the dropped bytes once (review of
// 005d111: payload_bytes() wrapped below zero).
TEST(LogCompaction, AfterATruncationEmptiedTheLogBytesAreCountedOnce) {
  Log log;
  const auto small = payload_of(1, 1000), large = payload_of(2, 600000);
  for (std::uint64_t id = 1; id <= 1000; ++id)
    log.append(1, EntryType::kCommand, id, small.data(), small.size());
  log.compact(990);
  log.truncate_from(991);
  ASSERT_TRUE(log.empty());
  EXPECT_EQ(log.payload_bytes(), 0u);
  log.append(2, EntryType::kCommand, 991, large.data(), large.size());
  log.append(2, EntryType::kCommand, 992, small.data(), small.size());
  log.append(2, EntryType::kCommand, 993, small.data(), small.size());
  log.compact(992);
  EXPECT_EQ(log.payload_bytes(), small.size());
  const EntryView last = log.at(993);
  ASSERT_EQ(last.len, small.size());
  EXPECT_EQ(0, std::memcmp(last.data, small.data(), small.size()));
}

// Term 0 never comes from a correct leader (the driver rejects such frames),
// but the log must stay consistent with whatever it is given: found by
// fuzz_node, a batch of term-0 entries into an empty log recorded no term
// run, and reading them back read before the start of the run array.
TEST(LogBatchAppend, TermZeroEntriesStillGetATermRun) {
  const auto a = payload_of(1, 10);
  Log single, batched;
  EntryView batch[3];
  for (std::uint64_t k = 0; k < 3; ++k)
    batch[k] = EntryView{k == 2 ? 1u : 0u, EntryType::kCommand, k + 1, a.data(), a.size()};
  for (const EntryView& e : batch) single.append(e);
  batched.append(batch, 3);
  ASSERT_NO_FATAL_FAILURE(expect_same_log(single, batched));
  EXPECT_EQ(batched.term_at(1), 0u);
  EXPECT_EQ(batched.term_at(3), 1u);
  Log::Reader reader = batched.read_from(1);
  EXPECT_EQ(reader.next().term, 0u);
}

// A turn's proposals, appended straight from the queue's buffer (offsets
// into it), leave the log that appending them as entries leaves.
TEST(LogBatchAppend, ProposalsFromABufferMatchEntryAppends) {
  std::mt19937_64 rng(7);
  Log from_views, from_buffer;
  std::uint64_t next_id = 1;
  for (int round = 0; round < 30; ++round) {
    const Term term = 1 + round / 10;
    const std::size_t n = 1 + rng() % 3000;
    std::vector<std::uint8_t> buffer;
    std::vector<Proposal> items(n);
    for (auto& item : items) {
      const std::size_t len = rng() % 8 == 0 ? 0 : rng() % 200;
      const std::vector<std::uint8_t> p = payload_of(next_id, len);
      item = Proposal{next_id++, buffer.size(), len};
      buffer.insert(buffer.end(), p.begin(), p.end());
    }
    std::vector<EntryView> views(n);
    for (std::size_t k = 0; k < n; ++k)
      views[k] = EntryView{term, EntryType::kCommand, items[k].id, buffer.data() + items[k].offset,
                           items[k].len};
    from_views.append(views.data(), n);
    from_buffer.append(term, buffer.data(), items.data(), n);
    if (round % 7 == 6) {
      const Index upto = from_views.last_index() - rng() % 100;
      from_views.compact(upto);
      from_buffer.compact(upto);
    }
    expect_same_log(from_views, from_buffer);
  }
}

TEST(LogBatchAppend, EmptyBatchChangesNothing) {
  Log log;
  log.append(nullptr, 0);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(log.dirty_from(), 0u);
  const std::string x = "x";
  log.append(1, EntryType::kCommand, 1, reinterpret_cast<const std::uint8_t*>(x.data()), 1);
  log.mark_persisted();
  log.append(nullptr, 0);
  EXPECT_EQ(log.last_index(), 1u);
  EXPECT_EQ(log.dirty_from(), 0u);
}

// A reader crosses from one metadata block to the next and from one payload
// chunk to the next in the middle of a run.
TEST(LogReader, CrossesBlockAndChunkBoundaries) {
  Log log;
  std::vector<std::vector<std::uint8_t>> payloads;
  for (std::uint64_t id = 1; id <= 20000; ++id) {
    payloads.push_back(payload_of(id, 100 + id % 50));  // ~2.5 MiB: three chunks
    log.append(1 + id / 7000, EntryType::kCommand, id, payloads.back().data(),
               payloads.back().size());
  }
  Log::Reader reader = log.read_from(1);
  for (Index i = 1; i <= log.last_index(); ++i) {
    const EntryView e = reader.next();
    ASSERT_EQ(e.id, i);
    ASSERT_EQ(e.term, 1 + i / 7000);
    ASSERT_EQ(e.len, payloads[i - 1].size());
    ASSERT_EQ(0, std::memcmp(e.data, payloads[i - 1].data(), e.len)) << i;
  }
}

}  // namespace
}  // namespace raft::test
