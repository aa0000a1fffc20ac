// Tests of the header-only C++ wrapper (include/raft.hpp) against the real library.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <unistd.h>

#include "raft.hpp"

namespace {

using raft::TransitionState;

// A type unrelated to std::exception: the wrapper must carry any exception, not
// only standard ones.
struct Boom {
  int tag;
};

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

TEST(WrapperErrors, CategoryMessagesComeFromStrerror) {
  const int codes[] = {RAFT_EINVAL,    RAFT_ENOMEM,   RAFT_ENOTLEADER, RAFT_EBUSY,
                       RAFT_ESHUTDOWN, RAFT_EIO,      RAFT_ECORRUPT,   RAFT_ETOOBIG,
                       RAFT_ECALLBACK, RAFT_EVERSION, RAFT_EINTERNAL,  RAFT_ENOTSUP};
  for (int code : codes) {
    std::error_code ec(code, raft::category());
    EXPECT_EQ(ec.message(), raft_strerror(code)) << code;
    EXPECT_EQ(ec, static_cast<raft::errc>(code)) << code;
  }
  EXPECT_STREQ(raft::category().name(), "raft");
}

TEST(WrapperErrors, ErrcConvertsToErrorCode) {
  std::error_code ec = raft::errc::kBusy;  // needs is_error_code_enum + ADL make_error_code
  EXPECT_EQ(ec.value(), RAFT_EBUSY);
  EXPECT_EQ(&ec.category(), &raft::category());
  EXPECT_TRUE(ec);
  // Portable conditions for the codes that have an obvious errno meaning.
  EXPECT_EQ(std::error_code(raft::errc::kInvalid), std::errc::invalid_argument);
  EXPECT_EQ(std::error_code(raft::errc::kNoMemory), std::errc::not_enough_memory);
  EXPECT_EQ(std::error_code(raft::errc::kIo), std::errc::io_error);
  EXPECT_EQ(std::error_code(raft::errc::kTooBig), std::errc::message_size);
  EXPECT_EQ(std::error_code(raft::errc::kNotSupported), std::errc::not_supported);
  EXPECT_NE(std::error_code(raft::errc::kBusy), std::errc::invalid_argument);
}

TEST(WrapperErrors, ErrorCarriesCodeAndDetail) {
  const raft::error e(RAFT_ETOOBIG, "proposal of 9 bytes");
  EXPECT_EQ(e.code(), raft::errc::kTooBig);
  EXPECT_EQ(e.value(), raft::errc::kTooBig);
  const std::string what = e.what();
  EXPECT_NE(what.find("proposal of 9 bytes"), std::string::npos) << what;
  EXPECT_NE(what.find(raft_strerror(RAFT_ETOOBIG)), std::string::npos) << what;
  const std::system_error& base = e;  // catchable as the standard type
  EXPECT_EQ(base.code().value(), RAFT_ETOOBIG);
}

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

TEST(WrapperOptions, DefaultsComeFromOptionsInit) {
  raft_options want;
  raft_options_init(&want);
  const raft::Options o;
  const raft_options got = o.to_c();
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.heartbeat_ms, want.heartbeat_ms);
  EXPECT_EQ(got.election_timeout_min_ms, want.election_timeout_min_ms);
  EXPECT_EQ(got.election_timeout_max_ms, want.election_timeout_max_ms);
  EXPECT_EQ(got.cluster_id, want.cluster_id);
  EXPECT_EQ(got.random_seed, want.random_seed);
  EXPECT_EQ(got.pre_vote, want.pre_vote);
  EXPECT_EQ(got.check_quorum, want.check_quorum);
  EXPECT_EQ(got.max_batch_bytes, want.max_batch_bytes);
  EXPECT_EQ(got.max_inflight, want.max_inflight);
  EXPECT_EQ(got.max_entry_bytes, want.max_entry_bytes);
  EXPECT_EQ(got.max_queue_bytes, want.max_queue_bytes);
  EXPECT_EQ(got.log_level, want.log_level);
  EXPECT_EQ(got.snapshot_interval, want.snapshot_interval);
  EXPECT_EQ(got.snapshot_trailing, want.snapshot_trailing);
  EXPECT_EQ(got.max_snapshot_chunk_bytes, want.max_snapshot_chunk_bytes);
  EXPECT_EQ(got.busy_poll_us, want.busy_poll_us);
  EXPECT_EQ(got.max_uncommitted_bytes, want.max_uncommitted_bytes);
  EXPECT_EQ(got.peers, nullptr);
  EXPECT_EQ(got.n_peers, 0u);
  EXPECT_EQ(got.data_dir, nullptr);
}

