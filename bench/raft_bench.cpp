// libraft benchmark driver.  One mode per run (a fresh process each time, so
// that peak RSS and page faults belong to one workload); each prints RESULT
// lines (see bench_util.hpp) that bench/report.sh turns into the table.
//
//   --mode w1       3 nodes (--nodes), one thread polling all of them, in-memory
//                   transport, --entries entries of --size bytes until applied
//                   everywhere.  --window 0: everything proposed at once (as
//                   fast as max_queue_bytes admits); --window W: at most W
//                   proposed and not yet applied on the leader; --window 1 also
//                   reports the commit-and-apply latency.
//   --mode run-latency  three raft_node_run threads woken by raft_node_notify,
//                   one proposal at a time; latency p50/p99.
//   --mode w2       like w1 but every node has its own data directory under
//                   --data-dir (fdatasync before every acknowledgement);
//                   --driver poll|run.
//   --mode memory   W1 all at once, reported as the memory figure (peak RSS,
//                   bytes of overhead per retained entry).
//   --mode memcpy   the machine's copy bandwidth, for reference.
//   --callgrind     runs this program under valgrind --tool=callgrind twice
//                   (--entries N and 0) and reports instructions per entry.
//                   --no-rep-string: glibc's memcpy/memset without rep movsb /
//                   rep stosb, which valgrind counts once per byte.
// Common: --max-queue-bytes --max-inflight --max-batch-bytes --check-quorum 0|1
// --pre-vote 0|1 --snapshot-interval N (raft_options; with N > 0 the state
// machine's 8-byte applied count is snapshotted and the log compacted),
// --propose-batch N (entries per raft_node_propose_batch call; 1:
// raft_node_propose) and --virtual-clock.
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "fsync_count.h"
#include "raft_cluster.hpp"

namespace bench {
namespace {

constexpr std::uint64_t kTimeoutMs = 120000;

[[noreturn]] void fail(const char* fmt, const char* detail = "") {
  std::fprintf(stderr, "raft_bench: ");
  std::fprintf(stderr, fmt, detail);
  std::fprintf(stderr, "\n");
  std::exit(1);
}

ClusterConfig config_from(const Args& a) {
  ClusterConfig c;
  c.nodes = a.num("nodes", 3);
  if (c.nodes < 1 || c.nodes > 64) fail("--nodes must be 1..64");
  c.max_queue_bytes = a.num("max-queue-bytes", 0);
  c.max_inflight = static_cast<std::uint32_t>(a.num("max-inflight", 0));
  c.max_batch_bytes = static_cast<std::uint32_t>(a.num("max-batch-bytes", 0));
  c.snapshot_interval = a.num("snapshot-interval", 0);
  c.check_quorum = a.num("check-quorum", 1) != 0;
  c.pre_vote = a.num("pre-vote", 1) != 0;
  return c;
}

// Proposes entries on the leader: entry `seq` carries its sequence number in
// its first bytes, then filler.  --propose-batch N (default 1024, as canonical
// raft's benchmark batches its raft_apply calls; at most 1 MiB of payload)
// hands up to N entries to raft_node_propose_batch at once; 1 makes one
// raft_node_propose call per entry.
class Proposer {
 public:
  Proposer(std::size_t size, std::size_t batch)
      : size_(size),
        batch_(std::max<std::size_t>(1, std::min(batch, (std::size_t{1} << 20) / size))),
        bytes_(batch_ * size, 0xA5),
        proposals_(batch_) {}

  // From `*next` up to `limit` until the queue is full; returns how many
  // were accepted.
  std::uint64_t upto(raft_node* leader, std::uint64_t* next, std::uint64_t limit) {
    std::uint64_t n = 0;
    while (*next <= limit) {
      const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(batch_, limit - *next + 1));
      for (std::size_t i = 0; i < k; ++i) {
        const std::uint64_t seq = *next + i;
        std::uint8_t* b = bytes_.data() + i * size_;
        // The id stamped in the first bytes (apply checks it); a fixed-size
        // copy for the usual sizes is a single store.
        if (size_ >= sizeof seq) {
          std::memcpy(b, &seq, sizeof seq);
        } else {
          std::memcpy(b, &seq, size_);
        }
        proposals_[i] = raft_proposal{seq, b, size_};
      }
      std::size_t queued = 0;
      int rc;
      if (batch_ == 1) {
        rc = raft_node_propose(leader, *next, bytes_.data(), size_);
        queued = rc == RAFT_OK ? 1 : 0;
      } else {
        rc = raft_node_propose_batch(leader, proposals_.data(), k, &queued);
      }
      *next += queued;
      n += queued;
      if (rc == RAFT_EBUSY) break;
      if (rc != RAFT_OK) fail("raft_node_propose: %s", raft_strerror(rc));
    }
    return n;
  }

