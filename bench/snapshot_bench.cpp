// The snapshot benchmark (`make bench-snapshot`): does compaction keep a
// long-running cluster's memory and disk flat, and how long does a wiped
// follower take to come back through a large snapshot?  Public C API only;
// every node has its own data_dir.
//
//   --part compaction  3 nodes polled by one thread, in-memory transport,
//                      --entries 64-byte entries (default 10,000,000), at most
//                      --window proposed and not yet applied on the leader,
//                      --interval entries between snapshots (default 100,000;
//                      0 = none).  State: CounterTable.  One row every
//                      --entries/--rows applied entries: peak and current
//                      RSS, data_dir bytes, rate over the span, snapshots.
//   --part restore     3 nodes on raft_node_run threads (as 3 processes would
//                      be); ProceduralState of --snapshot-mib (default 1024).
//                      --restore-entries entries (the interval) make every
//                      node save a snapshot, then a follower is destroyed,
//                      its data_dir deleted, and it is created again: timed
//                      until it has installed the snapshot and applied up to
//                      the leader's commit index.  --chunk-bytes sets
//                      max_snapshot_chunk_bytes (default: the library's).
//   --part all         (default) compaction, compaction without snapshots for
//                      --baseline-entries (default 1,000,000), then restore,
//                      each in a fresh process so that peak RSS is its own.
// --data-dir: where the node directories go (default /tmp); each run uses a
// subdirectory named after its pid and deletes it at the end.
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "snapshot_cluster.hpp"
#include "snapshot_state.hpp"