TEST(WrapperOptions, SettersReachTheCStruct) {
  raft::Options o(7);
  o.heartbeat_ms(11)
      .election_timeout_ms(33, 66)
      .cluster_id(0xC1)
      .random_seed(42)
      .pre_vote(false)
      .check_quorum(false)
      .max_batch_bytes(1000)
      .max_inflight(3)
      .max_entry_bytes(100)
      .max_queue_bytes(5000)
      .log_level(raft::LogLevel::kDebug)
      .snapshot_interval(500)
      .snapshot_trailing(0)
      .max_snapshot_chunk_bytes(4096)
      .busy_poll_us(7)
      .max_uncommitted_bytes(9000);
  const raft_options c = o.to_c();
  EXPECT_EQ(c.id, 7u);
  EXPECT_EQ(c.heartbeat_ms, 11u);
  EXPECT_EQ(c.election_timeout_min_ms, 33u);
  EXPECT_EQ(c.election_timeout_max_ms, 66u);
  EXPECT_EQ(c.cluster_id, 0xC1u);
  EXPECT_EQ(c.random_seed, 42u);
  EXPECT_EQ(c.pre_vote, 0);
  EXPECT_EQ(c.check_quorum, 0);
  EXPECT_EQ(c.max_batch_bytes, 1000u);
  EXPECT_EQ(c.max_inflight, 3u);
  EXPECT_EQ(c.max_entry_bytes, 100u);
  EXPECT_EQ(c.max_queue_bytes, 5000u);
  EXPECT_EQ(c.log_level, RAFT_LOG_DEBUG);
  EXPECT_EQ(c.snapshot_interval, 500u);
  EXPECT_EQ(c.snapshot_trailing, 0u);
  EXPECT_EQ(c.max_snapshot_chunk_bytes, 4096u);
  EXPECT_EQ(c.busy_poll_us, 7u);
  EXPECT_EQ(c.max_uncommitted_bytes, 9000u);
  o.pre_vote(true);
  EXPECT_NE(o.to_c().pre_vote, 0);
}

TEST(WrapperOptions, OwnsPeersAndDataDir) {
  raft::Options o(1);
  {
    std::vector<raft_id> peers = {2, 3};
    std::string dir = "/tmp/somewhere";
    o.peers(peers).data_dir(dir);
    peers[0] = 99;  // the caller's copies change and die: the options are unaffected
    dir[1] = 'X';
  }
  const raft_options c = o.to_c();
  ASSERT_EQ(c.n_peers, 2u);
  ASSERT_NE(c.peers, nullptr);
  EXPECT_EQ(c.peers[0], 2u);
  EXPECT_EQ(c.peers[1], 3u);
  ASSERT_NE(c.data_dir, nullptr);
  EXPECT_STREQ(c.data_dir, "/tmp/somewhere");

  raft::Options copy = o;  // a value type: copies are independent
  copy.peers({5}).data_dir("");
  EXPECT_EQ(copy.to_c().n_peers, 1u);
  EXPECT_EQ(copy.to_c().data_dir, nullptr);  // empty means memory only
  EXPECT_EQ(o.to_c().n_peers, 2u);
  EXPECT_STREQ(o.to_c().data_dir, "/tmp/somewhere");
}

TEST(WrapperOptions, RawIsTheBaseButPointersComeFromTheOwner) {
  raft::Options o(1);
  o.peers({2});
  o.raw().heartbeat_ms = 12;
  o.raw().n_peers = 40;  // ignored: the owned vector decides
  const raft_options c = o.to_c();
  EXPECT_EQ(c.heartbeat_ms, 12u);
  EXPECT_EQ(c.n_peers, 1u);
}

// ---------------------------------------------------------------------------
// Helpers: a single node driven with a fake clock
// ---------------------------------------------------------------------------

// Single-node replicas elect themselves after one election timeout.
raft::Options single(raft_id id, std::uint64_t seed) {
  return raft::Options(id).random_seed(seed).cluster_id(0x5EED);
}

// Polls with a fake clock, jumping to the returned deadline, until pred() or
// max_ms of fake time passed.  Returns pred()'s last value.
template <class Pred>
bool poll_until(raft::Replica& r, std::uint64_t& now, std::uint64_t max_ms, Pred pred) {
  const std::uint64_t end = now + max_ms;
  while (now <= end) {
    const std::uint64_t next = r.poll(now);
    if (pred()) return true;
    now = std::max(now + 1, std::min(next, end + 1));
  }
  return pred();
}

// ---------------------------------------------------------------------------
// Replica lifecycle and moves
// ---------------------------------------------------------------------------

static_assert(std::is_nothrow_move_constructible<raft::Replica>::value, "");
static_assert(std::is_nothrow_move_assignable<raft::Replica>::value, "");
static_assert(!std::is_copy_constructible<raft::Replica>::value, "");
static_assert(!std::is_copy_assignable<raft::Replica>::value, "");

TEST(WrapperReplica, CreateFailureThrowsWithTheReason) {
  raft::Callbacks cb;
  cb.apply = [](std::uint64_t, std::string_view) {};
  try {
    raft::Replica r(raft::Options(0), cb);  // id 0 is never valid
    FAIL() << "created a replica with id 0";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.code(), raft::errc::kInvalid);
    // raft_node_create reports its reason only through log: the wrapper captures it.
    EXPECT_STRNE(e.what(), raft_strerror(RAFT_EINVAL));
  }
}

TEST(WrapperReplica, PeersWithoutTransportAreRefused) {
  raft::Callbacks cb;
  cb.apply = [](std::uint64_t, std::string_view) {};
  EXPECT_THROW(raft::Replica(raft::Options(1).peers({2, 3}), cb), raft::error);
  raft::Callbacks none;  // apply is required
  EXPECT_THROW(raft::Replica(raft::Options(1), none), raft::error);
}

TEST(WrapperReplica, EmptyReplicaThrowsInvalid) {
  raft::Replica r;
  EXPECT_FALSE(r);
  EXPECT_EQ(r.native_handle(), nullptr);
  try {
    (void)r.poll(1);
    FAIL() << "poll on an empty replica";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.code(), raft::errc::kInvalid);
  }
  EXPECT_THROW((void)r.propose(1, "x"), raft::error);
  EXPECT_THROW((void)r.status(), raft::error);
  r.notify();  // no-ops on an empty replica
  r.stop();
}

