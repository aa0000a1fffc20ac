#include "swarm.hpp"

#include <algorithm>
#include <cinttypes>
#include <memory>
#include <vector>

#include "checker.hpp"
#include "mutants.hpp"
#include "prng.hpp"
#include "workload.hpp"
#include "world.hpp"

namespace sim {

namespace {

constexpr std::uint32_t kEvFaultTick = kFirstUserEvent + 10;
constexpr std::uint32_t kEvLagEnd = kFirstUserEvent + 11;

enum PartitionMode : int {
  kIsolateOne,
  kRandomSplit,
  kMajorityMinority,
  kBridge,
  kRing,
  kPartial,  // the Cloudflare 2020 shape
  kOneWay,   // one node send-only or receive-only
  kModeCount,
};

const char* const kModeNames[kModeCount] = {"isolate", "split",   "majority", "bridge",
                                            "ring",    "partial", "one-way"};

// Fault intensities drawn per seed.
struct Swarm {
  std::uint32_t partition_start_ppm = 0, partition_heal_ppm = 0, asym_ppm = 0;
  std::uint32_t modes = 0;  // bit set of PartitionMode
  std::uint32_t pause_ppm = 0, resume_ppm = 0;
  std::uint32_t jump_ppm = 0;
  std::uint64_t jump_max_us = 0;
  std::uint32_t replay_ppm = 0;
  std::uint32_t clock_eps_ppm = 0;
  int bad_clock = -1;                // node with a wildly wrong clock rate
  std::uint32_t crash_ppm = 0;       // per node per tick: the process dies
  std::uint32_t disk_fault_ppm = 0;  // per node per tick: a storage call will fail
  std::uint64_t restart_min_us = 0, restart_max_us = 0;
  // Slow followers: one node cut off for a long time while the others go
  // on committing and compacting, so that it needs a snapshot to return.
  std::uint32_t lag_ppm = 0;
  std::uint64_t lag_min_us = 0, lag_max_us = 0;
};

class SwarmRun : public EventSink {
 public:
  SwarmRun(const RunOptions& opt) : opt_(opt), trace_(40), cfg_rng_(opt.seed, "config") {}

  RunResult run();
  void dump(FILE* out, std::size_t n) const { trace_.dump(out, n); }

 private:
  void draw_config();
  void draw_snapshot_config(std::uint32_t hb, std::uint32_t emax);
  void on_event(std::uint32_t kind, std::uint32_t a, std::uint64_t b) override;
  void fault_tick();
  void start_partition();
  void apply_connectivity(const std::vector<std::vector<bool>>& conn, bool asym,
                          const std::vector<int>& order);
  bool failed() const { return checker_->failed() || !world_->ok(); }
  std::string failure() const { return checker_->failed() ? checker_->failure() : world_->error(); }
  // Runs events until `until` (global time) or a failure; stop(), if given,
  // ends the wait early when it returns true.
  template <typename F>
  bool run_until(std::uint64_t until, F stop);
  template <typename F>
  bool run_while_progressing(std::uint64_t budget_us, F stop);
  bool liveness(std::string* why);
  int core_leader() const;
  bool converged(int leader, std::string* why) const;

