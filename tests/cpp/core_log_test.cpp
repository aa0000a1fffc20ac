// The log's fast paths against its plain ones: a batch append must leave
// exactly the log that one append per entry leaves, and a Reader must return
// exactly what at() returns, across chunk and metadata-block boundaries,
// term changes, truncation and compaction.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
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

// ---------------------------------------------------------------- batch_extent, visit, collect

// What one entry should be, kept beside the log: its payload is
// payload_of(id, len), so the log's bytes can be checked without the log.
struct Expected {
  Term term;
  EntryType type;
  std::uint64_t id;
  std::size_t len;
};

// A log and, beside it, the entries it should hold: held[k] is entry
// base_index() + 1 + k.  The random tests evolve both together.
struct ModelLog {
  Log log;
  std::vector<Expected> held;
  std::uint64_t next_id = 1;
  Term term = 1;

  void append(const std::vector<Expected>& batch) {
    std::vector<std::vector<std::uint8_t>> payloads;
    std::vector<EntryView> views;
    payloads.reserve(batch.size());
    for (const Expected& x : batch) {
      payloads.push_back(payload_of(x.id, x.len));
      views.push_back(EntryView{x.term, x.type, x.id, payloads.back().data(), x.len});
      held.push_back(x);
    }
    log.append(views.data(), views.size());
  }
  void truncate_from(Index i) {
    held.resize(static_cast<std::size_t>(i - log.base_index() - 1));
    log.truncate_from(i);
  }
  void compact(Index i) {
    held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(i - log.base_index()));
    log.compact(i);
  }
};

// Mostly small entries and some empty ones; now and then one of 300 KiB (four
// of them cannot share a 1 MiB chunk, so chunks end with room left over) or
// one larger than a chunk (which gets a chunk of its own).
std::size_t random_len(std::mt19937_64& rng) {
  const unsigned kind = rng() % 3000;
  if (kind < 3) return (std::size_t{300} << 10) + rng() % 100;
  if (kind == 3) return (std::size_t{1} << 20) + 1 + rng() % 5000;
  if (kind < 300) return 0;
  return rng() % 200;
}

// n entries in one batch.  With `churn` the term changes at about every
// other entry (runs of length 1, runs next to runs); otherwise rarely.
void append_random(ModelLog& m, std::mt19937_64& rng, std::size_t n, bool churn) {
  std::vector<Expected> batch(n);
  for (Expected& x : batch) {
    if (rng() % (churn ? 2 : 700) == 0) ++m.term;
    x = Expected{m.term, rng() % 16 == 0 ? EntryType::kNoop : EntryType::kCommand, m.next_id++,
                 random_len(rng)};
  }
  m.append(batch);
}

// One random change: mostly appends (enough to span several 4096-entry
// metadata blocks), and truncations and compactions to anywhere in the log,
// so that the first entry held often starts mid-chunk.
void random_step(ModelLog& m, std::mt19937_64& rng) {
  const unsigned op = rng() % 10;
  const std::size_t held = m.held.size();
  if (op < 6 || held == 0) {
    append_random(m, rng, 1 + rng() % 5000, rng() % 4 == 0);
  } else if (op < 8) {
    m.truncate_from(m.log.base_index() + 1 + rng() % held);
  } else {
    // Rarely to the very end (a reset); otherwise some entries stay.
    const std::size_t drop = rng() % 8 == 0 ? held : 1 + rng() % std::max<std::size_t>(held - 1, 1);
    m.compact(m.log.base_index() + drop);
  }
  if (rng() % 3 == 0) ++m.term;
}

// at() and term_at() against the model: the reference the new walks are
// compared with must itself be right.
void expect_log_is_model(const ModelLog& m) {
  const Log& log = m.log;
  ASSERT_EQ(log.last_index() - log.base_index(), m.held.size());
  std::size_t bytes = 0;
  for (std::size_t k = 0; k < m.held.size(); ++k) {
    const Index i = log.base_index() + 1 + k;
    const Expected& x = m.held[k];
    const std::vector<std::uint8_t> p = payload_of(x.id, x.len);
    ASSERT_NO_FATAL_FAILURE(
        expect_same_entry(log.at(i), EntryView{x.term, x.type, x.id, p.data(), x.len}, i));
    ASSERT_EQ(log.term_at(i), x.term) << "index " << i;
    bytes += x.len;
  }
  ASSERT_EQ(log.payload_bytes(), bytes);
}