TEST(WrapperReplica, MovedFromIsEmptyAndMovedToWorks) {
  std::vector<std::pair<std::uint64_t, std::string>> applied;
  raft::Callbacks cb;
  cb.apply = [&](std::uint64_t id, std::string_view d) { applied.emplace_back(id, d); };

  raft::Replica a(single(1, 11), cb);
  raft_node* const handle = a.native_handle();
  ASSERT_NE(handle, nullptr);

  raft::Replica b(std::move(a));
  EXPECT_EQ(a.native_handle(), nullptr);  // NOLINT(bugprone-use-after-move): the point
  EXPECT_FALSE(a);
  EXPECT_THROW((void)a.poll(1), raft::error);
  EXPECT_EQ(b.native_handle(), handle);

  raft::Replica c;
  c = std::move(b);  // assignment too; the callbacks' context must follow
  EXPECT_FALSE(b);
  ASSERT_EQ(c.native_handle(), handle);

  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(c, now, 5000, [&] { return c.role() == raft::Role::kLeader; }));
  EXPECT_EQ(c.leader(), std::optional<raft_id>(1));
  ASSERT_TRUE(c.propose(5, "after the moves"));
  ASSERT_TRUE(poll_until(c, now, 1000, [&] { return !applied.empty(); }));
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].first, 5u);
  EXPECT_EQ(applied[0].second, "after the moves");

  c = raft::Replica();  // assigning over a live replica destroys its node
  EXPECT_FALSE(c);
}

// ---------------------------------------------------------------------------
// Lambdas
// ---------------------------------------------------------------------------

TEST(WrapperLambdas, SingleNodeAppliesAndReportsStates) {
  std::vector<std::string> applied;
  std::map<std::uint64_t, std::vector<TransitionState>> states;
  std::vector<std::optional<raft_id>> leaders;
  raft::Callbacks cb;
  cb.apply = [&](std::uint64_t, std::string_view d) { applied.emplace_back(d); };
  cb.transition_state = [&](std::uint64_t id, TransitionState s) { states[id].push_back(s); };
  cb.leader = [&](std::optional<raft_id> l) { leaders.push_back(l); };

  raft::Replica r(single(1, 12), cb);
  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(r, now, 5000, [&] { return !leaders.empty(); }));
  EXPECT_EQ(leaders.back(), std::optional<raft_id>(1));
  EXPECT_EQ(r.role(), raft::Role::kLeader);

  const std::string binary("a\0b", 3);  // a view carries any bytes, NULs included
  ASSERT_TRUE(r.propose(1, "one"));
  ASSERT_TRUE(r.propose(2, binary));
  ASSERT_TRUE(r.propose(3, nullptr, 0));  // an empty transition is valid
  ASSERT_TRUE(poll_until(r, now, 1000, [&] { return applied.size() == 3; }));
  EXPECT_EQ(applied, (std::vector<std::string>{"one", binary, ""}));
  const std::vector<TransitionState> full = {TransitionState::kQueued, TransitionState::kCommitted,
                                             TransitionState::kApplied};
  for (std::uint64_t id = 1; id <= 3; id++) EXPECT_EQ(states[id], full) << id;

  const raft_status st = r.status();
  EXPECT_EQ(st.id, 1u);
  EXPECT_EQ(st.role, RAFT_LEADER);
  EXPECT_EQ(st.leader, 1u);
  EXPECT_GE(st.commit_index, 3u);
  EXPECT_EQ(st.applied_index, st.commit_index);
}

