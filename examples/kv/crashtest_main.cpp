// kv-crashtest: three raft-kv processes, concurrent clients, and repeated
// SIGKILL + restart of a random node (every other time the leader) for a
// fixed time.  Afterwards:
//   - every write that was acknowledged (OK) reads back with its value;
//   - every write that was refused (REDIRECT, ERR NOLEADER, ERR BUSY) is absent;
//   - a counter incremented by CAS holds a value between the number of
//     acknowledged increments and that plus the unknown ones;
//   - during the run, a read of an acknowledged key never missed it
//     (reads are linearizable);
//   - all three nodes have applied the same log and hold the same digest.
// Each write uses a fresh key, so presence or absence decides its fate.
// Exit status 0 when all of that holds.
#include <atomic>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cluster.hpp"
#include "config.hpp"
#include "kv_client.hpp"
#include "net.hpp"

namespace {

using kv::Cluster;
using kv::LineConn;
using kv::NodeStatus;

std::uint64_t g_start_ms;

// The narrative: every line carries the seconds since the start.  A macro, so
// the compiler still checks each format string against its arguments.
#define say(...) kv::say_since(g_start_ms, __VA_ARGS__)

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// What the clients observed, shared between their threads.
struct Ledger {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> acked;  // key, value
  std::vector<std::string> refused;
  std::uint64_t unknown = 0, redirects = 0;
  std::uint64_t cas_acked = 0, cas_unknown = 0, cas_mismatch = 0;
  std::uint64_t reads_checked = 0;
  std::vector<std::string> violations;

  void violation(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    if (violations.size() < 20) violations.push_back(what);
  }
};

// A client that talks to one node at a time and follows redirects by hand,
// so that every refusal is seen (and recorded) rather than retried away.
class Session {
 public:
  Session(const std::vector<kv::Address>& nodes, unsigned seed)
      : nodes_(nodes), rng_(seed), target_(rng_() % nodes.size()) {}

  enum class Sent { kReply, kNotSent, kLost };

  Sent request(const std::string& line, std::string& reply) {
    if (!conn_.is_open() && !conn_.open(nodes_[target_], 300)) {
      hop();
      sleep_ms(20);
      return Sent::kNotSent;
    }
    if (!conn_.write_all(line + "\n", 2000) || !conn_.read_line(reply, 8000)) {
      hop();
      return Sent::kLost;
    }
    kv::Address to;
    if (kv::parse_redirect(reply, to)) {
      conn_.close();
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].str() == to.str()) target_ = i;
      }
    } else if (reply.compare(0, 4, "ERR ") == 0 && reply.compare(0, 11, "ERR UNKNOWN") != 0) {
      hop();
      sleep_ms(20);
    }
    return Sent::kReply;
  }

 private:
  void hop() {
    conn_.close();
    target_ = rng_() % nodes_.size();
  }

  std::vector<kv::Address> nodes_;
  std::mt19937 rng_;
  std::size_t target_;
  LineConn conn_;
};

bool definite_refusal(const std::string& reply) {
  return reply.compare(0, 9, "REDIRECT ") == 0 || reply == "ERR NOLEADER" ||
         reply.compare(0, 8, "ERR BUSY") == 0;
}

void writer(int w, const std::vector<kv::Address>& nodes, Ledger& ledger,
            const std::atomic<bool>& stop) {
  Session s(nodes, static_cast<unsigned>(w * 7919 + kv::now_us()));
  for (std::uint64_t n = 0; !stop; ++n) {
    const std::string key = "w" + std::to_string(w) + "-" + std::to_string(n);
    const std::string value = "v" + std::to_string(n) + "-" + std::to_string(w);
    std::string reply;
    const Session::Sent sent = s.request("PUT " + key + " " + value, reply);
    std::lock_guard<std::mutex> lock(ledger.mu);
    if (sent == Session::Sent::kNotSent) continue;  // never left: no record needed
    if (sent == Session::Sent::kLost || reply.compare(0, 11, "ERR UNKNOWN") == 0) {
      ++ledger.unknown;
    } else if (reply == "OK") {
      ledger.acked.emplace_back(key, value);
    } else if (definite_refusal(reply)) {
      ledger.refused.push_back(key);
      if (reply[0] == 'R') ++ledger.redirects;
    } else if (ledger.violations.size() < 20) {
      ledger.violations.push_back("PUT " + key + ": unexpected reply '" + reply + "'");
    }
  }
}

