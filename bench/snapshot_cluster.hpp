// A cluster of libraft nodes in one process for the snapshot benchmark: like
// bench/raft_cluster.hpp (whose in-memory transport, clock and helpers it
// uses), plus what that one lacks -- snapshot callbacks into a StateMachine
// of the benchmark's choosing, and taking one node down, wiping its
// data_dir and bringing it back while the others run.  Public C API only.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "mem_transport.hpp"
#include "raft.h"
#include "snapshot_state.hpp"

namespace bench {

[[noreturn]] inline void snap_fail(const std::string& why) {
  std::fprintf(stderr, "snapshot_bench: %s\n", why.c_str());
  std::exit(1);
}

struct SnapConfig {
  std::size_t nodes = 3;
  bool threaded = false;  // one raft_node_run thread per node instead of polling
  std::string data_dir;   // this run's own: one subdirectory per node, deleted at the end
  std::uint64_t snapshot_interval = 0;
  std::uint64_t snapshot_trailing = 0;  // 0: the library's default
  std::uint32_t max_snapshot_chunk_bytes = 0;
  int log_level = RAFT_LOG_WARN;
  std::function<std::unique_ptr<StateMachine>()> make_state;
};

class SnapCluster;

struct SnapNode {
  SnapCluster* cluster = nullptr;
  std::size_t index = 0;
  raft_id id = 0;
  std::string dir;
  // Threaded: senders on other nodes' threads read `node` under this lock,
  // so that a node can be destroyed while the others keep sending to it.
  std::mutex mu;
  raft_node* node = nullptr;
  std::thread thread;
  Inbox inbox;
  std::unique_ptr<StateMachine> state;  // touched by the node's loop only
  std::atomic<std::uint64_t> applied{0};
  std::atomic<raft_id> leader_view{0};
  std::atomic<std::uint64_t> bad_entries{0};
  std::atomic<std::uint64_t> saves{0};  // snapshots completed by snapshot_save
  std::atomic<std::uint64_t> loads{0};
  std::atomic<std::uint64_t> load_ns{0};  // wall time in the last snapshot_load
  std::atomic<std::uint64_t> save_ns{0};  // wall time of the last save, first step to last
  std::uint64_t save_index = 0, save_start_ns = 0;
  // From a save's last step to the node's next callback: the library's
  // snapshot_commit (a durable write of the whole snapshot) and compaction,
  // during which the loop sends nothing.  The largest seen.
  std::atomic<std::uint64_t> save_done_ns{0}, max_commit_ns{0};
  // Frames delivered to this node, by wire message type (docs/wire-format.md):
  // evidence for a stall report.
  std::atomic<std::uint64_t> delivered[8] = {};
};

class SnapCluster {
 public:
  explicit SnapCluster(const SnapConfig& cfg) : cfg_(cfg) {
    for (std::size_t i = 0; i < cfg.nodes; ++i) {
      auto n = std::make_unique<SnapNode>();
      n->cluster = this;
      n->index = i;
      n->id = i + 1;
      n->dir = cfg.data_dir + "/n" + std::to_string(n->id);
      n->inbox.set_threaded(cfg.threaded);
      nodes_.push_back(std::move(n));
    }
    for (std::size_t i = 0; i < cfg.nodes; ++i) wipe(i);
    for (std::size_t i = 0; i < cfg.nodes; ++i) start(i);
  }
  ~SnapCluster() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) stop(i);
    // The node directories and the run's own directory (named after the pid).
    std::filesystem::remove_all(cfg_.data_dir);
  }
  SnapCluster(const SnapCluster&) = delete;
  SnapCluster& operator=(const SnapCluster&) = delete;

  std::size_t size() const { return nodes_.size(); }
  SnapNode& node(std::size_t i) { return *nodes_[i]; }

  // Creates node i on whatever its data_dir holds and, threaded, starts its loop.
  void start(std::size_t i) {
    SnapNode& n = *nodes_[i];
    std::vector<raft_id> peers;
    for (std::size_t j = 0; j < nodes_.size(); ++j)
      if (j != i) peers.push_back(j + 1);
    raft_options opt;
    raft_options_init(&opt);
    opt.id = n.id;
    opt.peers = peers.data();
    opt.n_peers = peers.size();
    opt.cluster_id = 7;
    opt.random_seed = 0x5eed;
    opt.data_dir = n.dir.c_str();
    opt.snapshot_interval = cfg_.snapshot_interval;
    opt.log_level = static_cast<raft_log_level>(cfg_.log_level);
    if (cfg_.snapshot_trailing != 0) opt.snapshot_trailing = cfg_.snapshot_trailing;
    if (cfg_.max_snapshot_chunk_bytes != 0)
      opt.max_snapshot_chunk_bytes = cfg_.max_snapshot_chunk_bytes;
    raft_callbacks cb;
    raft_callbacks_init(&cb);
    cb.apply = apply;
    cb.send = send;
    cb.receive = receive;
    cb.leader = leader;
    cb.log = log;
    cb.snapshot_save = save;
    cb.snapshot_load = load;
    raft_node* node = nullptr;
    const int rc = raft_node_create(&node, &opt, &cb, &n);
    if (rc != RAFT_OK) snap_fail(std::string("raft_node_create: ") + raft_strerror(rc));
    {
      std::lock_guard<std::mutex> lock(n.mu);
      n.node = node;
    }
    if (cfg_.threaded) {
      n.thread = std::thread([node] {
        const int r = raft_node_run(node);
        if (r != RAFT_OK && r != RAFT_ESHUTDOWN)
          snap_fail(std::string("raft_node_run: ") + raft_strerror(r));
      });
    }
  }

  // Stops and destroys node i; its data_dir stays.
  void stop(std::size_t i) {
    SnapNode& n = *nodes_[i];
    if (n.node == nullptr) return;
    raft_node_stop(n.node);
    if (n.thread.joinable()) n.thread.join();
    raft_node* node;
    {
      std::lock_guard<std::mutex> lock(n.mu);
      node = n.node;
      n.node = nullptr;
    }
    raft_node_destroy(node);
    const void* msg;
    std::size_t len;
    while (n.inbox.pop(&msg, &len) == 1) {
    }
  }

  // A stopped node forgets everything: data_dir and state machine.
  void wipe(std::size_t i) {
    SnapNode& n = *nodes_[i];
    std::filesystem::remove_all(n.dir);
    n.state = cfg_.make_state();
    n.applied = 0;
    n.leader_view = 0;
    n.save_index = 0;
    n.saves = 0;
    n.loads = 0;
    for (auto& d : n.delivered) d = 0;
  }

  // Polled clusters: one turn of every node; the earliest deadline.
  std::uint64_t poll_all(std::uint64_t now_ms) {
    std::uint64_t deadline = UINT64_MAX;
    for (std::size_t k = 0; k < nodes_.size(); ++k) {
      SnapNode& n = *nodes_[(leader_ + k) % nodes_.size()];
      if (n.node == nullptr) continue;
      std::uint64_t d = UINT64_MAX;
      const int rc = raft_node_poll(n.node, now_ms, &d);
      if (rc != RAFT_OK)
        snap_fail("raft_node_poll on node " + std::to_string(n.id) + ": " + raft_strerror(rc) +
                  " (" + raft_node_errmsg(n.node) + ")");
      deadline = std::min(deadline, d);
    }
    return deadline;
  }

  // Messages plus entries applied: unchanged over a round means idle.
  std::uint64_t progress() const {
    std::uint64_t p = 0;
    for (const auto& n : nodes_) p += n->inbox.messages() + n->applied.load();
    return p;
  }

  raft_status status(std::size_t i) {
    raft_status st;
    raft_status_init(&st);
    std::lock_guard<std::mutex> lock(nodes_[i]->mu);
    if (nodes_[i]->node != nullptr) raft_node_status(nodes_[i]->node, &st);
    return st;
  }

  // One leader that every running node follows and whose log all have applied.
  bool find_leader() {
    std::size_t leaders = 0, li = 0;
    std::vector<raft_status> st;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      st.push_back(status(i));
      if (st[i].role == RAFT_LEADER) {
        ++leaders;
        li = i;
      }
    }
    if (leaders != 1) return false;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i]->node == nullptr) continue;
      if (st[i].leader != li + 1 || nodes_[i]->leader_view.load() != li + 1) return false;
      if (st[i].applied_index < st[li].last_index || st[i].term != st[li].term) return false;
    }
    leader_ = li;
    return true;
  }
  std::size_t leader_index() const { return leader_; }
  raft_node* leader() { return nodes_[leader_]->node; }
  bool leader_stable() const {
    for (const auto& n : nodes_)
      if (n->node != nullptr && n->leader_view.load() != leader_ + 1) return false;
    return true;
  }

  std::uint64_t min_applied() const {
    std::uint64_t m = UINT64_MAX;
    for (const auto& n : nodes_) m = std::min(m, n->applied.load());
    return m;
  }
  std::uint64_t bad_entries() const {
    std::uint64_t b = 0;
    for (const auto& n : nodes_) b += n->bad_entries.load();
    return b;
  }
  std::uint64_t saves() const {
    std::uint64_t s = 0;
    for (const auto& n : nodes_) s += n->saves.load();
    return s;
  }

  // Total size of the files under every node's data_dir, and their count.
  std::uint64_t disk_bytes(std::uint64_t* files = nullptr) const {
    std::uint64_t bytes = 0, count = 0;
    for (const auto& n : nodes_) {
      std::error_code ec;
      for (auto it = std::filesystem::recursive_directory_iterator(n->dir, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        struct stat sb;
        // lstat: a file deleted by the node since the listing is skipped.
        if (::lstat(it->path().c_str(), &sb) == 0 && S_ISREG(sb.st_mode)) {
          bytes += static_cast<std::uint64_t>(sb.st_size);
          ++count;
        }
      }
    }
    if (files != nullptr) *files = count;
    return bytes;
  }

 private:
  static void loop_back(SnapNode& n) {
    const std::uint64_t done = n.save_done_ns.load(std::memory_order_relaxed);
    if (done == 0) return;
    n.max_commit_ns = std::max(n.max_commit_ns.load(), now_ns() - done);
    n.save_done_ns = 0;
  }
  static void apply(std::uint64_t id, const void* data, std::size_t len, void* user) {
    auto* n = static_cast<SnapNode*>(user);
    loop_back(*n);
    if (!n->state->apply(id, data, len)) ++n->bad_entries;
    n->applied.store(n->state->applied());
  }
  static void send(raft_id to, const void* msg, std::size_t len, void* user) {
    loop_back(*static_cast<SnapNode*>(user));
    SnapCluster& cl = *static_cast<SnapNode*>(user)->cluster;
    if (to == 0 || to > cl.nodes_.size()) return;
    SnapNode& dst = *cl.nodes_[to - 1];
    if (!cl.cfg_.threaded) {
      if (dst.node != nullptr) dst.inbox.push(msg, len);
      return;
    }
    std::lock_guard<std::mutex> lock(dst.mu);
    if (dst.node == nullptr) return;  // down: the message is lost
    if (len > 5) ++dst.delivered[static_cast<const std::uint8_t*>(msg)[5] & 7];
    dst.inbox.push(msg, len);
    raft_node_notify(dst.node);
  }
  static int receive(const void** msg, std::size_t* len, void* user) {
    return static_cast<SnapNode*>(user)->inbox.pop(msg, len);
  }
  static void leader(raft_id id, void* user) { static_cast<SnapNode*>(user)->leader_view = id; }
  static void log(raft_log_level level, const char* msg, void* user) {
    std::fprintf(stderr, "node %llu [%d]: %s\n",
                 static_cast<unsigned long long>(static_cast<SnapNode*>(user)->id), level, msg);
  }
  static int save(raft_snapshot_writer* w, std::uint64_t index, void* user) {
    auto* n = static_cast<SnapNode*>(user);
    if (index != n->save_index) {
      n->save_index = index;
      n->save_start_ns = now_ns();
    }
    const int rc = n->state->save(w, index);
    if (rc == RAFT_OK) {
      n->save_done_ns = now_ns();
      n->save_ns = n->save_done_ns - n->save_start_ns;
      ++n->saves;
    }
    return rc;
  }
  static int load(raft_snapshot_reader* r, std::uint64_t index, void* user) {
    auto* n = static_cast<SnapNode*>(user);
    const std::uint64_t t0 = now_ns();
    const int rc = n->state->load(r, index);
    n->load_ns = now_ns() - t0;
    ++n->loads;
    if (rc != RAFT_OK)
      std::fprintf(stderr, "node %llu: snapshot_load at %llu failed: %s\n",
                   static_cast<unsigned long long>(n->id), static_cast<unsigned long long>(index),
                   raft_strerror(rc));
    n->applied.store(n->state->applied());
    return rc;
  }

  SnapConfig cfg_;
  std::vector<std::unique_ptr<SnapNode>> nodes_;
  std::size_t leader_ = 0;
};

}  // namespace bench