TEST(WrapperLambdas, ProposeErrors) {
  raft::Callbacks cb;
  cb.apply = [](std::uint64_t, std::string_view) {};
  raft::Replica r(single(1, 13).max_entry_bytes(8).max_queue_bytes(64), cb);

  try {
    (void)r.propose(1, "123456789");
    FAIL() << "9 bytes over max_entry_bytes 8";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.code(), raft::errc::kTooBig);
  }
  EXPECT_TRUE(r.propose(1, "12345678"));  // exactly the limit
  try {
    (void)r.propose(2, nullptr, 1);  // NULL with a length
    FAIL() << "NULL data accepted";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.code(), raft::errc::kInvalid);
  }

  // A full queue is an expected condition: false, not an exception.
  int accepted = 0;
  bool refused = false;
  for (int i = 0; i < 100 && !refused; i++) {
    if (r.propose(100 + static_cast<std::uint64_t>(i), "8 bytes!")) {
      accepted++;
    } else {
      refused = true;
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_LT(accepted, 100);
  (void)r.poll(1000);  // the loop drains the queue
  EXPECT_TRUE(r.propose(500, "8 bytes!"));
}

// A batch of `n` proposals with ids from `first`, each "b<id>" padded to 16 bytes or more
// (so that 100 of them exceed 512 queue bytes even without a per-proposal charge).
std::vector<raft::Proposal> numbered(std::uint64_t first, std::size_t n,
                                     std::vector<std::string>& storage) {
  storage.clear();
  storage.reserve(n);  // the views below point into it
  std::vector<raft::Proposal> batch;
  for (std::uint64_t id = first; id < first + n; id++) {
    storage.push_back("b" + std::to_string(id) + std::string(12, '.'));
    batch.push_back({id, storage.back()});
  }
  return batch;
}

TEST(WrapperBatch, AppliedInOrderWithTheirBytes) {
  std::vector<std::pair<std::uint64_t, std::string>> applied;
  std::map<std::uint64_t, std::vector<TransitionState>> states;
  raft::Callbacks cb;
  cb.apply = [&](std::uint64_t id, std::string_view d) { applied.emplace_back(id, d); };
  cb.transition_state = [&](std::uint64_t id, TransitionState s) { states[id].push_back(s); };
  raft::Replica r(single(1, 21), cb);
  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(r, now, 5000, [&] { return r.role() == raft::Role::kLeader; }));

  EXPECT_EQ(r.propose_batch(nullptr, 0), 0u);  // nothing to do is not an error
  EXPECT_EQ(r.propose_batch({}), 0u);
  const std::string binary("x\0y", 3);
  // A small batch (on the stack) with binary and empty payloads.
  const std::vector<raft::Proposal> small = {{1, "one"}, {2, binary}, {3, ""}, {4, "four"}};
  ASSERT_EQ(r.propose_batch(small), small.size());
  ASSERT_TRUE(r.propose(5, "single"));  // interleaves in call order
  // A large batch (on the heap), then another small one through the pointer overload.
  std::vector<std::string> big_bytes;
  const std::vector<raft::Proposal> big = numbered(6, 40, big_bytes);
  ASSERT_EQ(r.propose_batch(big), big.size());
  const raft::Proposal tail[] = {{46, "forty-six"}, {47, "forty-seven"}};
  ASSERT_EQ(r.propose_batch(tail, 2), 2u);

  std::vector<std::pair<std::uint64_t, std::string>> want = {
      {1, "one"}, {2, binary}, {3, ""}, {4, "four"}, {5, "single"}};
  for (const raft::Proposal& p : big) want.emplace_back(p.id, p.data);
  want.emplace_back(46, "forty-six");
  want.emplace_back(47, "forty-seven");
  ASSERT_TRUE(poll_until(r, now, 1000, [&] { return applied.size() >= want.size(); }));
  EXPECT_EQ(applied, want);
  const std::vector<TransitionState> full = {TransitionState::kQueued, TransitionState::kCommitted,
                                             TransitionState::kApplied};
  ASSERT_EQ(states.size(), want.size());
  for (const auto& kv : states) EXPECT_EQ(kv.second, full) << kv.first;
}

TEST(WrapperBatch, AFullQueueGivesAShortCountAndTheRestGoesLater) {
  std::vector<std::pair<std::uint64_t, std::string>> applied;
  raft::Callbacks cb;
  cb.apply = [&](std::uint64_t id, std::string_view d) { applied.emplace_back(id, d); };
  raft::Replica r(single(1, 22).max_queue_bytes(512), cb);
  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(r, now, 5000, [&] { return r.role() == raft::Role::kLeader; }));

  std::vector<std::string> bytes;
  const std::vector<raft::Proposal> batch = numbered(100, 100, bytes);
  const std::size_t first = r.propose_batch(batch);
  EXPECT_GT(first, 0u) << "512 queue bytes hold some proposals";
  ASSERT_LT(first, batch.size()) << "512 queue bytes cannot hold 100 proposals";
  // The queue is full: the rest is refused with 0, not an exception.
  EXPECT_EQ(r.propose_batch(batch.data() + first, batch.size() - first), 0u);

  // Resubmit the rest once the loop has drained the queue, as a client would.
  std::size_t done = first;
  for (int turn = 0; turn < 1000 && done < batch.size(); turn++) {
    (void)r.poll(now++);
    done += r.propose_batch(batch.data() + done, batch.size() - done);
  }
  ASSERT_EQ(done, batch.size());
  ASSERT_TRUE(poll_until(r, now, 1000, [&] { return applied.size() >= batch.size(); }));
  std::vector<std::pair<std::uint64_t, std::string>> want;
  for (const raft::Proposal& p : batch) want.emplace_back(p.id, p.data);
  EXPECT_EQ(applied, want);  // each exactly once, in order
}

TEST(WrapperBatch, AnErrorThrowsOnlyWhenNothingWasQueued) {
  std::vector<std::uint64_t> applied;
  raft::Callbacks cb;
  cb.apply = [&](std::uint64_t id, std::string_view) { applied.push_back(id); };
  raft::Replica r(single(1, 23).max_entry_bytes(8), cb);
  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(r, now, 5000, [&] { return r.role() == raft::Role::kLeader; }));

  // Too big in the middle: the prefix is queued and counted, no exception.
  const std::vector<raft::Proposal> batch = {{1, "ok"}, {2, "123456789"}, {3, "never"}};
  ASSERT_EQ(r.propose_batch(batch), 1u);
  // Resubmitted, the bad proposal leads the batch: it throws, and nothing is queued.
  try {
    (void)r.propose_batch(batch.data() + 1, 2);
    FAIL() << "9 bytes over max_entry_bytes 8";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.code(), raft::errc::kTooBig);
    EXPECT_NE(std::string(e.what()).find("max_entry_bytes"), std::string::npos) << e.what();
  }
  ASSERT_EQ(r.propose_batch(batch.data() + 2, 1), 1u);
  ASSERT_TRUE(poll_until(r, now, 1000, [&] { return applied.size() >= 2; }));
  EXPECT_EQ(applied, (std::vector<std::uint64_t>{1, 3}));

  // A stopped replica: throws like propose().
  r.stop();
  try {
    (void)r.propose_batch(batch.data(), 1);
    FAIL() << "a stopped replica queued a batch";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.code(), raft::errc::kShutdown);
  }
  // An empty replica: throws like propose().
  raft::Replica empty;
  try {
    (void)empty.propose_batch(batch);
    FAIL() << "an empty replica queued a batch";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.code(), raft::errc::kInvalid);
  }
}