// Reads keys whose PUT was acknowledged before the read was sent: a
// linearizable store must return exactly that value.
void reader(const std::vector<kv::Address>& nodes, Ledger& ledger, const std::atomic<bool>& stop) {
  Session s(nodes, static_cast<unsigned>(kv::now_us()));
  std::mt19937 rng(99);
  while (!stop) {
    std::pair<std::string, std::string> kvp;
    {
      std::lock_guard<std::mutex> lock(ledger.mu);
      if (ledger.acked.empty()) {
        kvp.first.clear();
      } else {
        kvp = ledger.acked[rng() % ledger.acked.size()];
      }
    }
    if (kvp.first.empty()) {
      sleep_ms(10);
      continue;
    }
    std::string reply;
    if (s.request("GET " + kvp.first, reply) != Session::Sent::kReply) continue;
    if (definite_refusal(reply) || reply.compare(0, 11, "ERR UNKNOWN") == 0) continue;
    if (reply != "VALUE " + kvp.second) {
      ledger.violation("GET " + kvp.first + " after its PUT was acknowledged: '" + reply +
                       "', expected VALUE " + kvp.second);
    } else {
      std::lock_guard<std::mutex> lock(ledger.mu);
      ++ledger.reads_checked;
    }
  }
}

// Increments "counter" with read + CAS.
void counter(const std::vector<kv::Address>& nodes, Ledger& ledger, const std::atomic<bool>& stop) {
  Session s(nodes, static_cast<unsigned>(kv::now_us() * 3));
  while (!stop) {
    std::string reply;
    if (s.request("GET counter", reply) != Session::Sent::kReply) continue;
    std::uint64_t n = 0;
    if (reply.compare(0, 6, "VALUE ") != 0 || !kv::parse_u64(reply.substr(6), n)) continue;
    const Session::Sent sent =
        s.request("CAS counter " + std::to_string(n) + " " + std::to_string(n + 1), reply);
    std::lock_guard<std::mutex> lock(ledger.mu);
    if (sent == Session::Sent::kNotSent) continue;
    if (sent == Session::Sent::kLost || reply.compare(0, 11, "ERR UNKNOWN") == 0) {
      ++ledger.cas_unknown;
    } else if (reply == "OK") {
      ++ledger.cas_acked;
    } else if (reply.compare(0, 9, "MISMATCH ") == 0) {
      ++ledger.cas_mismatch;
    } else if (!definite_refusal(reply) && ledger.violations.size() < 20) {
      ledger.violations.push_back("CAS counter: unexpected reply '" + reply + "'");
    }
  }
}

int fail(Cluster& cluster, const std::string& why) {
  std::printf("\nCRASH TEST FAILED: %s\n", why.c_str());
  for (int id = 1; id <= cluster.size(); ++id)
    std::printf("  last lines of node %d's log (%s):\n%s", id, cluster.log_path(id).c_str(),
                cluster.log_tail(id, 12).c_str());
  cluster.stop_all();
  std::printf("(work directory kept: %s)\n", cluster.dir().c_str());
  return 1;
}