// The reference for batch_extent: entries are taken in order while the
// batch's cost (payload plus kEntryWireOverhead each) stays within
// max_bytes, and the first is taken whatever it costs.  lens[k] is the
// length of the k-th entry held; the batch starts at lens[start].
std::size_t brute_force_extent(const std::vector<std::size_t>& lens, std::size_t start,
                               std::size_t max_bytes, std::size_t* payload) {
  std::size_t n = 0, cost = 0;
  *payload = 0;
  for (std::size_t k = start; k < lens.size(); ++k) {
    const std::size_t c = lens[k] + kEntryWireOverhead;
    if (n > 0 && cost + c > max_bytes) break;
    cost += c;
    *payload += lens[k];
    ++n;
  }
  return n;
}

// batch_extent from a sample of start points (the first entry, the last,
// random ones, some large entries and the ones after them, where a new
// chunk begins) under budgets around the cost of prefixes: exactly a
// prefix's cost and one byte either side, below one entry's cost, and above
// all.
void expect_batch_extent_matches_brute_force(const Log& log, std::mt19937_64& rng) {
  if (log.empty()) return;
  const Index first = log.base_index() + 1;
  std::vector<std::size_t> lens;
  for (Index i = first; i <= log.last_index(); ++i) lens.push_back(log.at(i).len);
  std::vector<std::size_t> starts = {0, lens.size() - 1};
  for (int k = 0; k < 6; ++k) starts.push_back(rng() % lens.size());
  std::vector<std::size_t> large;
  for (std::size_t k = 0; k < lens.size(); ++k)
    if (lens[k] >= (std::size_t{300} << 10)) large.push_back(k);
  for (int k = 0; k < 3 && !large.empty(); ++k) {
    const std::size_t at = large[rng() % large.size()];
    starts.push_back(at);
    if (at + 1 < lens.size()) starts.push_back(at + 1);
  }
  for (const std::size_t start : starts) {
    std::vector<std::size_t> cost;  // cost[k]: of entries start..start+k
    std::size_t total = 0;
    for (std::size_t k = start; k < lens.size(); ++k)
      cost.push_back(total += lens[k] + kEntryWireOverhead);
    std::vector<std::size_t> budgets = {0,
                                        1,
                                        kEntryWireOverhead - 1,
                                        cost.front() - 1,
                                        cost.front(),
                                        cost.front() + 1,
                                        cost.back() - 1,
                                        cost.back(),
                                        cost.back() + 1,
                                        std::numeric_limits<std::size_t>::max(),
                                        static_cast<std::size_t>(rng() % (cost.back() + 1))};
    for (int k = 0; k < 6; ++k) {
      const std::size_t c = cost[rng() % cost.size()];
      budgets.insert(budgets.end(), {c - 1, c, c + 1});
    }
    // Up to and through the next few large entries: where chunks change.
    int large_seen = 0;
    for (std::size_t k = 0; k < cost.size() && large_seen < 3; ++k) {
      if (lens[start + k] < (std::size_t{300} << 10)) continue;
      ++large_seen;
      budgets.insert(budgets.end(), {cost[k] - 1, cost[k], cost[k] + 1});
      if (k > 0) budgets.insert(budgets.end(), {cost[k - 1] - 1, cost[k - 1], cost[k - 1] + 1});
    }
    const Index from = first + start;
    for (const std::size_t max_bytes : budgets) {
      std::size_t want_payload = 0;
      const std::size_t want = brute_force_extent(lens, start, max_bytes, &want_payload);
      std::size_t payload = 0xDEAD;
      ASSERT_EQ(log.batch_extent(from, max_bytes, &payload), want)
          << "from " << from << " (base " << log.base_index() << ", last " << log.last_index()
          << ") max_bytes " << max_bytes;
      ASSERT_EQ(payload, want_payload) << "from " << from << " max_bytes " << max_bytes;
    }
  }
}