// ---------------------------------------------------------------------------
// Exceptions thrown by callbacks
// ---------------------------------------------------------------------------

TEST(WrapperExceptions, ApplyExceptionIsRethrownFromPollAndStopsTheReplica) {
  std::vector<std::uint64_t> applied;
  raft::Callbacks cb;
  cb.apply = [&](std::uint64_t id, std::string_view) {
    if (id == 2) throw Boom{42};
    applied.push_back(id);
  };
  std::optional<raft_id> leader;
  cb.leader = [&](std::optional<raft_id> l) { leader = l; };
  raft::Replica r(single(1, 14), cb);

  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(r, now, 5000, [&] { return leader.has_value(); }));
  ASSERT_TRUE(r.propose(1, "a"));
  ASSERT_TRUE(r.propose(2, "b"));
  ASSERT_TRUE(r.propose(3, "c"));

  bool caught = false;
  for (int i = 0; i < 100 && !caught; i++, now += 10) {
    try {
      (void)r.poll(now);
    } catch (const Boom& b) {
      EXPECT_EQ(b.tag, 42);  // the very object thrown, not a translation
      caught = true;
    }
  }
  ASSERT_TRUE(caught);
  // Nothing is applied on top of the hole the failed entry left.
  EXPECT_EQ(applied, std::vector<std::uint64_t>{1});
  // The replica was stopped: it must be discarded.
  try {
    (void)r.poll(now + 10);
    FAIL() << "a poisoned replica kept running";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.code(), raft::errc::kShutdown);
  }
  EXPECT_THROW((void)r.propose(4, "d"), raft::error);
}

// A transport that fails on demand; it has no peers to talk to.
class FlakyCluster : public raft::Cluster {
 public:
  void send_message(raft_id, const void*, std::size_t) override {
    sends++;
    if (throw_on_send) {
      throw_on_send = false;
      throw std::runtime_error("send failed");
    }
  }
  bool receive_message(const void**, std::size_t*) override {
    if (throw_on_receive) {
      throw_on_receive = false;
      throw std::out_of_range("receive failed");
    }
    return false;
  }
  int sends = 0;
  bool throw_on_send = false;
  bool throw_on_receive = false;
};

class NullStateMachine : public raft::StateMachine {
 public:
  void apply_transition(std::uint64_t, const void*, std::size_t) override {}
};

TEST(WrapperExceptions, TransportExceptionsAreRethrownAndTheReplicaGoesOn) {
  FlakyCluster net;
  NullStateMachine sm;
  raft::Replica r(raft::Options(1).peers({2, 3}).random_seed(15), sm, net);

  net.throw_on_receive = true;
  EXPECT_THROW((void)r.poll(1000), std::out_of_range);  // the original, not ECALLBACK

  // Sends start once the election timer fires.
  net.throw_on_send = true;
  std::uint64_t now = 1000;
  bool caught = false;
  for (int i = 0; i < 1000 && !caught; i++, now += 5) {
    try {
      (void)r.poll(now);
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "send failed");
      caught = true;
    }
  }
  ASSERT_TRUE(caught);
  // A lost message is harmless to Raft: the replica keeps working and campaigning.
  const int sends_before = net.sends;
  for (int i = 0; i < 400; i++, now += 5) (void)r.poll(now);
  EXPECT_GT(net.sends, sends_before);
  EXPECT_EQ(r.status().id, 1u);
}

// Runs r.run() with a watchdog that stops it after 10 s, so that a broken run()
// fails the test instead of hanging it.  Returns whether the watchdog fired.
template <class Body>
bool with_watchdog(raft::Replica& r, Body body) {
  std::promise<void> done;
  std::future<void> done_f = done.get_future();
  std::atomic<bool> fired{false};
  std::thread watchdog([&] {
    if (done_f.wait_for(std::chrono::seconds(10)) == std::future_status::timeout) {
      fired = true;
      r.stop();
    }
  });
  body();
  done.set_value();
  watchdog.join();
  return fired;
}

raft::Options fast_single(raft_id id, std::uint64_t seed) {
  return single(id, seed).heartbeat_ms(2).election_timeout_ms(10, 20);
}

TEST(WrapperExceptions, RunRethrowsFromApply) {
  raft::Replica r;
  bool proposed = false;
  raft::Callbacks cb;
  cb.apply = [](std::uint64_t, std::string_view) { throw std::logic_error("apply failed"); };
  // Proposing from a callback is allowed; `r` is found through the captured
  // reference even though the replica is move-assigned below.
  cb.leader = [&](std::optional<raft_id> l) {
    if (l && !proposed) proposed = r.propose(1, "x");
  };
  r = raft::Replica(fast_single(1, 16), cb);
  EXPECT_FALSE(with_watchdog(r, [&] { EXPECT_THROW(r.run(), std::logic_error); }));
  EXPECT_TRUE(proposed);
  EXPECT_THROW(r.run(), raft::error);  // stopped: the state machine missed an entry
}