// Pipelined GETs on the leader; `expect` is the exact reply each must get.
bool verify(Cluster& cluster, int leader, const std::vector<std::string>& keys,
            const std::vector<std::string>& expect, std::string& why) {
  LineConn conn;
  if (!conn.open(cluster.node(leader).client, 2000)) {
    why = "cannot connect to the leader";
    return false;
  }
  constexpr std::size_t kWindow = 256;
  for (std::size_t at = 0; at < keys.size(); at += kWindow) {
    const std::size_t end = std::min(keys.size(), at + kWindow);
    std::string batch;
    for (std::size_t i = at; i < end; ++i) batch += "GET " + keys[i] + "\n";
    if (!conn.write_all(batch, 5000)) {
      why = "lost the leader during verification";
      return false;
    }
    for (std::size_t i = at; i < end; ++i) {
      std::string reply;
      if (!conn.read_line(reply, 10000)) {
        why = "lost the leader during verification";
        return false;
      }
      if (reply != expect[i]) {
        why = "GET " + keys[i] + " -> '" + reply + "', expected '" + expect[i] + "'";
        return false;
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin_dir = ".";
  double seconds = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--bin-dir") == 0) bin_dir = argv[i + 1];
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atof(argv[i + 1]);
  }
  if (!(seconds >= 1 && seconds <= 3600)) {
    std::fprintf(stderr, "usage: kv-crashtest [--bin-dir DIR] [--seconds 1..3600]\n");
    return 2;
  }
  g_start_ms = kv::now_ms();
  Cluster cluster;
  std::string why;
  if (!cluster.init(bin_dir, 3, "raft-kv-crashtest", why)) {
    std::fprintf(stderr, "kv-crashtest: %s\n", why.c_str());
    return 1;
  }
  // Unknown outcomes are resolved by a timeout: keep it short so that a
  // client stuck on a dead leader moves on quickly.
  // Frequent snapshots: kills land before, during and after them, and
  // restarted or lagging nodes load or install them.
  cluster.set_extra_args({"--request-timeout-ms", "2000", "--snapshot-interval", "500"});
  say("3 nodes under %s, loopback ports %u..%u", cluster.dir().c_str(), cluster.node(1).raft.port,
      cluster.node(3).client.port);
  if (!cluster.start_all(why)) return fail(cluster, why);
  if (cluster.wait_leader(10000) == 0) return fail(cluster, "no leader within 10 s");
  kv::KvClient setup(cluster.client_addresses(), 3000);
  std::string reply;
  if (setup.call("PUT counter 0", reply, 10000) != kv::Outcome::kReply || reply != "OK")
    return fail(cluster, "cannot initialise the counter: " + reply);

  const std::vector<kv::Address> nodes = cluster.client_addresses();
  Ledger ledger;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  constexpr int kWriters = 4;
  for (int w = 0; w < kWriters; ++w)
    clients.emplace_back(writer, w, std::cref(nodes), std::ref(ledger), std::cref(stop));
  clients.emplace_back(reader, std::cref(nodes), std::ref(ledger), std::cref(stop));
  clients.emplace_back(counter, std::cref(nodes), std::ref(ledger), std::cref(stop));
  say("%d writers, 1 reader and 1 CAS counter running; SIGKILL + restart for %.0f s", kWriters,
      seconds);

  std::mt19937 rng(static_cast<unsigned>(kv::now_us()));
  const std::uint64_t end = kv::now_ms() + static_cast<std::uint64_t>(seconds * 1000);
  int kills = 0, leader_kills = 0;
  std::vector<double> failovers;
  std::string trouble;
  while (kv::now_ms() < end && trouble.empty()) {
    sleep_ms(500 + static_cast<int>(rng() % 1000));
    for (int id = 1; id <= 3; ++id) {
      if (!cluster.running(id)) trouble = "node " + std::to_string(id) + " exited by itself";
    }
    if (!trouble.empty()) break;
    if (kills == 4) {
      // Once: the whole cluster at once.  Acknowledged writes were synced on
      // a majority, so they must survive a crash of every node.
      for (int id = 1; id <= 3; ++id) cluster.kill9(id);
      ++kills;
      say("killed all three nodes at once; restarting them");
      for (int id = 1; id <= 3 && trouble.empty(); ++id) cluster.start(id, trouble);
      const std::uint64_t t0 = kv::now_ms();
      if (trouble.empty() && cluster.wait_leader(10000) == 0)
        trouble = "no leader within 10 s of restarting the whole cluster";
      if (trouble.empty())
        say("node %d leads %.3f s after the restart", cluster.wait_leader(100),
            (kv::now_ms() - t0) / 1000.0);
      continue;
    }
    const int leader = cluster.wait_leader(3000);
    const bool kill_leader = kills % 2 == 0 && leader != 0;
    const int victim = kill_leader ? leader : 1 + static_cast<int>(rng() % 3);
    const std::uint64_t t0 = kv::now_ms();
    cluster.kill9(victim);
    ++kills;
    if (victim == leader) {
      ++leader_kills;
      const int next = cluster.wait_leader(10000, victim);
      if (next == 0) {
        trouble = "no leader within 10 s of killing node " + std::to_string(victim);
        break;
      }
      failovers.push_back((kv::now_ms() - t0) / 1000.0);
      say("killed leader %d; node %d leads after %.3f s", victim, next, failovers.back());
    } else {
      say("killed follower %d", victim);
    }
    sleep_ms(200 + static_cast<int>(rng() % 800));
    if (!cluster.start(victim, trouble)) break;
  }
  stop = true;
  for (auto& t : clients) t.join();
  if (!trouble.empty()) return fail(cluster, trouble);

  // Settle: everyone up, a leader, one more write, the same log everywhere.
  for (int id = 1; id <= 3; ++id) {
    if (!cluster.start(id, why)) return fail(cluster, why);
  }
  const int leader = cluster.wait_leader(10000);
  if (leader == 0) return fail(cluster, "no leader after the run");
  // The barrier is idempotent, so an unknown outcome (a connection to a node
  // killed earlier) is simply retried.
  kv::KvClient settle(cluster.client_addresses(), 3000);
  bool barrier = false;
  for (int attempt = 0; attempt < 5 && !barrier; ++attempt)
    barrier = settle.call("PUT barrier done", reply, 10000) == kv::Outcome::kReply && reply == "OK";
  if (!barrier) return fail(cluster, "the final write failed: " + reply);
  if (!cluster.wait_converged(20000))
    return fail(cluster, "the nodes did not converge to the same applied index and digest");
  say("settled: %d kills (%d of the leader); all nodes at the same index and digest", kills,
      leader_kills);

  if (!ledger.violations.empty()) return fail(cluster, ledger.violations.front());
  std::vector<std::string> keys, expect;
  for (const auto& [k, v] : ledger.acked) {
    keys.push_back(k);
    expect.push_back("VALUE " + v);
  }
  for (const std::string& k : ledger.refused) {
    keys.push_back(k);
    expect.push_back("NOTFOUND");
  }
  const int final_leader = cluster.wait_leader(5000);
  if (final_leader == 0 || !verify(cluster, final_leader, keys, expect, why))
    return fail(cluster, why.empty() ? "no leader for verification" : why);
  say("all %zu acknowledged writes present, all %zu refused writes absent", ledger.acked.size(),
      ledger.refused.size());

  kv::KvClient check(cluster.client_addresses(), 3000);
  std::uint64_t count = 0;
  if (check.call("GET counter", reply, 5000) != kv::Outcome::kReply ||
      reply.compare(0, 6, "VALUE ") != 0 || !kv::parse_u64(reply.substr(6), count))
    return fail(cluster, "GET counter: " + reply);
  if (count < ledger.cas_acked || count > ledger.cas_acked + ledger.cas_unknown)
    return fail(cluster, "counter is " + std::to_string(count) + ", but " +
                             std::to_string(ledger.cas_acked) +
                             " increments were acknowledged and " +
                             std::to_string(ledger.cas_unknown) + " unknown");
  say("counter = %" PRIu64 " (acknowledged increments %" PRIu64 ", unknown %" PRIu64 ")", count,
      ledger.cas_acked, ledger.cas_unknown);

  bool clean = true;
  for (int id = 1; id <= 3; ++id) clean = cluster.stop(id, 5000) && clean;
  if (!clean) return fail(cluster, "a node did not exit cleanly on SIGTERM");

  double sum = 0, worst = 0;
  for (double f : failovers) {
    sum += f;
    worst = std::max(worst, f);
  }
  std::printf("\nCrash test passed in %.1f s\n", (kv::now_ms() - g_start_ms) / 1000.0);
  std::printf("  kills                %d (%d of the leader)\n", kills, leader_kills);
  std::printf("  failover             mean %.3f s, worst %.3f s\n",
              failovers.empty() ? 0.0 : sum / failovers.size(), worst);
  std::printf("  writes               %zu acknowledged, %zu refused (%" PRIu64
              " redirects), %" PRIu64 " unknown\n",
              ledger.acked.size(), ledger.refused.size(), ledger.redirects, ledger.unknown);
  std::printf("  linearizable reads   %" PRIu64 " checked during the run\n", ledger.reads_checked);
  std::printf("  CAS increments       %" PRIu64 " acknowledged, %" PRIu64 " mismatched, %" PRIu64
              " unknown; counter %" PRIu64 "\n",
              ledger.cas_acked, ledger.cas_mismatch, ledger.cas_unknown, count);
  cluster.remove_dir();
  return 0;
}
