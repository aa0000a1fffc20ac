// kv-demo: the story of a replicated key-value store, told by running one.
//
// Three raft-kv processes on 127.0.0.1 under a temporary directory; 1,000
// writes; SIGKILL of the leader and the time to elect a new one; 1,000 more
// writes; the killed node restarted and catching up; the three replicas'
// digests compared with each other and with the digest the demo expects from
// what it wrote.  Exit status 0 when everything checks out.
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster.hpp"
#include "kv_client.hpp"
#include "kv_store.hpp"
#include "net.hpp"

namespace {

using kv::Cluster;
using kv::NodeStatus;

std::uint64_t g_start_ms;

// The narrative: every line carries the seconds since the start.  A macro, so
// the compiler still checks each format string against its arguments.
#define say(...) kv::say_since(g_start_ms, __VA_ARGS__)

std::string key_of(int i) {
  char k[32];
  std::snprintf(k, sizeof k, "key-%04d", i);
  return k;
}

std::string value_of(int i) {
  char v[32];
  std::snprintf(v, sizeof v, "value-%04d", i);
  return v;
}

// Writes keys [first, first + count) through the leader: 4 connections, 32
// requests in flight on each.  A PUT that is refused or whose outcome is
// unknown is simply sent again (it is idempotent: same key, same value).
bool write_keys(Cluster& cluster, int leader, int first, int count, int& retried,
                std::string& why) {
  constexpr int kConns = 4, kWindow = 32;
  std::mutex mu;
  std::vector<int> redo;
  std::vector<std::thread> threads;
  for (int t = 0; t < kConns; ++t) {
    threads.emplace_back([&, t] {
      kv::LineConn conn;
      std::vector<int> mine;
      for (int i = first + t; i < first + count; i += kConns) mine.push_back(i);
      std::vector<int> failed;
      const bool open = conn.open(cluster.node(leader).client, 2000);
      for (std::size_t at = 0; at < mine.size(); at += kWindow) {
        const std::size_t end = std::min(mine.size(), at + kWindow);
        std::string batch;
        for (std::size_t j = at; j < end; ++j)
          batch += "PUT " + key_of(mine[j]) + " " + value_of(mine[j]) + "\n";
        bool ok = open && conn.write_all(batch, 5000);
        for (std::size_t j = at; j < end; ++j) {
          std::string reply;
          ok = ok && conn.read_line(reply, 8000);
          if (!ok || reply != "OK") failed.push_back(mine[j]);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      redo.insert(redo.end(), failed.begin(), failed.end());
    });
  }
  for (auto& th : threads) th.join();
  retried = static_cast<int>(redo.size());
  kv::KvClient client(cluster.client_addresses(), 5000);
  for (int i : redo) {
    std::string reply;
    if (client.call("PUT " + key_of(i) + " " + value_of(i), reply, 10000) != kv::Outcome::kReply ||
        reply != "OK") {
      why = "PUT " + key_of(i) + " failed: " + (reply.empty() ? "no reply" : reply);
      return false;
    }
  }
  return true;
}

void print_status(Cluster& cluster, int id) {
  NodeStatus st;
  if (cluster.status(id, st)) {
    say("    node %d  %-9s term %-3" PRIu64 " applied %-6" PRIu64 " keys %-5" PRIu64 " digest %s",
        id, st.role.c_str(), st.term, st.applied, st.keys, st.digest.c_str());
  } else {
    say("    node %d  not running", id);
  }
}

int fail(Cluster& cluster, const std::string& why) {
  std::printf("\nDEMO FAILED: %s\n", why.c_str());
  for (int id = 1; id <= cluster.size(); ++id)
    std::printf("  last lines of node %d's log (%s):\n%s", id, cluster.log_path(id).c_str(),
                cluster.log_tail(id, 8).c_str());
  cluster.stop_all();
  std::printf("(work directory kept: %s)\n", cluster.dir().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin_dir = ".";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--bin-dir") == 0) bin_dir = argv[i + 1];
  }
  g_start_ms = kv::now_ms();
  Cluster cluster;
  std::string why;
  if (!cluster.init(bin_dir, 3, "raft-kv-demo", why)) {
    std::fprintf(stderr, "kv-demo: %s\n", why.c_str());
    return 1;
  }

  std::printf("raft-kv demo: a key-value store replicated by libraft across 3 processes.\n");
  std::printf("Work directory %s (one data directory and one log per node).\n",
              cluster.dir().c_str());
  std::printf("Each node is started like this (node 1 shown):\n ");
  for (const std::string& a : cluster.command(1)) std::printf(" %s", a.c_str());
  std::printf("\n\n");

  // 1. Start and elect.
  say("starting nodes 1, 2 and 3");
  const std::uint64_t t_start = kv::now_ms();
  if (!cluster.start_all(why)) return fail(cluster, why);
  const int leader = cluster.wait_leader(10000);
  if (leader == 0) return fail(cluster, "no leader elected within 10 s");
  const double first_election = (kv::now_ms() - t_start) / 1000.0;
  say("node %d is the leader (elected %.2f s after start)", leader, first_election);

  // 2. 1,000 writes.
  say("writing key-0000 .. key-0999 through the leader (4 connections, pipelined)");
  std::uint64_t t0 = kv::now_ms();
  int retried1 = 0;
  if (!write_keys(cluster, leader, 0, 1000, retried1, why)) return fail(cluster, why);
  double secs = (kv::now_ms() - t0) / 1000.0;
  say("1000 writes acknowledged in %.2f s (%.0f writes/s); each was applied before its OK", secs,
      1000 / secs);
  kv::KvClient reader(cluster.client_addresses(), 3000);
  std::string reply;
  reader.call("GET key-0500", reply, 3000);
  say("GET key-0500 -> %s", reply.c_str());
  if (reply != "VALUE " + value_of(500)) return fail(cluster, "unexpected read: " + reply);
  if (!cluster.wait_converged(10000)) return fail(cluster, "replicas did not converge");
  say("all three replicas have applied the writes:");
  for (int id = 1; id <= 3; ++id) print_status(cluster, id);

  // 3. Kill the leader.
  say("SIGKILL the leader, node %d (pid %d): no goodbye, no flush", leader,
      static_cast<int>(cluster.pid(leader)));
  t0 = kv::now_ms();
  cluster.kill9(leader);
  const int leader2 = cluster.wait_leader(10000, leader);
  if (leader2 == 0) return fail(cluster, "no new leader within 10 s of the kill");
  const double failover = (kv::now_ms() - t0) / 1000.0;
  say("node %d took over as leader %.3f s after the kill", leader2, failover);

  // 4. 1,000 more writes without the old leader.
  say("writing key-1000 .. key-1999 while node %d is down", leader);
  t0 = kv::now_ms();
  int retried2 = 0;
  if (!write_keys(cluster, leader2, 1000, 1000, retried2, why)) return fail(cluster, why);
  secs = (kv::now_ms() - t0) / 1000.0;
  say("1000 writes acknowledged in %.2f s by the two remaining nodes (a majority)", secs);

  // 5. Restart the killed node and watch it catch up.
  NodeStatus lead;
  if (!cluster.status(leader2, lead)) return fail(cluster, "the leader stopped answering");
  say("restarting node %d on its old data directory; the leader's commit index is %" PRIu64, leader,
      lead.commit);
  t0 = kv::now_ms();
  if (!cluster.start(leader, why)) return fail(cluster, why);
  std::uint64_t last_shown = UINT64_MAX;
  bool caught_up = false;
  while (kv::now_ms() - t0 < 15000) {
    NodeStatus st;
    if (cluster.status(leader, st, 200) && st.applied != last_shown) {
      last_shown = st.applied;
      say("    node %d: applied %" PRIu64 " of %" PRIu64 " (%" PRIu64 " keys)", leader, st.applied,
          lead.commit, st.keys);
      if (st.applied >= lead.commit) {
        caught_up = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!caught_up) return fail(cluster, "the restarted node did not catch up within 15 s");
  const double catch_up = (kv::now_ms() - t0) / 1000.0;
  say("node %d caught up %.2f s after its restart (its own log replayed, the rest sent by node %d)",
      leader, catch_up, leader2);

  // 6. Compare the replicas.
  if (!cluster.wait_converged(10000)) return fail(cluster, "replicas did not converge");
  std::uint64_t expected = 0;
  for (int i = 0; i < 2000; ++i) expected += kv::pair_hash(key_of(i), value_of(i));
  char expected_hex[17];
  std::snprintf(expected_hex, sizeof expected_hex, "%016" PRIx64, expected);
  say("the three replicas now (digest = sum of a hash of every key/value pair):");
  bool same = true;
  for (int id = 1; id <= 3; ++id) {
    NodeStatus st;
    same = same && cluster.status(id, st) && st.digest == expected_hex && st.keys == 2000;
    print_status(cluster, id);
  }
  say("expected digest of the 2000 keys written: %s -> %s", expected_hex,
      same ? "all three match" : "MISMATCH");
  if (!same) return fail(cluster, "the replicas differ from each other or from what was written");

  // 7. Stop.
  say("stopping the cluster with SIGTERM");
  bool clean = true;
  for (int id = 1; id <= 3; ++id) clean = cluster.stop(id, 5000) && clean;
  if (!clean) return fail(cluster, "a node did not exit cleanly on SIGTERM");

  std::printf("\nSummary\n");
  std::printf("  first election             %.2f s after start\n", first_election);
  std::printf("  writes acknowledged        2000 (%d resent after a refusal or unknown outcome)\n",
              retried1 + retried2);
  std::printf("  failover after SIGKILL     %.3f s (kill of node %d -> node %d leads)\n", failover,
              leader, leader2);
  std::printf("  catch-up after restart     %.2f s\n", catch_up);
  std::printf("  replicas identical         yes, digest %s, 2000 keys\n", expected_hex);
  std::printf("  total time                 %.1f s; every process stopped\n",
              (kv::now_ms() - g_start_ms) / 1000.0);
  cluster.remove_dir();
  return 0;
}