TEST(WrapperExceptions, RunRethrowsFromOtherCallbacksThroughHalt) {
  raft::Replica r;
  bool proposed = false;
  raft::Callbacks cb;
  cb.apply = [](std::uint64_t, std::string_view) {};
  cb.transition_state = [](std::uint64_t, TransitionState s) {
    if (s == TransitionState::kApplied) throw Boom{7};
  };
  cb.leader = [&](std::optional<raft_id> l) {
    if (l && !proposed) proposed = r.propose(1, "x");
  };
  r = raft::Replica(fast_single(1, 19), cb);
  // Only halt() reporting the pending exception can end run() here.
  EXPECT_FALSE(with_watchdog(r, [&] { EXPECT_THROW(r.run(), Boom); }));
  EXPECT_TRUE(proposed);
  EXPECT_EQ(r.status().applied_index, r.status().commit_index);
  (void)r.poll(1);  // a lost report is not fatal: the replica still works
}

TEST(WrapperThreads, StopFromAnotherThreadEndsRun) {
  std::atomic<bool> leader{false};
  raft::Callbacks cb;
  cb.apply = [](std::uint64_t, std::string_view) {};
  cb.leader = [&](std::optional<raft_id> l) { leader = l.has_value(); };
  raft::Replica r(fast_single(1, 17), cb);

  std::thread loop([&] { EXPECT_NO_THROW(r.run()); });
  for (int i = 0; i < 1000 && !leader; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(leader);
  r.stop();
  loop.join();
  EXPECT_THROW((void)r.propose(1, "late"), raft::error);
}

TEST(WrapperThreads, HaltEndsRun) {
  int applied = 0;
  raft::Callbacks cb;
  cb.apply = [&](std::uint64_t, std::string_view) { applied++; };
  raft::Replica* self = nullptr;
  cb.leader = [&](std::optional<raft_id> l) {
    if (l) {
      ASSERT_TRUE(self->propose(1, "x"));
    }
  };
  cb.halt = [&] { return applied > 0; };
  raft::Replica r(fast_single(1, 18), cb);
  self = &r;
  EXPECT_FALSE(with_watchdog(r, [&] { r.run(); }));  // returns once halt() is true
  EXPECT_EQ(applied, 1);
  EXPECT_EQ(r.role(), raft::Role::kLeader);
}

// ---------------------------------------------------------------------------
// Three replicas in one process, interfaces, fake clock
// ---------------------------------------------------------------------------

// Inboxes of all replicas; a message is delivered on the receiver's next poll.
struct Network {
  std::map<raft_id, std::deque<std::string>> inbox;
  bool idle() const {
    return std::all_of(inbox.begin(), inbox.end(),
                       [](const auto& kv) { return kv.second.empty(); });
  }
};

class MemoryCluster : public raft::Cluster {
 public:
  MemoryCluster(Network& net, raft_id self) : net_(net), self_(self) {}
  void send_message(raft_id to, const void* data, std::size_t len) override {
    net_.inbox[to].emplace_back(static_cast<const char*>(data), len);
  }
  bool receive_message(const void** data, std::size_t* len) override {
    std::deque<std::string>& q = net_.inbox[self_];
    if (q.empty()) return false;
    current_ = std::move(q.front());  // stays valid until the next call, as required
    q.pop_front();
    *data = current_.data();
    *len = current_.size();
    return true;
  }
  void register_leader(std::optional<raft_id> l) override { leader = l; }
  std::optional<raft_id> leader;

 private:
  Network& net_;
  raft_id self_;
  std::string current_;
};

class Recorder : public raft::StringStateMachine {
 public:
  void apply(std::uint64_t id, std::string_view data) override {
    log.emplace_back(id, std::string(data));
  }
  void register_transition_state(std::uint64_t id, TransitionState s) override {
    states[id].push_back(s);
  }
  std::vector<std::pair<std::uint64_t, std::string>> log;
  std::map<std::uint64_t, std::vector<TransitionState>> states;
};

class ThreeReplicas : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<raft_id> ids = {1, 2, 3};
    for (raft_id id : ids) {
      std::vector<raft_id> peers;
      for (raft_id p : ids)
        if (p != id) peers.push_back(p);
      clusters_.push_back(std::make_unique<MemoryCluster>(net_, id));
      sms_.push_back(std::make_unique<Recorder>());
      replicas_.emplace_back(raft::Options(id).peers(peers).random_seed(100 + id).cluster_id(77),
                             *sms_.back(), *clusters_.back());
    }
  }

  // One round: every replica polls at `now_`, repeated while messages are in
  // flight (bounded).  Then the clock jumps to the earliest deadline.
  void step() {
    std::uint64_t next = UINT64_MAX;
    for (int round = 0; round < 50; round++) {
      for (raft::Replica& r : replicas_) next = std::min(next, r.poll(now_));
      if (net_.idle()) break;
    }
    now_ = std::max(now_ + 1, next);
  }

  template <class Pred>
  bool run_until(std::uint64_t max_ms, Pred pred) {
    const std::uint64_t end = now_ + max_ms;
    while (now_ <= end) {
      step();
      if (pred()) return true;
    }
    return false;
  }

  // The leader every replica agrees on, or 0.
  raft_id agreed_leader() const {
    std::optional<raft_id> l = clusters_[0]->leader;
    for (const auto& c : clusters_)
      if (!c->leader || c->leader != l) return 0;
    return *l;
  }

  Network net_;
  std::vector<std::unique_ptr<MemoryCluster>> clusters_;
  std::vector<std::unique_ptr<Recorder>> sms_;
  std::vector<raft::Replica> replicas_;  // after the objects it refers to: destroyed first
  std::uint64_t now_ = 1000;
};

