// A cluster of libraft nodes in one process, connected by the in-memory
// transport, driven either by one thread calling raft_node_poll on every node
// in turn or by one raft_node_run thread per node.  Only the public C API is
// used, exactly as an application would.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.hpp"
#include "mem_transport.hpp"
#include "raft.h"

namespace bench {

struct ClusterConfig {
  std::size_t nodes = 3;
  bool threaded = false;              // raft_node_run threads instead of polling
  std::string data_dir;               // empty: memory storage; else one subdirectory per node
  std::uint64_t max_queue_bytes = 0;  // 0: the library's defaults for these three
  std::uint32_t max_inflight = 0;
  std::uint32_t max_batch_bytes = 0;
  std::uint64_t snapshot_interval = 0;  // 0: no snapshots (the log is retained)
  std::uint64_t seed = 0x5eed;
  int check_quorum = 1;
  int pre_vote = 1;
};

class Cluster;

struct BenchNode {
  Cluster* cluster = nullptr;
  std::size_t index = 0;
  raft_id id = 0;
  raft_node* node = nullptr;
  Inbox inbox;
  std::atomic<std::uint64_t> applied{0};  // commands applied; written by the node's thread only
  std::atomic<raft_id> leader_view{0};
  std::uint64_t order_errors = 0;  // an apply out of sequence or with wrong bytes
};

class Cluster {
 public:
  explicit Cluster(const ClusterConfig& cfg);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  std::size_t size() const { return nodes_.size(); }
  BenchNode& node(std::size_t i) { return *nodes_[i]; }
  raft_node* leader() { return nodes_[leader_index_]->node; }
  std::size_t leader_index() const { return leader_index_; }

  // Single-thread driving: one turn of every node (leader first).  Returns
  // the earliest deadline any node asked for.
  std::uint64_t poll_all(std::uint64_t now_ms);
  std::uint64_t poll_one(std::size_t i, std::uint64_t now_ms);
  // Messages sent so far by everyone.
  std::uint64_t messages() const;
  // Messages sent plus entries applied: unchanged across a round means the
  // round did nothing and the driver may wait for the next deadline.
  std::uint64_t progress() const;
  std::size_t transport_buffer_bytes() const;

  // Poll until a leader is elected, every node agrees on it and has applied
  // the leader's first (no-op) entry.  Returns false after max_ms.
  bool elect_polling(Clock& clock, std::uint64_t max_ms);
  // raft_node_run threads: start them, wait for a stable leader, stop them.
  void start_threads();
  bool wait_leader_threaded(std::uint64_t max_ms);
  void stop_threads();

  std::uint64_t min_applied() const;
  // The elected leader still leads (every node still follows it).
  bool leader_stable() const;
  std::uint64_t order_errors() const;

  // Written by the leader's apply callback when it applies `awaited`.
  std::atomic<std::uint64_t> awaited{0};
  std::atomic<std::uint64_t> awaited_apply_ns{0};
  // Run mode: the callback signals these; the proposer waits on them.
  std::mutex mu;
  std::condition_variable cv;
  bool awaited_done = false;   // guarded by mu
  std::uint64_t target = 0;    // every node applies this many, then counts in done
  std::size_t done_nodes = 0;  // guarded by mu
  std::atomic<bool> halt{false};

 private:
  friend struct Callbacks;
  bool find_leader(std::size_t* index);

  ClusterConfig cfg_;
  std::vector<std::unique_ptr<BenchNode>> nodes_;
  std::vector<std::thread> threads_;
  std::size_t leader_index_ = 0;
};

}  // namespace bench