  RunOptions opt_;
  Trace trace_;
  Prng cfg_rng_;
  Prng fault_rng_{0, "faults"};
  Prng clock_rng_{0, "clock"};
  Prng snap_rng_{0, "snapshots"};
  int lagging_ = -1;  // the node cut off as a slow follower (-1: none)
  int n_ = 3;
  std::vector<NodeSettings> settings_;
  NetParams net_;
  Swarm sw_;
  WorkloadParams wl_;
  std::unique_ptr<World> world_;
  std::unique_ptr<Checker> checker_;
  std::unique_ptr<Workload> workload_;
  bool faults_on_ = true;
  bool partitioned_ = false;
  std::vector<int> core_;
  SmParams sm_;
  std::string snap_desc_;
  std::string desc_;
};

void SwarmRun::draw_config() {
  Prng& r = cfg_rng_;
  fault_rng_ = Prng(opt_.seed, "faults");
  clock_rng_ = Prng(opt_.seed, "clock");
  if (opt_.nodes > 0) {
    n_ = opt_.nodes;
  } else {
    const std::uint64_t x = r.below(100);
    static const int kOdd[] = {1, 2, 4, 6, 7};
    n_ = x < 50 ? 3 : x < 85 ? 5 : kOdd[r.below(5)];
  }
  const std::uint32_t hb = static_cast<std::uint32_t>(r.range(10, 50));
  const std::uint32_t emin = hb * static_cast<std::uint32_t>(r.range(3, 10));
  const std::uint32_t emax = emin + static_cast<std::uint32_t>(r.range(emin / 4 + 1, emin));
  const bool pre_vote = r.chance(750000), check_quorum = r.chance(750000);
  const bool mixed = r.chance(50000);  // a rolling upgrade: pre-vote on some nodes only
  static const std::uint32_t kInflight[] = {1, 2, 4, 16, 64};
  static const std::uint32_t kBatch[] = {64, 256, 4096, 1u << 20};
  const std::uint32_t inflight = kInflight[r.below(5)];
  const std::uint32_t batch = kBatch[r.below(4)];
  for (int i = 0; i < n_; ++i) {
    NodeSettings s;
    s.heartbeat_ms = hb;
    s.election_min_ms = emin;
    s.election_max_ms = emax;
    s.pre_vote = mixed ? r.chance(500000) : pre_vote;
    s.check_quorum = check_quorum;
    s.max_inflight = inflight;
    s.max_batch_bytes = batch;
    settings_.push_back(s);
  }

  // Network.
  net_.drop_ppm = r.chance(200000) ? 0 : static_cast<std::uint32_t>(r.below(300001));
  net_.dup_ppm = r.chance(300000) ? 0 : static_cast<std::uint32_t>(r.below(500001));
  net_.corrupt_ppm = r.chance(700000) ? 0 : static_cast<std::uint32_t>(r.below(20001));
  net_.delay_min_us = r.below(hb * 1000ull + 1);
  net_.delay_mean_us = r.range(hb * 100ull, hb * 3000ull);
  if (r.chance(300000)) {
    net_.long_ppm = static_cast<std::uint32_t>(r.below(200001));
    net_.long_min_us = 2ull * emax * 1000;
    net_.long_max_us = 20ull * emax * 1000;
  }
  net_.capacity = r.chance(400000) ? 0 : static_cast<std::uint32_t>(r.range(2, 20));
  net_.proc_max_us = static_cast<std::uint32_t>(r.below(2001));
  if (r.chance(400000)) {
    net_.replay_keep = 256;
    sw_.replay_ppm = static_cast<std::uint32_t>(r.below(300001));
  }

  // Partitions, pauses, clocks.
  sw_.partition_start_ppm = static_cast<std::uint32_t>(r.below(30001));
  sw_.partition_heal_ppm = static_cast<std::uint32_t>(r.range(10000, 100000));
  sw_.asym_ppm = r.chance(500000) ? 0 : static_cast<std::uint32_t>(r.below(500001));
  while (sw_.modes == 0) sw_.modes = static_cast<std::uint32_t>(r.below(1u << kModeCount));
  if (r.chance(500000)) {
    sw_.pause_ppm = static_cast<std::uint32_t>(r.below(5001));
    sw_.resume_ppm = static_cast<std::uint32_t>(r.range(20000, 200000));
  }
  if (r.chance(300000)) {
    sw_.jump_ppm = static_cast<std::uint32_t>(r.below(5001));
    sw_.jump_max_us = 3ull * emax * 1000;
  }
  if (r.chance(350000)) sw_.crash_ppm = static_cast<std::uint32_t>(r.below(3001));
  if (r.chance(250000)) sw_.disk_fault_ppm = static_cast<std::uint32_t>(r.below(3001));
  sw_.restart_min_us = hb * 1000ull;
  sw_.restart_max_us = r.range(1, 5) * emax * 1000ull;
  sw_.clock_eps_ppm = static_cast<std::uint32_t>(r.below(200001));
  if (r.chance(100000)) sw_.bad_clock = static_cast<int>(r.below(static_cast<std::uint64_t>(n_)));

  draw_snapshot_config(hb, emax);

  // Clients.
  wl_.clients = static_cast<int>(r.range(1, 8));
  wl_.think_mean_us = r.range(hb * 250ull, 2ull * emax * 1000);
  wl_.retry_us = hb * 1000ull;
  wl_.timeout_us = r.range(3, 10) * emax * 1000ull;
  wl_.follower_ppm = static_cast<std::uint32_t>(r.below(300001));

  char buf[400];
  std::snprintf(buf, sizeof buf,
                "nodes=%d hb=%u elect=%u-%u prevote=%s cq=%d inflight=%u batch=%u drop=%u%% "
                "dup=%u%% delay=%" PRIu64 "+%" PRIu64
                "us long=%u%% cap=%u replay=%u%% "
                "part=%u/%u modes=%x asym=%u%% pause=%u jump=%u skew=%u%% bad-clock=%d "
                "crash=%u disk-fault=%u clients=%d %s",
                n_, hb, emin, emax,
                mixed      ? "mixed"
                : pre_vote ? "1"
                           : "0",
                check_quorum ? 1 : 0, inflight, batch, net_.drop_ppm / 10000, net_.dup_ppm / 10000,
                net_.delay_min_us, net_.delay_mean_us, net_.long_ppm / 10000, net_.capacity,
                sw_.replay_ppm / 10000, sw_.partition_start_ppm, sw_.partition_heal_ppm, sw_.modes,
                sw_.asym_ppm / 10000, sw_.pause_ppm, sw_.jump_ppm, sw_.clock_eps_ppm / 10000,
                sw_.bad_clock + 1, sw_.crash_ppm, sw_.disk_fault_ppm, wl_.clients,
                snap_desc_.c_str());
  desc_ = buf;
}

// Snapshots draw from their own stream: the rest of a seed's configuration
// is the same as before they existed.
void SwarmRun::draw_snapshot_config(std::uint32_t hb, std::uint32_t emax) {
  Prng& r = snap_rng_;
  r = Prng(opt_.seed, "snapshots");
  std::uint64_t interval = 0;
  if (!r.chance(200000)) interval = r.chance(500000) ? r.range(5, 40) : r.range(41, 200);
  const std::uint64_t trailing = r.below(51);
  const std::uint32_t chunk = static_cast<std::uint32_t>(r.range(512, 8192));
  for (auto& s : settings_) {
    s.snapshot_interval = interval;
    s.snapshot_trailing = trailing;
    s.snapshot_chunk_bytes = chunk;
  }
  sm_.filler_min = 1024;
  sm_.filler_max = static_cast<std::uint32_t>(r.range(1024, 65536));
  sm_.max_steps = r.chance(500000) ? 0 : static_cast<std::uint32_t>(r.range(1, 4));
  sm_.save_fail_ppm = r.chance(200000) ? 20000 : 0;
  if (interval > 0 && r.chance(300000)) {
    sw_.lag_ppm = static_cast<std::uint32_t>(r.range(5000, 30000));
    sw_.lag_min_us = 5ull * emax * 1000;
    sw_.lag_max_us = 30ull * emax * 1000;
  }
  (void)hb;
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "snap=%" PRIu64 "/%" PRIu64 " chunk=%u size=%u-%u steps=%u save-fail=%u%% lag=%u",
                interval, trailing, chunk, sm_.filler_min, sm_.filler_max, sm_.max_steps,
                sm_.save_fail_ppm / 10000, sw_.lag_ppm);
  snap_desc_ = buf;
}

void SwarmRun::on_event(std::uint32_t kind, std::uint32_t a, std::uint64_t b) {
  if (kind == kEvFaultTick) {
    if (!faults_on_) return;
    fault_tick();
    world_->schedule(world_->now() + settings_[0].heartbeat_ms * 1000ull, kEvFaultTick, 0, 0);
    return;
  }
  if (kind == kEvLagEnd) {
    if (!faults_on_ || lagging_ < 0) return;
    for (int b = 0; b < n_; ++b) {
      if (b == lagging_) continue;
      world_->block(lagging_, b, false);
      world_->block(b, lagging_, false);
    }
    trace_.note(world_->now(), Rec::kFault, 0, "slow follower %d rejoins", lagging_ + 1);
    lagging_ = -1;
    return;
  }
  workload_->on_event(kind, a, b);
}

void SwarmRun::fault_tick() {
  Prng& r = fault_rng_;
  if (!partitioned_) {
    if (r.chance(sw_.partition_start_ppm)) start_partition();
  } else if (r.chance(sw_.partition_heal_ppm)) {
    world_->heal_all();
    partitioned_ = false;
    for (int b = 0; lagging_ >= 0 && b < n_; ++b) {  // a slow follower stays cut off
      if (b == lagging_) continue;
      world_->block(lagging_, b, true);
      world_->block(b, lagging_, true);
    }
    trace_.note(world_->now(), Rec::kFault, 0, "heal");
  }
  for (int i = 0; i < n_; ++i) {
    if (world_->paused(i)) {
      if (r.chance(sw_.resume_ppm)) world_->resume(i);
    } else if (sw_.pause_ppm > 0 && r.chance(sw_.pause_ppm)) {
      world_->pause(i);
    }
  }
  for (int i = 0; i < n_; ++i) {
    if (world_->down(i)) continue;
    if (sw_.crash_ppm > 0 && r.chance(sw_.crash_ppm)) {
      world_->crash(i, r);
    } else if (sw_.disk_fault_ppm > 0 && r.chance(sw_.disk_fault_ppm)) {
      // One of its next few storage calls fails: the node stops mid-turn,
      // perhaps between an append and its sync.
      world_->storage(i).arm_fault(static_cast<std::uint32_t>(r.range(1, 8)));
    }
  }
  if (sw_.jump_ppm > 0 && r.chance(sw_.jump_ppm)) {
    const int i = static_cast<int>(r.below(static_cast<std::uint64_t>(n_)));
    const std::uint64_t us = r.range(1000, sw_.jump_max_us);
    world_->clock_jump(i, us);
    world_->wake(i, world_->now());
    trace_.note(world_->now(), Rec::kFault, 0, "clock %d jumps %" PRIu64 "ms", i + 1, us / 1000);
  }
  if (lagging_ < 0 && sw_.lag_ppm > 0 && snap_rng_.chance(sw_.lag_ppm)) {
    lagging_ = static_cast<int>(snap_rng_.below(static_cast<std::uint64_t>(n_)));
    for (int b = 0; b < n_; ++b) {
      if (b == lagging_) continue;
      world_->block(lagging_, b, true);
      world_->block(b, lagging_, true);
    }
    const std::uint64_t us = snap_rng_.range(sw_.lag_min_us, sw_.lag_max_us);
    world_->schedule(world_->now() + us, kEvLagEnd, 0, 0);
    trace_.note(world_->now(), Rec::kFault, 0, "slow follower %d cut off for %" PRIu64 "ms",
                lagging_ + 1, us / 1000);
  }
  if (sw_.replay_ppm > 0 && r.chance(sw_.replay_ppm)) {
    const std::uint64_t k = r.range(1, 3);
    for (std::uint64_t j = 0; j < k; ++j) world_->replay_one(r);
  }
}

void SwarmRun::apply_connectivity(const std::vector<std::vector<bool>>& conn, bool asym,
                                  const std::vector<int>& order) {
  std::vector<int> pos(static_cast<std::size_t>(n_));
  for (int k = 0; k < n_; ++k) pos[static_cast<std::size_t>(order[k])] = k;
  for (int a = 0; a < n_; ++a) {
    for (int b = 0; b < n_; ++b) {
      if (a == b || conn[a][b]) continue;
      // Asymmetric: only one direction of a cut pair fails.
      world_->block(a, b, !asym || pos[a] < pos[b]);
    }
  }
}

void SwarmRun::start_partition() {
  Prng& r = fault_rng_;
  std::vector<int> modes;
  for (int m = 0; m < kModeCount; ++m) {
    if (sw_.modes & (1u << m)) modes.push_back(m);
  }
  const int mode = modes[r.below(modes.size())];
  std::vector<int> order(static_cast<std::size_t>(n_));
  for (int i = 0; i < n_; ++i) order[i] = i;
  for (int i = n_ - 1; i > 0; --i)
    std::swap(order[i], order[r.below(static_cast<std::uint64_t>(i) + 1)]);
  std::vector<std::vector<bool>> conn(n_, std::vector<bool>(n_, true));
  auto cut = [&](int a, int b) { conn[a][b] = conn[b][a] = false; };
  const bool asym = r.chance(sw_.asym_ppm);
  switch (mode) {
    case kIsolateOne:
      for (int b = 0; b < n_; ++b) cut(order[0], b);
      break;
    case kRandomSplit:
    case kMajorityMinority: {
      std::vector<int> side(static_cast<std::size_t>(n_));
      for (int k = 0; k < n_; ++k) {
        side[order[k]] = mode == kRandomSplit ? static_cast<int>(r.below(2))
                         : k < n_ / 2 + 1     ? 0
                                              : 1;
      }
      for (int a = 0; a < n_; ++a)
        for (int b = 0; b < n_; ++b)
          if (side[a] != side[b]) cut(a, b);
      break;
    }
    case kBridge: {
      // order[0] is the bridge; the rest split in two halves that only it joins.
      const int half = (n_ - 1) / 2;
      for (int x = 1; x < n_; ++x)
        for (int y = 1; y < n_; ++y)
          if ((x <= half) != (y <= half)) cut(order[x], order[y]);
      break;
    }
    case kRing:
      for (int x = 0; x < n_; ++x)
        for (int y = 0; y < n_; ++y) {
          const int d = (x - y + n_) % n_;
          if (d > 1 && d < n_ - 1) cut(order[x], order[y]);
        }
      break;
    case kPartial: {
      // A fully connected majority; every other node reaches exactly one of it.
      const int core = n_ / 2 + 1;
      for (int x = core; x < n_; ++x) {
        const int link = static_cast<int>(r.below(static_cast<std::uint64_t>(core)));
        for (int y = 0; y < n_; ++y)
          if (y != link && y != x) cut(order[x], order[y]);
      }
      break;
    }
    case kOneWay: {
      const int k = order[0];
      const bool send_only = r.chance(500000);
      for (int b = 0; b < n_; ++b) {
        if (b == k) continue;
        if (send_only) {
          world_->block(b, k, true);
        } else {
          world_->block(k, b, true);
        }
      }
      partitioned_ = true;
      trace_.note(world_->now(), Rec::kFault, 0, "%d %s", k + 1,
                  send_only ? "send-only" : "receive-only");
      return;
    }
  }
  apply_connectivity(conn, asym, order);
  partitioned_ = true;
  char groups[40];
  int len = 0;
  for (int a = 0; a < n_ && len < 30; ++a) {
    int reach = 0;
    for (int b = 0; b < n_; ++b) reach += (a != b && !world_->blocked(a, b)) ? 1 : 0;
    len += std::snprintf(groups + len, sizeof groups - len, "%d:%d ", a + 1, reach);
  }
  trace_.note(world_->now(), Rec::kFault, 0, "%s%s out-degree %s", kModeNames[mode],
              asym ? "/asym" : "", groups);
}

template <typename F>
bool SwarmRun::run_until(std::uint64_t until, F stop) {
  while (!failed()) {
    if (stop()) return true;
    if (world_->next_time() > until) return false;
    world_->step();
  }
  return false;
}

template <typename F>
bool SwarmRun::run_while_progressing(std::uint64_t budget_us, F stop) {
  // Catching up a far-behind follower with a small window takes as long as
  // it takes; what must not happen is a stall.  So the budget restarts
  // whenever the core applies something, up to a hard cap.
  const std::uint64_t cap = world_->now() + 50 * budget_us;
  std::uint64_t progress = 0, deadline = world_->now() + budget_us;
  while (!failed()) {
    if (stop()) return true;
    std::uint64_t p = 0;
    for (int c : core_) p += world_->core(c).applied_index();
    if (p > progress) {
      progress = p;
      deadline = std::min(cap, world_->now() + budget_us);
    }
    if (world_->next_time() > deadline) return false;
    world_->step();
  }
  return false;
}

int SwarmRun::core_leader() const {
  int leader = -1;
  for (int c : core_) {
    if (world_->core(c).role() == raft::core::Role::kLeader) {
      if (leader >= 0) return -1;  // two in different terms: not stable yet
      leader = c;
    }
  }
  return leader;
}

bool SwarmRun::converged(int leader, std::string* why) const {
  const auto& lc = world_->core(leader);
  const std::uint64_t last = lc.log().last_index();
  char buf[200];
  if (lc.commit_index() != last) {
    std::snprintf(buf, sizeof buf, "leader %d commit %" PRIu64 " < last index %" PRIu64, leader + 1,
                  lc.commit_index(), last);
    *why = buf;
    return false;
  }
  for (int c : core_) {
    const auto& k = world_->core(c);
    if (k.log().last_index() != last || k.log().term_at(last) != lc.log().term_at(last) ||
        k.commit_index() != last || k.applied_index() != last) {
      std::snprintf(buf, sizeof buf,
                    "node %d last=%" PRIu64 " commit=%" PRIu64 " applied=%" PRIu64
                    " vs leader %d last=%" PRIu64,
                    c + 1, k.log().last_index(), k.commit_index(), k.applied_index(), leader + 1,
                    last);
      *why = buf;
      return false;
    }
  }
  return true;
}

bool SwarmRun::liveness(std::string* why) {
  Prng r(opt_.seed, "liveness");
  const std::uint64_t t0 = world_->now();
  faults_on_ = false;
  workload_->stop_new_ops();

  // The core: a random majority, fully connected, calm network, sane clocks.
  std::vector<int> order(static_cast<std::size_t>(n_));
  for (int i = 0; i < n_; ++i) order[i] = i;
  for (int i = n_ - 1; i > 0; --i)
    std::swap(order[i], order[r.below(static_cast<std::uint64_t>(i) + 1)]);
  core_.assign(order.begin(), order.begin() + (n_ / 2 + 1));
  std::sort(core_.begin(), core_.end());
  std::vector<bool> in_core(static_cast<std::size_t>(n_), false);
  for (int c : core_) in_core[c] = true;

  world_->heal_all();
  partitioned_ = false;
  lagging_ = -1;
  const std::uint32_t hb = settings_[0].heartbeat_ms;
  NetParams calm;
  calm.delay_min_us = 100;
  calm.delay_mean_us = hb * 1000ull / 8;
  calm.proc_max_us = 500;
  world_->net = calm;
  for (int k = 0; k < n_; ++k) world_->storage(k).arm_fault(0);
  for (int c : core_) {
    world_->restart(c);
    world_->set_clock_rate(c, 1000000 - 50000 + r.below(100001));
    world_->resume(c);
  }

  // Outside the core, faults become permanent.  Asymmetric and partial
  // connectivity are only survivable with pre-vote and check-quorum.
  bool protected_cluster = true;
  for (const auto& s : settings_) protected_cluster &= s.pre_vote && s.check_quorum;
  std::string shape;
  std::vector<int> healed;
  for (int k = 0; k < n_; ++k) {
    if (in_core[k]) continue;
    // "Partial" (reaching exactly one core node) is a minority only from four
    // nodes up; in a 3-node cluster that pair is a working majority.
    const int kinds = !protected_cluster ? 2 : n_ >= 4 ? 5 : 4;
    const int kind = static_cast<int>(r.below(static_cast<std::uint64_t>(kinds)));
    static const char* const kNames[] = {"healed", "isolated", "send-only", "receive-only",
                                         "partial"};
    const int link = core_[r.below(core_.size())];
    for (int b = 0; b < n_; ++b) {
      if (b == k) continue;
      switch (kind) {
        case 1:
          world_->block(k, b, true);
          world_->block(b, k, true);
          break;
        case 2:
          world_->block(b, k, true);
          break;
        case 3:
          world_->block(k, b, true);
          break;
        case 4:
          if (b != link) {
            world_->block(k, b, true);
            world_->block(b, k, true);
          }
          break;
      }
    }
    shape += " " + std::to_string(k + 1) + ":" + kNames[kind];
    if (kind == 4) shape += "(" + std::to_string(link + 1) + ")";
    if (kind == 0) healed.push_back(k);
  }
  // A healed node is as good as a core member: it may lead, and it must
  // converge with the others.
  for (int k : healed) {
    world_->restart(k);
    world_->set_clock_rate(k, 1000000 - 50000 + r.below(100001));
    world_->resume(k);
    core_.push_back(k);
  }
  std::sort(core_.begin(), core_.end());
  world_->settle_in_flight(calm.delay_min_us + 4 * calm.delay_mean_us);
  workload_->restrict_to(core_);
  std::string core_names;
  for (int c : core_) core_names += (core_names.empty() ? "" : ",") + std::to_string(c + 1);
  trace_.note(world_->now(), Rec::kFault, 0, "liveness core {%s}%s", core_names.c_str(),
              shape.c_str());

  // A generous bound on one election timeout in global time (clocks may run
  // 5% slow).
  std::uint64_t emax_us = 0;
  for (const auto& s : settings_) emax_us = std::max<std::uint64_t>(emax_us, s.election_max_ms);
  emax_us = emax_us * 1000 * 100 / 95;

  // L1: within 10 election timeouts a core leader whose term holds for 5 more.
  const std::uint64_t elect_by = t0 + 10 * emax_us;
  const std::uint64_t hold = 5 * emax_us;
  int leader = -1;
  auto stable = [&]() {
    leader = core_leader();
    if (leader < 0) return false;
    std::uint64_t since = 0;
    for (int c : core_) since = std::max(since, checker_->last_change_us(c));
    return since <= elect_by && world_->now() >= since + hold;
  };
  if (!run_until(elect_by + hold, stable)) {
    if (!failed()) {
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "liveness: no stable leader in core {%s} within %" PRIu64
                    "ms of healing (10 election timeouts, then 5 without a change)",
                    core_names.c_str(), (elect_by - t0) / 1000);
      *why = buf;
    }
    return false;
  }