TEST_F(ThreeReplicas, ElectsOneLeaderAndReplicatesInOrder) {
  ASSERT_TRUE(run_until(10000, [&] { return agreed_leader() != 0; }));
  const raft_id leader = agreed_leader();
  int leaders = 0;
  for (const raft::Replica& r : replicas_) {
    const raft_status st = r.status();
    EXPECT_EQ(st.leader, leader);
    if (st.role == RAFT_LEADER) {
      leaders++;
      EXPECT_EQ(st.id, leader);
    }
  }
  EXPECT_EQ(leaders, 1);

  raft::Replica& lr = replicas_[leader - 1];
  std::vector<std::pair<std::uint64_t, std::string>> proposed;
  for (std::uint64_t id = 1; id <= 500; id++) {
    proposed.emplace_back(id, "transition " + std::to_string(id));
    ASSERT_TRUE(lr.propose(id, proposed.back().second));
  }
  ASSERT_TRUE(run_until(10000, [&] {
    return std::all_of(sms_.begin(), sms_.end(),
                       [](const auto& s) { return s->log.size() >= 500; });
  }));
  for (const auto& sm : sms_) EXPECT_EQ(sm->log, proposed);  // same order everywhere

  const std::vector<TransitionState> full = {TransitionState::kQueued, TransitionState::kCommitted,
                                             TransitionState::kApplied};
  const Recorder& lsm = *sms_[leader - 1];
  ASSERT_EQ(lsm.states.size(), 500u);
  for (const auto& kv : lsm.states) EXPECT_EQ(kv.second, full) << kv.first;
  for (const auto& sm : sms_) {
    if (sm.get() != &lsm) {
      EXPECT_TRUE(sm->states.empty());  // reported only where proposed
    }
  }
  for (const raft::Replica& r : replicas_) {
    const raft_status st = r.status();
    EXPECT_GE(st.commit_index, 500u);
    EXPECT_EQ(st.applied_index, st.commit_index);
  }
}

TEST_F(ThreeReplicas, ProposalOnAFollowerIsAbandonedNotLeader) {
  ASSERT_TRUE(run_until(10000, [&] { return agreed_leader() != 0; }));
  const raft_id leader = agreed_leader();
  const std::size_t follower = leader == 1 ? 1 : 0;  // index of some other replica

  ASSERT_TRUE(replicas_[follower].propose(4242, "wrong door"));
  ASSERT_TRUE(run_until(1000, [&] { return !sms_[follower]->states[4242].empty(); }));
  EXPECT_EQ(sms_[follower]->states[4242],
            std::vector<TransitionState>{TransitionState::kAbandonedNotLeader});
  // Give it time to (wrongly) commit anywhere; it must not.
  run_until(500, [] { return false; });
  for (const auto& sm : sms_) {
    for (const auto& e : sm->log) EXPECT_NE(e.first, 4242u);
  }
}

// ---------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------

// Its whole apply history is its snapshot: "id=data;" records.  Saves in `steps`
// calls (kMore in between); records every save and load.
class SnapshotLog : public raft::StringStateMachine, public raft::Snapshotter {
 public:
  explicit SnapshotLog(int steps = 1) : steps_(steps) {}
  raft::Snapshotter* snapshotter() noexcept override { return this; }

  void apply(std::uint64_t id, std::string_view data) override {
    if (!pending_.empty() || calls_ > 0) applies_during_save++;
    log.emplace_back(id, std::string(data));
  }
  raft::SnapshotProgress save_snapshot(raft::SnapshotWriter& w, std::uint64_t index) override {
    if (throw_next_save) {
      throw_next_save = false;
      failed_save_at = index;
      throw Boom{7};
    }
    if (calls_ == 0) pending_ = encode();
    const std::size_t part = (pending_.size() + steps_ - 1) / steps_;
    const std::size_t n = calls_ + 1 == steps_ ? pending_.size() : std::min(part, pending_.size());
    w.write(pending_.substr(0, n));
    pending_.erase(0, n);
    if (++calls_ < steps_) return raft::SnapshotProgress::kMore;
    calls_ = 0;
    saves.push_back(index);
    return raft::SnapshotProgress::kDone;
  }
  void load_snapshot(raft::SnapshotReader& r, std::uint64_t index) override {
    char head[3];
    const std::string first(head, r.read(head, sizeof head));  // a bounded read, then the rest
    const std::string blob = first + r.read_all();
    log.clear();
    for (std::size_t at = 0; at < blob.size();) {
      const std::size_t eq = blob.find('=', at), end = blob.find(';', eq);
      log.emplace_back(std::stoull(blob.substr(at, eq - at)), blob.substr(eq + 1, end - eq - 1));
      at = end + 1;
    }
    loads.emplace_back(index, blob);
  }
  std::string encode() const {
    std::string out;
    for (const auto& e : log) out += std::to_string(e.first) + "=" + e.second + ";";
    return out;
  }

  std::vector<std::pair<std::uint64_t, std::string>> log;
  std::vector<std::uint64_t> saves;
  std::vector<std::pair<std::uint64_t, std::string>> loads;  // index, bytes read
  int applies_during_save = 0;
  bool throw_next_save = false;
  std::uint64_t failed_save_at = 0;

 private:
  int steps_;
  int calls_ = 0;
  std::string pending_;
};