namespace bench {
namespace {

constexpr std::uint64_t kStallMs = 60000;  // no progress for this long: fail

double mib(std::uint64_t bytes) { return static_cast<double>(bytes) / 1048576.0; }
double secs_since(std::uint64_t t0) { return static_cast<double>(now_ns() - t0) / 1e9; }

std::string run_dir(const Args& a, const char* what) {
  const std::string dir =
      a.str("data-dir", "/tmp") + "/snapshot-bench-" + what + "-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

void dump_status(SnapCluster& cl) {
  for (std::size_t i = 0; i < cl.size(); ++i) {
    const raft_status st = cl.status(i);
    std::fprintf(stderr,
                 "  node %zu: role %d term %" PRIu64 " leader %" PRIu64 " commit %" PRIu64
                 " applied %" PRIu64 " last %" PRIu64 " snapshot %" PRIu64 " msgs sent %" PRIu64
                 " received %" PRIu64 " rejected %" PRIu64 " (state machine applied %" PRIu64
                 ", saves %" PRIu64 ", loads %" PRIu64 ")\n",
                 i + 1, static_cast<int>(st.role), st.term, st.leader, st.commit_index,
                 st.applied_index, st.last_index, st.snapshot_index, st.msgs_sent, st.msgs_received,
                 st.msgs_rejected, cl.node(i).applied.load(), cl.node(i).saves.load(),
                 cl.node(i).loads.load());
    std::fprintf(stderr,
                 "    frames delivered by type (1 vote, 2 vote resp, 3 append, 4 append "
                 "resp, 5 install snapshot, 6 its resp):");
    for (int t = 1; t < 7; ++t)
      std::fprintf(stderr, " %d:%" PRIu64, t, cl.node(i).delivered[t].load());
    std::fprintf(stderr, "\n");
  }
}

[[noreturn]] void fail_with(SnapCluster& cl, const std::string& why) {
  std::fprintf(stderr, "snapshot_bench: %s\n", why.c_str());
  dump_status(cl);
  std::fflush(stderr);
  std::_Exit(1);  // no destructors: keep the data_dirs as evidence
}

// Entry k: k in its first 8 bytes, then bytes that vary with k, so that the
// counters it lands in are spread over the table.
class Payload {
 public:
  explicit Payload(std::size_t size) : bytes_(std::max<std::size_t>(size, 8)) {}
  const std::uint8_t* make(std::uint64_t k) {
    std::memcpy(bytes_.data(), &k, sizeof k);
    for (std::size_t i = 8; i + 8 <= bytes_.size(); i += 8) {
      const std::uint64_t v = mix64(k + i);
      std::memcpy(&bytes_[i], &v, sizeof v);
    }
    return bytes_.data();
  }
  std::size_t size() const { return bytes_.size(); }

 private:
  std::vector<std::uint8_t> bytes_;
};

// Proposes from *next up to limit until the queue is full; how many went in.
std::uint64_t propose_upto(SnapCluster& cl, Payload& p, std::uint64_t* next, std::uint64_t limit) {
  std::uint64_t n = 0;
  for (; *next <= limit; ++*next, ++n) {
    const int rc = raft_node_propose(cl.leader(), *next, p.make(*next), p.size());
    if (rc == RAFT_EBUSY) break;
    if (rc != RAFT_OK) fail_with(cl, std::string("raft_node_propose: ") + raft_strerror(rc));
  }
  return n;
}

void elect_polling(SnapCluster& cl, Clock& clock) {
  const std::uint64_t start = clock.now_ms();
  while (!cl.find_leader()) {
    if (clock.now_ms() - start > 60000) fail_with(cl, "no stable leader after 60 s");
    const std::uint64_t before = cl.progress();
    const std::uint64_t deadline = cl.poll_all(clock.now_ms());
    if (cl.progress() == before) clock.idle_until(deadline);
  }
}

// ------------------------------------------------------------ compaction

int part_compaction(const Args& a) {
  const std::uint64_t entries = a.num("entries", 10000000);
  const std::uint64_t interval = a.num("interval", 100000);
  const std::uint64_t window = a.num("window", 50000);
  const std::uint64_t rows = std::max<std::uint64_t>(1, a.num("rows", 10));
  Payload payload(a.num("size", 64));
  if (entries < rows || window == 0) snap_fail("need --entries >= --rows and --window > 0");

  SnapConfig cfg;
  cfg.data_dir = run_dir(a, "compaction");
  cfg.snapshot_interval = interval;
  cfg.snapshot_trailing = a.num("trailing", 0);
  cfg.make_state = [] { return std::make_unique<CounterTable>(); };
  const long base_rss = current_rss_kib();
  Clock clock(false);
  SnapCluster cl(cfg);
  elect_polling(cl, clock);

  std::printf("\nPart 1: %" PRIu64 " entries of %zu bytes, snapshot_interval %" PRIu64
              "%s, window %" PRIu64
              ", 3 nodes polled by one thread, data_dir %s\n"
              "(process RSS before the cluster: %.1f MiB)\n\n",
              entries, payload.size(), interval, interval == 0 ? " (snapshots off)" : "", window,
              cfg.data_dir.c_str(), static_cast<double>(base_rss) / 1024.0);
  std::printf(
      "| applied | elapsed s | entries/s (span) | peak RSS MiB | RSS MiB | data_dirs MiB "
      "| max data_dirs MiB so far | files | snapshots (3 nodes) | leader snapshot index |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::fflush(stdout);

  const std::uint64_t t0 = now_ns();
  std::uint64_t next = 1, row = 1, span_t = t0, span_n = 0;
  std::uint64_t last_progress = 0, last_progress_ms = clock.now_ms();
  // The rows sample a sawtooth (log segments are deleted whole); the peak
  // between rows comes from a walk of the directories every 100 ms.
  std::uint64_t disk_max = 0, disk_walk_ms = 0;
  while (row <= rows) {
    const std::uint64_t lead_applied = cl.node(cl.leader_index()).applied.load();
    const std::uint64_t proposed =
        propose_upto(cl, payload, &next, std::min(entries, lead_applied + window));
    const std::uint64_t before = cl.progress();
    const std::uint64_t deadline = cl.poll_all(clock.now_ms());
    const std::uint64_t after = cl.progress();
    if (proposed == 0 && after == before) clock.idle_until(deadline);
    if (after != last_progress) {
      last_progress = after;
      last_progress_ms = clock.now_ms();
    } else if (clock.now_ms() - last_progress_ms > kStallMs) {
      fail_with(cl, "stalled: nothing moved for 60 s");
    }
    if (!cl.leader_stable()) fail_with(cl, "the leader changed during the run");
    if (cl.bad_entries() != 0) fail_with(cl, "an entry was applied out of order or corrupted");
    if (clock.now_ms() - disk_walk_ms >= 100) {
      disk_max = std::max(disk_max, cl.disk_bytes());
      disk_walk_ms = clock.now_ms();
    }
    const std::uint64_t mark = entries * row / rows;
    if (cl.min_applied() < mark) continue;
    const std::uint64_t t = now_ns();
    std::uint64_t files = 0;
    const std::uint64_t disk = cl.disk_bytes(&files);
    disk_max = std::max(disk_max, disk);
    const raft_status st = cl.status(cl.leader_index());
    std::printf(
        "| %" PRIu64 " | %.1f | %.0f | %.1f | %.1f | %.1f | %.1f | %" PRIu64 " | %" PRIu64
        " | %" PRIu64 " |\n",
        mark, static_cast<double>(t - t0) / 1e9,
        static_cast<double>(cl.min_applied() - span_n) / (static_cast<double>(t - span_t) / 1e9),
        static_cast<double>(peak_rss_kib()) / 1024.0,
        static_cast<double>(current_rss_kib()) / 1024.0, mib(disk), mib(disk_max), files,
        cl.saves(), st.snapshot_index);
    std::fflush(stdout);
    span_t = now_ns();
    span_n = cl.min_applied();
    ++row;
  }
  // Every replica applied the same entries in the same order: same table.
  for (std::size_t i = 1; i < cl.size(); ++i) {
    if (cl.node(i).applied.load() != entries || cl.node(0).applied.load() != entries ||
        cl.node(i).state->digest() != cl.node(0).state->digest())
      fail_with(cl, "the replicas' state machines differ at the end");
  }
  std::printf("\nall 3 state machines equal after %" PRIu64 " entries; %.1f s in all\n", entries,
              secs_since(t0));
  return 0;
}

// ------------------------------------------------------------ restore

// Threaded: waits (checking every 2 ms) until done() holds; fails after max_s.
// Threaded: waits (checking every 2 ms) until done() holds and returns true;
// false once give_up() holds; fails after max_s.
template <class Done, class GiveUp>
bool wait_until(SnapCluster& cl, double max_s, const char* what, Done done, GiveUp give_up) {
  const std::uint64_t t0 = now_ns();
  double report_at = 30;
  while (!done()) {
    const double waited = secs_since(t0);
    if (give_up(waited)) return false;
    if (waited > max_s) fail_with(cl, std::string("timed out waiting for ") + what);
    if (waited > report_at) {
      std::fprintf(stderr, "still waiting for %s after %.0f s:\n", what, waited);
      dump_status(cl);
      report_at += 30;
    }
    if (cl.bad_entries() != 0) fail_with(cl, "an entry was applied out of order or corrupted");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

template <class Done>
void wait_for(SnapCluster& cl, double max_s, const char* what, Done done) {
  wait_until(cl, max_s, what, done, [](double) { return false; });
}

int part_restore(const Args& a) {
  const std::uint64_t bytes = a.num("snapshot-mib", 1024) << 20;
  const std::uint64_t interval = a.num("restore-entries", 5000);
  // Entries after the snapshot: the restored follower gets them from the log.
  const std::uint64_t tail = a.num("tail-entries", 1000);
  const std::uint64_t total = interval + tail;
  Payload payload(a.num("size", 64));

  SnapConfig cfg;
  cfg.threaded = true;
  cfg.log_level = static_cast<int>(a.num("log-level", RAFT_LOG_WARN));
  cfg.data_dir = run_dir(a, "restore");
  cfg.snapshot_interval = interval;
  cfg.max_snapshot_chunk_bytes = static_cast<std::uint32_t>(a.num("chunk-bytes", 0));
  cfg.make_state = [bytes] { return std::make_unique<ProceduralState>(bytes); };
  SnapCluster cl(cfg);
  wait_for(cl, 60, "a stable leader", [&] { return cl.find_leader(); });
  std::size_t li = cl.leader_index();
  const std::uint64_t term0 = cl.status(li).term;

  // Enough entries for one snapshot on every node, then a tail.
  const std::uint64_t t0 = now_ns();
  std::uint64_t next = 1;
  while (next <= total) {
    if (propose_upto(cl, payload, &next, total) == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  wait_for(cl, 1800, "every node to save its snapshot and apply everything", [&] {
    if (cl.min_applied() < total) return false;
    for (std::size_t i = 0; i < cl.size(); ++i)
      if (cl.node(i).saves.load() == 0 || cl.status(i).snapshot_index == 0) return false;
    return true;
  });
  const double setup_s = secs_since(t0);
  std::uint64_t save_ns = 0, commit_ns = 0;
  for (std::size_t i = 0; i < cl.size(); ++i) {
    save_ns = std::max(save_ns, cl.node(i).save_ns.load());
    commit_ns = std::max(commit_ns, cl.node(i).max_commit_ns.load());
  }
  // The saves may have cost the leader its leadership (see the report).
  wait_for(cl, 120, "a stable leader after the saves", [&] { return cl.find_leader(); });
  li = cl.leader_index();
  const std::uint64_t term_after_saves = cl.status(li).term;
  const std::uint64_t disk_before = cl.disk_bytes();
  std::uint64_t commit = cl.status(li).commit_index;

  // Wipe a follower and bring it back while the leader runs.
  const std::size_t f = (li + 1) % cl.size();
  SnapNode& fn = cl.node(f);
  const double live_timeout = static_cast<double>(a.num("live-timeout", 30));
  auto caught_up = [&](std::uint64_t to_commit) {
    return [&cl, &fn, f, total, to_commit] {
      return fn.applied.load() >= total && cl.status(f).applied_index >= to_commit;
    };
  };
  cl.stop(f);
  cl.wipe(f);
  std::uint64_t r0 = now_ns();
  cl.start(f);
  // Given up when not one InstallSnapshot frame reached the follower.
  const bool live = wait_until(
      cl, 1800, "the wiped follower to catch up", caught_up(commit),
      [&](double waited) { return waited > live_timeout && fn.delivered[5].load() == 0; });
  double restart_load_s = 0;
  std::size_t lead = li;
  if (!live) {
    std::printf(
        "\nFINDING: the leader never sent the wiped follower a snapshot: in %.0f s it got "
        "%" PRIu64
        " AppendEntries and 0 InstallSnapshot frames, and is still at applied "
        "index %" PRIu64
        " (status on stderr).  Falling back: all three nodes stopped, the "
        "follower wiped again, the other two restarted (each loads its snapshot) and "
        "elect a leader, then the follower is started and timed.\n",
        live_timeout, fn.delivered[3].load(), cl.status(f).applied_index);
    std::fprintf(stderr, "live restore gave up after %.0f s:\n", live_timeout);
    dump_status(cl);
    for (std::size_t i = 0; i < cl.size(); ++i) cl.stop(i);
    cl.wipe(f);
    for (std::size_t i = 0; i < cl.size(); ++i) {
      if (i == f) continue;
      cl.start(i);  // raft_node_create loads the node's snapshot
      restart_load_s = std::max(restart_load_s, static_cast<double>(cl.node(i).load_ns) / 1e9);
    }
    wait_for(cl, 120, "a leader among the two restarted nodes", [&] { return cl.find_leader(); });
    lead = cl.leader_index();
    wait_for(cl, 60, "the new leader's first entry to commit",
             [&] { return cl.status(lead).commit_index > commit; });
    commit = cl.status(lead).commit_index;
    r0 = now_ns();
    cl.start(f);
    wait_for(cl, 1800, "the wiped follower to catch up", caught_up(commit));
  }
  const double restore_s = secs_since(r0);
  const raft_status fst = cl.status(f);
  const std::uint64_t disk_after = cl.disk_bytes();
  const long peak = peak_rss_kib();
  const bool stable = cl.leader_stable();
  for (std::size_t i = 0; i < cl.size(); ++i) cl.stop(i);
  if (fn.loads.load() != 1 || fst.snapshot_index == 0)
    fail_with(cl, "the wiped follower did not come back through one snapshot install");
  if (fn.state->digest() != cl.node(lead).state->digest() ||
      fn.state->applied() != cl.node(lead).state->applied())
    fail_with(cl, "the restored follower's state differs from the leader's");

  const double mibps = mib(bytes) / restore_s;
  std::printf(
      "\nPart 2: wiped follower restored from a %.0f MiB snapshot; 3 nodes on "
      "raft_node_run threads, data_dir %s, max_snapshot_chunk_bytes %s\n\n",
      mib(bytes), cfg.data_dir.c_str(),
      cfg.max_snapshot_chunk_bytes == 0 ? "default (1 MiB)"
                                        : std::to_string(cfg.max_snapshot_chunk_bytes).c_str());
  std::printf("| what | value |\n|---|---:|\n");
  std::printf("| snapshot size (bytes) | %" PRIu64 " |\n", bytes + 32);
  std::printf("| entries applied (snapshot every %" PRIu64 ") | %" PRIu64 " |\n", interval, total);
  std::printf("| setup: entries + 3 concurrent saves, s | %.1f |\n", setup_s);
  std::printf("| slowest node's save (steps of %zu MiB), s | %.2f |\n",
              ProceduralState::kSlicesPerStep, static_cast<double>(save_ns) / 1e9);
  std::printf(
      "| longest silence after a save's last step (snapshot_commit; +<= 1 heartbeat), s | %.2f |\n",
      static_cast<double>(commit_ns) / 1e9);
  std::printf("| term before / after the saves (a change: an election) | %" PRIu64 " / %" PRIu64
              " |\n",
              term0, term_after_saves);
  std::printf("| data_dirs before the wipe, MiB | %.0f |\n", mib(disk_before));
  std::printf("| leader commit index to reach | %" PRIu64 " |\n", commit);
  std::printf("| follower snapshot index after restore | %" PRIu64 " |\n", fst.snapshot_index);
  std::printf("| **restore: create to applied = commit, s** | **%.2f** |\n", restore_s);
  std::printf("| **restore throughput, MiB/s** | **%.0f** |\n", mibps);
  std::printf("| of which snapshot_load (read + verify every byte), s | %.2f |\n",
              static_cast<double>(fn.load_ns.load()) / 1e9);
  std::printf("| data_dirs after the restore, MiB | %.0f |\n", mib(disk_after));
  std::printf("| peak RSS of the process, MiB | %.1f |\n", static_cast<double>(peak) / 1024.0);
  std::printf("| path timed | %s |\n",
              live ? "live: wiped while the leader ran"
                   : "fallback: after a restart of the other two (see FINDING)");
  if (!live)
    std::printf("| restart of a survivor: snapshot_load at create, s | %.2f |\n", restart_load_s);
  std::printf("| leader unchanged during the timed restore | %s |\n", stable ? "yes" : "no");
  std::printf("\nthe restored follower's state equals the leader's (%" PRIu64 " entries)\n",
              fn.state->applied());
  return 0;
}

// ------------------------------------------------------------ all

int run_child(const std::vector<std::string>& args) {
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) snap_fail("fork failed");
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int part_all(const Args& a, const char* self) {
  auto flag = [&](const char* k, std::uint64_t def) {
    return std::vector<std::string>{std::string("--") + k, std::to_string(a.num(k, def))};
  };
  auto cmd = [&](const char* part, std::initializer_list<std::vector<std::string>> flags) {
    std::vector<std::string> v = {self, "--part", part, "--data-dir", a.str("data-dir", "/tmp")};
    for (const auto& f : flags) v.insert(v.end(), f.begin(), f.end());
    return v;
  };
  int rc = run_child(cmd("compaction", {flag("entries", 10000000), flag("interval", 100000),
                                        flag("window", 50000), flag("rows", 10)}));
  if (rc == 0 && a.num("baseline-entries", 1000000) != 0)
    rc = run_child(
        cmd("compaction", {{"--entries", std::to_string(a.num("baseline-entries", 1000000))},
                           {"--interval", "0"},
                           flag("window", 50000),
                           {"--rows", "5"}}));
  if (rc == 0 && a.num("snapshot-mib", 1024) != 0)
    rc = run_child(cmd(
        "restore", {flag("snapshot-mib", 1024), flag("restore-entries", 5000),
                    flag("tail-entries", 1000), flag("chunk-bytes", 0), flag("live-timeout", 30)}));
  return rc;
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  const Args a(argc, argv);
  const std::string part = a.str("part", "all");
  if (part == "compaction") return part_compaction(a);
  if (part == "restore") return part_restore(a);
  if (part == "all") return part_all(a, argv[0]);
  std::fprintf(stderr, "snapshot_bench: --part must be compaction, restore or all\n");
  return 2;
}