// Random logs (appends, truncations, compactions, resets), each state
// checked against the model and then by `check`; the walk must reach logs of
// more than two metadata blocks and compacted logs, the cases it is for.
template <typename Check>
void over_random_logs(std::uint64_t seed, Check check) {
  std::mt19937_64 rng(seed);
  std::size_t most_held = 0, compacted_checks = 0;
  for (int scenario = 0; scenario < 6; ++scenario) {
    ModelLog m;
    for (int step = 0; step < 10; ++step) {
      SCOPED_TRACE("seed " + std::to_string(seed) + " scenario " + std::to_string(scenario) +
                   " step " + std::to_string(step));
      random_step(m, rng);
      ASSERT_NO_FATAL_FAILURE(expect_log_is_model(m));
      ASSERT_NO_FATAL_FAILURE(check(m.log, rng));
      most_held = std::max(most_held, m.held.size());
      if (m.log.base_index() > 0 && !m.log.empty()) ++compacted_checks;
    }
  }
  EXPECT_GT(most_held, 2 * std::size_t{4096});
  EXPECT_GT(compacted_checks, 10u);
}

TEST(LogBatchExtent, MatchesBruteForceOverRandomLogs) {
  over_random_logs(0xBA7C4E57, [](const Log& log, std::mt19937_64& rng) {
    expect_batch_extent_matches_brute_force(log, rng);
  });
}

// Small hand-computed cases, one byte either side of each boundary: entries
// of 10, 0 and 20 bytes cost 42, 32 and 52.
TEST(LogBatchExtent, BudgetsAroundEachBoundary) {
  Log log;
  const auto a = payload_of(1, 10), c = payload_of(3, 20);
  log.append(1, EntryType::kCommand, 1, a.data(), a.size());
  log.append(1, EntryType::kNoop, 2, nullptr, 0);
  log.append(2, EntryType::kCommand, 3, c.data(), c.size());
  struct Case {
    Index from;
    std::size_t max_bytes, count, payload;
  };
  const Case cases[] = {
      {1, 0, 1, 10},  {1, 41, 1, 10},  {1, 42, 1, 10},  {1, 73, 1, 10},
      {1, 74, 2, 10}, {1, 125, 2, 10}, {1, 126, 3, 30}, {1, ~std::size_t{0}, 3, 30},
      {2, 31, 1, 0},  {2, 32, 1, 0},   {2, 83, 1, 0},   {2, 84, 2, 20},
      {3, 0, 1, 20},  {3, 52, 1, 20},
  };
  for (const Case& k : cases) {
    std::size_t payload = 0xDEAD;
    EXPECT_EQ(log.batch_extent(k.from, k.max_bytes, &payload), k.count)
        << "from " << k.from << " max_bytes " << k.max_bytes;
    EXPECT_EQ(payload, k.payload) << "from " << k.from << " max_bytes " << k.max_bytes;
  }
}

// A batch larger than a chunk is a chunk of its own; a batch that starts
// mid-chunk after compaction counts only from its own first byte.
TEST(LogBatchExtent, CountsAcrossChunksAfterCompaction) {
  Log log;
  const auto small = payload_of(1, 1000), large = payload_of(2, (1u << 20) + 77);
  const auto mid = payload_of(3, 300u << 10);
  std::uint64_t id = 1;
  for (int k = 0; k < 10; ++k) log.append(1, EntryType::kCommand, id++, small.data(), small.size());
  for (int k = 0; k < 4; ++k) log.append(1, EntryType::kCommand, id++, mid.data(), mid.size());
  log.append(2, EntryType::kCommand, id++, large.data(), large.size());
  for (int k = 0; k < 10; ++k) log.append(2, EntryType::kCommand, id++, small.data(), small.size());
  log.compact(3);  // entry 4 now starts 3000 bytes into the first chunk
  std::size_t payload = 0;
  EXPECT_EQ(log.batch_extent(4, ~std::size_t{0}, &payload), 22u);
  EXPECT_EQ(payload, 7 * small.size() + 4 * mid.size() + large.size() + 10 * small.size());
  // Entries 4..10 and the first three of 300 KiB share the first chunk; the
  // fourth starts the second.
  const std::size_t through_third = 7 * (1000 + 32) + 3 * (mid.size() + 32);
  EXPECT_EQ(log.batch_extent(4, through_third, &payload), 10u);
  EXPECT_EQ(payload, 7 * small.size() + 3 * mid.size());
  EXPECT_EQ(log.batch_extent(4, through_third + mid.size() + 32, &payload), 11u);
  EXPECT_EQ(payload, 7 * small.size() + 4 * mid.size());
  EXPECT_EQ(log.batch_extent(15, 1, &payload), 1u);  // the large entry alone
  EXPECT_EQ(payload, large.size());
  EXPECT_EQ(log.batch_extent(15, large.size() + 32 + 1032, &payload), 2u);
  EXPECT_EQ(payload, large.size() + 1000);
}