// Proposes 1..n on a single leader, one poll per proposal, then polls until all applied.
void propose_one_per_turn(raft::Replica& r, SnapshotLog& sm, std::uint64_t& now, std::uint64_t n) {
  const std::uint64_t first = sm.log.empty() ? 1 : sm.log.back().first + 1;
  for (std::uint64_t id = first; id < first + n; id++) {
    ASSERT_TRUE(r.propose(id, "v" + std::to_string(id)));
    r.poll(++now);
  }
  ASSERT_TRUE(poll_until(r, now, 1000, [&] { return sm.log.size() >= first + n - 1; }));
}

TEST(WrapperSnapshots, SavesInStepsWithoutApplyingMeanwhile) {
  SnapshotLog sm(3);
  raft::Replica r(single(1, 21).snapshot_interval(10).snapshot_trailing(2), sm);
  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(r, now, 5000, [&] { return r.role() == raft::Role::kLeader; }));
  propose_one_per_turn(r, sm, now, 50);
  EXPECT_EQ(sm.log.size(), 50u);
  ASSERT_GE(sm.saves.size(), 3u);
  EXPECT_EQ(sm.applies_during_save, 0);
  const raft_status st = r.status();
  EXPECT_EQ(st.snapshot_index, sm.saves.back());
  EXPECT_LE(st.snapshot_index, st.applied_index);
}

TEST(WrapperSnapshots, AThrowingSaveIsRethrownAndRetried) {
  SnapshotLog sm;
  sm.throw_next_save = true;
  raft::Replica r(single(1, 22).snapshot_interval(10), sm);
  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(r, now, 5000, [&] { return r.role() == raft::Role::kLeader; }));
  int thrown = 0;
  for (std::uint64_t id = 1; id <= 40; id++) {
    ASSERT_TRUE(r.propose(id, "x"));
    try {
      r.poll(++now);
    } catch (const Boom& b) {
      EXPECT_EQ(b.tag, 7);
      EXPECT_EQ(r.status().snapshot_index, 0u);
      thrown++;
    }
  }
  ASSERT_TRUE(poll_until(r, now, 1000, [&] { return sm.log.size() == 40; }));
  EXPECT_EQ(thrown, 1);
  EXPECT_EQ(sm.failed_save_at, 10u);
  ASSERT_FALSE(sm.saves.empty());
  EXPECT_GT(sm.saves.front(), 10u);
  EXPECT_EQ(r.status().snapshot_index, sm.saves.back());
}

TEST(WrapperSnapshots, RestartLoadsTheSnapshotThenReplaysTheRest) {
  const std::string dir = ::testing::TempDir() + "raft-hpp-snapshot-" + std::to_string(::getpid());
  std::string saved;
  std::vector<std::pair<std::uint64_t, std::string>> before;
  std::uint64_t last = 0;
  {
    SnapshotLog sm;
    raft::Replica r(single(1, 23).data_dir(dir).snapshot_interval(20).snapshot_trailing(0), sm);
    std::uint64_t now = 1000;
    ASSERT_TRUE(poll_until(r, now, 5000, [&] { return r.role() == raft::Role::kLeader; }));
    propose_one_per_turn(r, sm, now, 50);
    ASSERT_GE(sm.saves.size(), 2u);
    last = sm.saves.back();
    EXPECT_EQ(r.status().snapshot_index, last);
    before = sm.log;
    // What the last save wrote: the log as of `last` (its index 1 is the leader's no-op).
    SnapshotLog as_of;
    as_of.log.assign(before.begin(), before.begin() + static_cast<std::ptrdiff_t>(last - 1));
    saved = as_of.encode();
  }
  SnapshotLog sm;
  raft::Replica r(single(1, 23).data_dir(dir).snapshot_interval(20).snapshot_trailing(0), sm);
  // Loaded by the constructor, before any apply: exactly the bytes that were saved.
  ASSERT_EQ(sm.loads.size(), 1u);
  EXPECT_EQ(sm.loads[0].first, last);
  EXPECT_EQ(sm.loads[0].second, saved);
  EXPECT_EQ(sm.log.size(), last - 1);
  std::uint64_t now = 1000;
  ASSERT_TRUE(poll_until(r, now, 5000, [&] { return sm.log.size() >= before.size(); }));
  EXPECT_EQ(sm.log, before);  // only the entries after the snapshot were applied again
  r.reset();
  std::string cmd = "rm -rf '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(WrapperSnapshots, IntervalNeedsASnapshotterAndCallbacksGoInPairs) {
  Recorder plain;
  try {
    raft::Replica r(single(1, 24).snapshot_interval(10), plain);
    FAIL() << "snapshot_interval without snapshot callbacks was accepted";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.value(), raft::errc::kInvalid);
    EXPECT_NE(std::string(e.what()).find("snapshot"), std::string::npos) << e.what();
  }
  raft::Callbacks cb;
  cb.apply = [](std::uint64_t, std::string_view) {};
  cb.snapshot_save = [](raft::SnapshotWriter&, std::uint64_t) {
    return raft::SnapshotProgress::kDone;
  };
  try {
    raft::Replica r(single(1, 25), cb);
    FAIL() << "snapshot_save without snapshot_load was accepted";
  } catch (const raft::error& e) {
    EXPECT_EQ(e.value(), raft::errc::kInvalid);
  }
  EXPECT_EQ(plain.snapshotter(), nullptr);
}

}  // namespace