 private:
  std::size_t size_;
  std::size_t batch_;
  std::vector<std::uint8_t> bytes_;
  std::vector<raft_proposal> proposals_;
};

void check_errors(Cluster& cl) {
  if (cl.order_errors() != 0) fail("entries were applied out of order or corrupted");
}

// W1 (and W2 with the poll driver): a single thread polls every node.
int mode_poll_throughput(const Args& a, const char* workload, const std::string& data_dir) {
  ClusterConfig cfg = config_from(a);
  cfg.data_dir = data_dir;
  const std::uint64_t n_entries = a.num("entries", 1000000);
  const std::size_t size = a.num("size", 64);
  const std::uint64_t window = a.num("window", 0);
  if (size == 0) fail("--size must be at least 1");
  Clock clock(a.has("virtual-clock"));

  const long base_rss = current_rss_kib();
  Cluster cl(cfg);
  if (!cl.elect_polling(clock, 60000)) fail("no leader after 60 s");
  Proposer proposer(size, a.num("propose-batch", 1024));
  raft_node* leader = cl.leader();
  BenchNode& lnode = cl.node(cl.leader_index());

  std::vector<double> lat_us;
  if (window == 1) lat_us.reserve(n_entries);
  const unsigned long syncs0 = bench_fdatasync_calls();
  const long faults0 = minor_faults();
  const std::uint64_t msgs0 = cl.messages();
  const double cpu0 = cpu_seconds(), sys0 = sys_seconds();
  const std::uint64_t t0 = now_ns();
  std::uint64_t next = 1;
  std::uint64_t idle_waits = 0;  // rounds in which nothing moved: waited for a timer
  // When the leader had applied everything: the rest of the run is the
  // followers learning the final commit index.
  std::uint64_t leader_done_ns = 0;
  while (cl.min_applied() < n_entries) {
    if (window == 1 && next <= n_entries) {
      // One at a time: propose, then turn the nodes (leader first) until the
      // leader has applied it.
      cl.awaited = next;
      const std::uint64_t start = now_ns();
      proposer.upto(leader, &next, next);
      for (std::size_t k = 0; lnode.applied.load() < next - 1; ++k) {
        cl.poll_one((cl.leader_index() + k) % cl.size(), clock.now_ms());
      }
      lat_us.push_back(static_cast<double>(cl.awaited_apply_ns.load() - start) / 1000.0);
      continue;
    }
    const std::uint64_t limit =
        window == 0 ? n_entries : std::min(n_entries, lnode.applied.load() + window);
    const std::uint64_t proposed = proposer.upto(leader, &next, limit);
    const std::uint64_t before = cl.progress();
    const std::uint64_t deadline = cl.poll_all(clock.now_ms());
    if (proposed == 0 && cl.progress() == before) {
      ++idle_waits;
      clock.idle_until(deadline);
    }
    if (leader_done_ns == 0 && lnode.applied.load() >= n_entries) leader_done_ns = now_ns();
    if (!cl.leader_stable()) fail("the leader lost its leadership during the run");
    if ((now_ns() - t0) / 1000000 > kTimeoutMs) fail("timed out");
  }
  const std::uint64_t t1 = now_ns();
  const double secs = static_cast<double>(t1 - t0) / 1e9;
  const double cpu = cpu_seconds() - cpu0, sys = sys_seconds() - sys0;
  if (leader_done_ns == 0) leader_done_ns = t1;
  check_errors(cl);
  const double per_s = static_cast<double>(n_entries) / secs;

  Result r(workload);
  r.add("nodes", static_cast<std::uint64_t>(cl.size()))
      .add("size", static_cast<std::uint64_t>(size))
      .add("entries", n_entries)
      .add("window", window)
      .add("seconds", secs)
      .add("entries_per_s", per_s)
      .add("bytes_per_s", per_s * static_cast<double>(size))
      .add("cpu_seconds", cpu)
      .add("sys_seconds", sys)
      .add("idle_waits", idle_waits)
      .add("tail_ms", static_cast<double>(t1 - leader_done_ns) / 1e6)
      .add("msgs_per_entry",
           static_cast<double>(cl.messages() - msgs0) / static_cast<double>(n_entries))
      .add("minflt_per_entry",
           static_cast<double>(minor_faults() - faults0) / static_cast<double>(n_entries))
      .add("peak_rss_mib", static_cast<double>(peak_rss_kib()) / 1024.0)
      .add("base_rss_mib", static_cast<double>(base_rss) / 1024.0)
      .add("transport_mib", static_cast<double>(cl.transport_buffer_bytes()) / 1048576.0);
  if (!data_dir.empty()) {
    const unsigned long syncs = bench_fdatasync_calls() - syncs0;
    if (syncs == 0) fail("durable run counted no fdatasync call: interposition is broken");
    r.add("fdatasync", static_cast<std::uint64_t>(syncs))
        .add("fdatasync_per_entry", static_cast<double>(syncs) / static_cast<double>(n_entries));
  }
  if (window == 1) {
    r.add("p50_us", percentile(lat_us, 50)).add("p99_us", percentile(lat_us, 99));
  }
  // Bytes retained per entry per node beyond the payload, after subtracting
  // the process baseline and the transport's buffers.
  const double retained = static_cast<double>(peak_rss_kib() - base_rss) * 1024.0 -
                          static_cast<double>(cl.transport_buffer_bytes());
  r.add("overhead_per_entry",
        retained / static_cast<double>(n_entries * cl.size()) - static_cast<double>(size));
  r.print();
  return 0;
}

// Three raft_node_run threads.  With --window 1: one proposal at a time and
// its latency; otherwise all at once (W2 with --driver run).
int mode_run(const Args& a, const char* workload, const std::string& data_dir) {
  ClusterConfig cfg = config_from(a);
  cfg.threaded = true;
  cfg.data_dir = data_dir;
  const std::uint64_t n_entries = a.num("entries", 20000);
  const std::size_t size = a.num("size", 64);
  const std::uint64_t window = a.num("window", 1);
  if (size == 0) fail("--size must be at least 1");
  Cluster cl(cfg);
  cl.target = n_entries;
  cl.start_threads();
  if (!cl.wait_leader_threaded(60000)) fail("no leader after 60 s");
  Proposer proposer(size, a.num("propose-batch", 1024));
  raft_node* leader = cl.leader();

  std::vector<double> lat_us;
  const unsigned long syncs0 = bench_fdatasync_calls();
  const double cpu0 = cpu_seconds();
  const std::uint64_t t0 = now_ns();
  std::uint64_t next = 1;
  if (window == 1) {
    lat_us.reserve(n_entries);
    for (; next <= n_entries;) {
      {
        std::lock_guard<std::mutex> lock(cl.mu);
        cl.awaited_done = false;
      }
      cl.awaited = next;
      const std::uint64_t start = now_ns();
      proposer.upto(leader, &next, next);
      std::unique_lock<std::mutex> lock(cl.mu);
      if (!cl.cv.wait_for(lock, std::chrono::seconds(30), [&] { return cl.awaited_done; }))
        fail("a proposal was not applied within 30 s");
      lat_us.push_back(static_cast<double>(cl.awaited_apply_ns.load() - start) / 1000.0);
    }
  } else {
    while (next <= n_entries) {
      if (proposer.upto(leader, &next, n_entries) == 0)
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  {
    std::unique_lock<std::mutex> lock(cl.mu);
    if (!cl.cv.wait_for(lock, std::chrono::milliseconds(kTimeoutMs),
                        [&] { return cl.done_nodes == cl.size(); }))
      fail("timed out waiting for every node to apply");
  }
  const double secs = static_cast<double>(now_ns() - t0) / 1e9;
  const double cpu = cpu_seconds() - cpu0;
  cl.stop_threads();
  check_errors(cl);
  Result r(workload);
  r.add("nodes", static_cast<std::uint64_t>(cl.size()))
      .add("size", static_cast<std::uint64_t>(size))
      .add("entries", n_entries)
      .add("window", window)
      .add("seconds", secs)
      .add("entries_per_s", static_cast<double>(n_entries) / secs)
      .add("cpu_seconds", cpu);
  if (window == 1) r.add("p50_us", percentile(lat_us, 50)).add("p99_us", percentile(lat_us, 99));
  if (!data_dir.empty()) {
    const unsigned long syncs = bench_fdatasync_calls() - syncs0;
    if (syncs == 0) fail("durable run counted no fdatasync call: interposition is broken");
    r.add("fdatasync", static_cast<std::uint64_t>(syncs))
        .add("fdatasync_per_entry", static_cast<double>(syncs) / static_cast<double>(n_entries));
  }
  r.add("peak_rss_mib", static_cast<double>(peak_rss_kib()) / 1024.0);
  r.print();
  return 0;
}

int mode_w2(const Args& a) {
  const std::string root = a.str("data-dir", "build/bench/data");
  const std::string dir = root + "/libraft-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string driver = a.str("driver", "poll");
  int rc;
  if (driver == "poll") {
    rc = mode_poll_throughput(a, "w2_poll", dir);
  } else if (driver == "run") {
    rc = mode_run(a, "w2_run", dir);
  } else {
    fail("--driver must be poll or run");
  }
  std::filesystem::remove_all(dir);
  return rc;
}

// The copy bandwidth of this machine: large memcpy and 64-byte records.
int mode_memcpy(const Args& a) {
  const std::size_t bytes = a.num("bytes", 256u << 20);
  std::vector<std::uint8_t> src(bytes, 1), dst(bytes, 2);
  double best = 1e30;
  for (int i = 0; i < 3; ++i) {
    const std::uint64_t t0 = now_ns();
    std::memcpy(dst.data(), src.data(), bytes);
    best = std::min(best, static_cast<double>(now_ns() - t0) / 1e9);
  }
  double best_rec = 1e30;
  const std::size_t n_rec = bytes / 64;
  for (int i = 0; i < 3; ++i) {
    const std::uint64_t t0 = now_ns();
    for (std::size_t k = 0; k < n_rec; ++k) std::memcpy(&dst[k * 64], &src[k * 64], 64);
    best_rec = std::min(best_rec, static_cast<double>(now_ns() - t0) / 1e9);
  }
  Result r("memcpy");
  r.add("bytes", static_cast<std::uint64_t>(bytes))
      .add("bytes_per_s", static_cast<double>(bytes) / best)
      .add("records64_per_s", static_cast<double>(n_rec) / best_rec)
      .add("check", static_cast<std::uint64_t>(dst[bytes / 2]));
  r.print();
  return 0;
}

// Total instructions ("summary:" line) of a callgrind output file.
std::uint64_t callgrind_total(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("summary:", 0) == 0 || line.rfind("totals:", 0) == 0)
      return std::strtoull(line.c_str() + line.find(':') + 1, nullptr, 10);
  }
  fail("no instruction total in %s", path.c_str());
}

// Runs this program's w1 mode under callgrind with N entries and with 0
// (election, setup and teardown only); the difference divided by N is the
// cost of committing and applying one entry on every node.
int mode_callgrind(const Args& a, const char* self) {
  const std::uint64_t n = a.num("entries", 100000);
  const std::string out = a.str("out-dir", "build/bench");
  std::filesystem::create_directories(out);
  std::string common = std::string(" --mode w1 --virtual-clock --window ") +
                       std::to_string(a.num("window", 0)) + " --size " +
                       std::to_string(a.num("size", 64)) + " --nodes " +
                       std::to_string(a.num("nodes", 3));
  for (const char* k : {"max-queue-bytes", "max-inflight", "max-batch-bytes", "propose-batch"})
    if (a.has(k)) common += std::string(" --") + k + " " + std::to_string(a.num(k, 0));
  std::uint64_t totals[2];
  const std::uint64_t counts[2] = {n, 0};
  const bool no_rep = a.has("no-rep-string");
  const std::string tag = no_rep ? "libraft-norep." : "libraft.";
  const std::string env = no_rep ? "GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295:"
                                   "glibc.cpu.x86_rep_stosb_threshold=4294967295 "
                                 : "";
  for (int i = 0; i < 2; ++i) {
    const std::string file = out + "/callgrind." + tag + std::to_string(counts[i]);
    const std::string cmd = env + "valgrind --tool=callgrind --callgrind-out-file=" + file + " " +
                            self + common + " --entries " + std::to_string(counts[i]) +
                            " > /dev/null 2> " + file + ".log";
    if (std::system(cmd.c_str()) != 0) fail("valgrind failed; see %s.log", file.c_str());
    totals[i] = callgrind_total(file);
  }
  Result r("callgrind");
  r.add("entries", n)
      .add("total_instr", totals[0])
      .add("baseline_instr", totals[1])
      .add("instr_per_entry", static_cast<double>(totals[0] - totals[1]) / static_cast<double>(n))
      .add("rep_string", std::string(no_rep ? "off" : "on"))
      .add("profile", out + "/callgrind." + tag + std::to_string(n));
  r.print();
  return 0;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  const Args a(argc, argv);
  if (a.has("callgrind")) {
    char self[4096];
    const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return 1;
    self[len] = '\0';
    return mode_callgrind(a, self);
  }
  const std::string mode = a.str("mode", "w1");
  if (mode == "w1") {
    const std::uint64_t w = a.num("window", 0);
    const char* name = w == 0 ? "w1_batch" : w == 1 ? "w1_latency_poll" : "w1_window";
    return mode_poll_throughput(a, a.str("label", name).c_str(), "");
  }
  // The retained-log memory figure is W1's peak RSS; this names the run so.
  if (mode == "memory") return mode_poll_throughput(a, "memory", "");
  if (mode == "run-latency") return mode_run(a, "w1_latency_run", "");
  if (mode == "w2") return mode_w2(a);
  if (mode == "memcpy") return mode_memcpy(a);
  std::fprintf(stderr, "raft_bench: unknown --mode %s\n", mode.c_str());
  return 2;
}