  // L2: with no new proposals the core converges: same log, all of it
  // committed and applied (a leader that never commits an entry of its own
  // term is caught here).
  std::string detail;
  auto settled = [&]() {
    const int l = core_leader();
    return l >= 0 && converged(l, &detail);
  };
  if (!run_while_progressing(10 * emax_us, settled)) {
    if (!failed()) *why = "liveness L2: core did not converge after healing: " + detail;
    return false;
  }

  // L3: with traffic again, every client completes an operation; then,
  // traffic stopped, the core converges once more.  (Transitions still
  // pending are resolved as soon as a commit index covers them: the checker
  // enforces that on every poll.  One whose index lies beyond the final log
  // stays undecided, which Raft cannot avoid.)
  workload_->resume_ops();
  auto served = [&]() {
    detail = "a client has not completed an operation";
    return workload_->all_succeeded_since_resume();
  };
  if (!run_while_progressing(20 * emax_us, served)) {
    if (!failed()) *why = "liveness L3: operations did not complete: " + detail;
    return false;
  }
  workload_->stop_new_ops();
  auto finished = [&]() {
    const int l = core_leader();
    if (!workload_->idle()) {
      detail = "a client operation is still in flight";
      return false;
    }
    return l >= 0 && converged(l, &detail);
  };
  if (!run_while_progressing(10 * emax_us, finished)) {
    if (!failed()) *why = "liveness L3: core did not converge after the last operations: " + detail;
    return false;
  }
  return true;
}