// One entry as a walk reports it: visit()'s calls carry no term, and are
// recorded with term 0.
std::vector<EntryView> visited(const Log& log, Index from, Index to, bool with_terms) {
  std::vector<EntryView> out;
  if (with_terms) {
    log.visit_with_terms(
        from, to,
        [&out](Term term, std::uint64_t id, bool noop, const std::uint8_t* data, std::size_t len) {
          out.push_back(
              EntryView{term, noop ? EntryType::kNoop : EntryType::kCommand, id, data, len});
        });
  } else {
    log.visit(
        from, to, [&out](std::uint64_t id, bool noop, const std::uint8_t* data, std::size_t len) {
          out.push_back(EntryView{0, noop ? EntryType::kNoop : EntryType::kCommand, id, data, len});
        });
  }
  return out;
}

// visit, visit_with_terms and collect over from..to against at().
void expect_walks_match_at(const Log& log, Index from, Index to) {
  SCOPED_TRACE("range " + std::to_string(from) + ".." + std::to_string(to) + " of " +
               std::to_string(log.base_index() + 1) + ".." + std::to_string(log.last_index()));
  const std::size_t n = static_cast<std::size_t>(to - from + 1);
  const std::vector<EntryView> plain = visited(log, from, to, false);
  const std::vector<EntryView> with_terms = visited(log, from, to, true);
  // collect appends: what the vector held before stays.
  std::vector<EntryView> collected(1, EntryView{77, EntryType::kNoop, 78, nullptr, 0});
  log.collect(from, n, collected);
  ASSERT_EQ(plain.size(), n);
  ASSERT_EQ(with_terms.size(), n);
  ASSERT_EQ(collected.size(), n + 1);
  EXPECT_EQ(collected[0].term, 77u);
  EXPECT_EQ(collected[0].id, 78u);
  for (std::size_t k = 0; k < n; ++k) {
    const Index i = from + k;
    const EntryView want = log.at(i);
    EntryView want_no_term = want;
    want_no_term.term = 0;
    ASSERT_NO_FATAL_FAILURE(expect_same_entry(plain[k], want_no_term, i)) << "visit";
    ASSERT_NO_FATAL_FAILURE(expect_same_entry(with_terms[k], want, i)) << "visit_with_terms";
    ASSERT_NO_FATAL_FAILURE(expect_same_entry(collected[k + 1], want, i)) << "collect";
  }
}

// Ranges that matter: the whole log, single entries at both ends, random
// ones short and long, ones as long as a metadata block, and ones starting
// at a term run's first entry, just before it and just after it (mid-run).
void expect_walks_match_at_in_sample(const Log& log, std::mt19937_64& rng) {
  if (log.empty()) return;
  const Index first = log.base_index() + 1, last = log.last_index();
  const std::size_t held = static_cast<std::size_t>(last - first + 1);
  std::vector<std::pair<Index, Index>> ranges = {{first, last}, {first, first}, {last, last}};
  for (int k = 0; k < 8; ++k) {
    const Index from = first + rng() % held;
    const std::size_t room = static_cast<std::size_t>(last - from);
    const std::size_t span = k % 2 == 0   ? rng() % std::min<std::size_t>(room + 1, 3)
                             : k % 4 == 1 ? rng() % (room + 1)
                                          : std::min<std::size_t>(room, 4096 + rng() % 3);
    ranges.emplace_back(from, from + span);
  }
  std::vector<Index> run_starts;
  for (Index i = first + 1; i <= last; ++i)
    if (log.term_at(i) != log.term_at(i - 1)) run_starts.push_back(i);
  for (int k = 0; k < 6 && !run_starts.empty(); ++k) {
    const Index s = run_starts[rng() % run_starts.size()];
    const Index to = std::min<Index>(last, s + 1 + rng() % 6000);
    ranges.emplace_back(s, to);
    ranges.emplace_back(s - 1, to);
    if (s + 1 <= to) ranges.emplace_back(s + 1, to);
  }
  for (const auto& r : ranges)
    ASSERT_NO_FATAL_FAILURE(expect_walks_match_at(log, r.first, r.second));
}

TEST(LogVisit, WalksMatchAtOverRandomLogsAndRanges) {
  over_random_logs(0x715175, [](const Log& log, std::mt19937_64& rng) {
    expect_walks_match_at_in_sample(log, rng);
  });
}

// Terms against a formula rather than at(): runs of one entry, runs next to
// runs, a run starting on the first entry of the second metadata block
// (index 4097 of a fresh log) and one starting on the block's last entry,
// then after compaction into a run and truncation at a run's start.
TEST(LogVisit, TermsChangeExactlyAtRunBoundaries) {
  // Entry i's term: 1..5 for entries 1..5 (runs of one), then 6 up to 4095,
  // 7 for 4096 alone, 8 from 4097, and newest from 6000 (9, then 10 once
  // that run is truncated and appended again).
  Term newest = 9;
  const auto term_of = [&newest](Index i) -> Term {
    if (i <= 5) return i;
    if (i < 4096) return 6;
    if (i == 4096) return 7;
    return i < 6000 ? 8 : newest;
  };
  Log log;
  std::vector<EntryView> batch;
  std::vector<std::vector<std::uint8_t>> payloads;
  payloads.reserve(7000);
  for (Index i = 1; i <= 7000; ++i) {
    payloads.push_back(payload_of(i, i % 3 == 0 ? 0 : 300 + i % 50));  // ~1.5 MiB: two chunks
    batch.push_back(EntryView{term_of(i), i % 11 == 0 ? EntryType::kNoop : EntryType::kCommand, i,
                              payloads.back().data(), payloads.back().size()});
  }
  log.append(batch.data(), 3000);  // two appends: the runs continue across them
  log.append(batch.data() + 3000, batch.size() - 3000);

  const auto expect_terms = [&log, &term_of](Index from, Index to) {
    SCOPED_TRACE("walking " + std::to_string(from) + ".." + std::to_string(to));
    std::vector<std::pair<std::uint64_t, Term>> seen;  // (id, term)
    log.visit_with_terms(
        from, to, [&seen](Term term, std::uint64_t id, bool, const std::uint8_t*, std::size_t) {
          seen.emplace_back(id, term);
        });
    std::vector<EntryView> out;
    log.collect(from, static_cast<std::size_t>(to - from + 1), out);
    ASSERT_EQ(seen.size(), to - from + 1);
    ASSERT_EQ(out.size(), seen.size());
    for (std::size_t k = 0; k < seen.size(); ++k) {
      const Index i = from + k;
      ASSERT_EQ(seen[k].first, i);
      ASSERT_EQ(seen[k].second, term_of(i)) << "visit_with_terms, index " << i;
      ASSERT_EQ(out[k].term, term_of(i)) << "collect, index " << i;
    }
  };
  const Index edges[] = {1, 2, 3, 4, 5, 6, 7, 4094, 4095, 4096, 4097, 4098, 5999, 6000, 6001};
  for (Index from : edges) {
    for (Index to : edges) {
      if (to >= from) {
        ASSERT_NO_FATAL_FAILURE(expect_terms(from, to));
      }
    }
    ASSERT_NO_FATAL_FAILURE(expect_terms(from, log.last_index()));
  }

  log.compact(4);  // base in the middle of the runs of one, at term 4
  EXPECT_EQ(log.term_at(4), 4u);
  for (Index from : {5, 6, 4095, 4096, 4097})
    ASSERT_NO_FATAL_FAILURE(expect_terms(from, log.last_index()));
  log.compact(4096 - 2);  // into the long run of term 6
  for (Index from : {4095, 4096, 4097, 6000})
    ASSERT_NO_FATAL_FAILURE(expect_terms(from, log.last_index()));

  log.truncate_from(6000);  // term 9's run goes; term 10's starts at the same index
  newest = 10;
  const auto again = payload_of(6000, 5);
  log.append(newest, EntryType::kCommand, 6000, again.data(), again.size());
  for (Index from : {4095, 4096, 4097, 5999, 6000})
    ASSERT_NO_FATAL_FAILURE(expect_terms(from, log.last_index()));
}