RunResult SwarmRun::run() {
  RunResult res;
  draw_config();
  res.config = desc_;
  res.nodes = n_;
  if (opt_.trace != nullptr) trace_.set_verbose(opt_.trace);
  world_ = std::make_unique<World>(opt_.seed, settings_, opt_.mutants, trace_);
  if (!world_->ok()) {
    res.ok = false;
    res.failure = world_->error();
    return res;
  }
  checker_ = std::make_unique<Checker>(*world_);
  workload_ = std::make_unique<Workload>(*world_, opt_.seed, wl_);
  world_->attach(checker_.get());
  world_->set_sink(this);
  world_->set_listener(workload_.get());
  world_->net = net_;
  world_->sm = sm_;
  world_->set_restart_delay(sw_.restart_min_us, sw_.restart_max_us);

  for (int i = 0; i < n_; ++i) {
    std::uint64_t rate =
        1000000 - sw_.clock_eps_ppm + clock_rng_.below(2ull * sw_.clock_eps_ppm + 1);
    if (i == sw_.bad_clock) {
      const std::uint64_t f = clock_rng_.range(2, 5);
      rate = clock_rng_.chance(500000) ? rate * f : rate / f;
    }
    world_->set_clock_rate(i, rate);
    world_->wake(i, clock_rng_.below(5000));
  }
  workload_->start();
  world_->schedule(settings_[0].heartbeat_ms * 1000ull, kEvFaultTick, 0, 0);

  while (world_->events() < opt_.events && !failed()) {
    if (!world_->step()) break;
  }
  std::string why;
  if (!failed() && opt_.liveness && !liveness(&why)) {
    if (!failed()) checker_->fail(why);
  }
  res.ok = !failed();
  if (!res.ok) res.failure = failure();
  res.events = world_->events();
  res.hash = world_->hash().value();
  res.committed = checker_->committed_length();
  res.max_term = checker_->max_term();
  res.snap = world_->snap_stats();
  return res;
}

}  // namespace

std::string repro_line(const RunOptions& opt) {
  std::string s =
      "raft-sim --seed " + std::to_string(opt.seed) + " --events " + std::to_string(opt.events);
  if (opt.nodes > 0) s += " --nodes " + std::to_string(opt.nodes);
  for (const auto& m : kMutants) {
    if (opt.mutants & m.mask) s += std::string(" --mutant ") + m.name;
  }
  if (!opt.liveness) s += " --no-liveness";
  return s;
}

RunResult run_seed(const RunOptions& opt, FILE* report) {
  SwarmRun run(opt);
  RunResult res = run.run();
  if (opt.describe && report != nullptr)
    std::fprintf(report, "seed %" PRIu64 ": %s\n", opt.seed, res.config.c_str());
  if (!res.ok && report != nullptr) {
    std::fprintf(report, "FAIL %s   # %s\n", repro_line(opt).c_str(), res.failure.c_str());
    std::fprintf(report, "  config: %s\n  last events (virtual ms):\n", res.config.c_str());
    run.dump(report, 30);
    std::fflush(report);
  }
  return res;
}

}  // namespace sim