// collect() hands out what at() would, for a range that starts mid-run and
// crosses several term changes, with no-ops among the commands.
TEST(LogCollect, AppendsTheViewsOfARangeAcrossTermRuns) {
  Log log;
  std::vector<std::vector<std::uint8_t>> payloads;
  for (std::uint64_t id = 1; id <= 40; ++id) {
    const Term term = id < 10 ? 1 : id < 11 ? 2 : id < 12 ? 3 : id < 25 ? 5 : 8;
    const bool noop = id % 7 == 0;
    payloads.push_back(payload_of(id, noop ? 0 : id * 3));
    log.append(term, noop ? EntryType::kNoop : EntryType::kCommand, id, payloads.back().data(),
               payloads.back().size());
  }
  std::vector<EntryView> out;
  log.collect(5, 0, out);
  EXPECT_TRUE(out.empty());
  log.collect(5, 30, out);  // 5..34: terms 1, 2, 3, 5, 8
  log.collect(40, 1, out);  // appended after the first range's views
  ASSERT_EQ(out.size(), 31u);
  for (std::size_t k = 0; k < out.size(); ++k) {
    const Index i = k < 30 ? 5 + k : 40;
    ASSERT_NO_FATAL_FAILURE(expect_same_entry(out[k], log.at(i), i));
    if (out[k].len > 0) {
      EXPECT_EQ(out[k].data, log.at(i).data) << "a view into the log, index " << i;
    }
  }
  EXPECT_EQ(out[5].term, 2u);                // entry 10
  EXPECT_EQ(out[6].term, 3u);                // entry 11
  EXPECT_EQ(out[2].type, EntryType::kNoop);  // entry 7
}

// The batch append sets up the first term run, the first chunk and where
// the first entry starts outside its loop: an empty log (fresh, reset,
// compacted to its end, truncated to nothing) refilled by a batch whose
// first entry is empty and whose later entries change term, with payloads
// that cross a chunk.
TEST(LogBatchAppend, IntoAnEmptyLogWithAnEmptyFirstEntryAndTermChanges) {
  const std::size_t lens[] = {0, 100, 0, 700u << 10, 700u << 10, 50, 0, 9};
  const Term terms[] = {5, 6, 6, 6, 7, 8, 8, 9};
  constexpr std::size_t kN = sizeof lens / sizeof lens[0];
  const char* const hows[] = {"fresh", "reset", "compacted to the end", "truncated to nothing"};
  for (int how = 0; how < 4; ++how) {
    SCOPED_TRACE(hows[how]);
    Log log;
    const auto old = payload_of(99, 700);
    if (how > 0) {
      for (std::uint64_t id = 1; id <= 3; ++id)
        log.append(1, EntryType::kCommand, id, old.data(), old.size());
      // The first entry held now starts mid-chunk: where the refill's first
      // entry starts must be worked out anew, not left from before.
      log.compact(1);
    }
    if (how == 1) log.reset(50, 4);
    if (how == 2) log.compact(log.last_index());
    if (how == 3) log.truncate_from(2);
    ASSERT_TRUE(log.empty());
    ASSERT_EQ(log.payload_bytes(), 0u);
    const Index base = log.base_index();
    const Term base_term = log.base_term();

    std::vector<std::vector<std::uint8_t>> payloads;
    std::vector<EntryView> batch;
    for (std::size_t k = 0; k < kN; ++k) {
      payloads.push_back(payload_of(100 + k, lens[k]));
      batch.push_back(EntryView{terms[k], k == 2 ? EntryType::kNoop : EntryType::kCommand, 100 + k,
                                payloads[k].data(), lens[k]});
    }
    log.append(batch.data(), kN);

    ASSERT_EQ(log.last_index(), base + kN);
    EXPECT_EQ(log.term_at(base), base_term);
    EXPECT_EQ(log.last_term(), terms[kN - 1]);
    std::size_t sum = 0;
    for (std::size_t k = 0; k < kN; ++k) {
      ASSERT_NO_FATAL_FAILURE(expect_same_entry(log.at(base + 1 + k), batch[k], base + 1 + k));
      EXPECT_EQ(log.term_at(base + 1 + k), terms[k]) << "entry " << k;
      sum += lens[k];
    }
    EXPECT_EQ(log.payload_bytes(), sum);

    // Dropping the first entries, the empty one first, leaves exactly the
    // rest's bytes counted (first_offset_ is what compaction subtracts from).
    for (const std::size_t dropped : {std::size_t{1}, std::size_t{4}, std::size_t{6}}) {
      log.compact(base + dropped);
      std::size_t rest = 0;
      for (std::size_t k = dropped; k < kN; ++k) {
        rest += lens[k];
        ASSERT_NO_FATAL_FAILURE(expect_same_entry(log.at(base + 1 + k), batch[k], base + 1 + k));
      }
      EXPECT_EQ(log.payload_bytes(), rest) << "after dropping " << dropped;
      EXPECT_EQ(log.term_at(base + dropped), terms[dropped - 1]);
    }
  }
}

}  // namespace
}  // namespace raft::test
