#include "raft_cluster.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace bench {

// The callbacks receive the BenchNode as `user`.
struct Callbacks {
  static void apply(std::uint64_t id, const void* data, std::size_t len, void* user) {
    auto* n = static_cast<BenchNode*>(user);
    Cluster& cl = *n->cluster;
    const std::uint64_t seq = n->applied.load(std::memory_order_relaxed) + 1;
    // Entries carry their id in their first bytes: verify order and content
    // on every replica, so a fast but wrong run cannot pass.
    std::uint64_t stamp = 0, expect = seq;
    if (len >= sizeof stamp) {
      std::memcpy(&stamp, data, sizeof stamp);  // a fixed size: inlined, no libc call
    } else {
      // Byte by byte, not memcpy: a call here would cost the common path
      // its leaf-function shape.
      const auto* bytes = static_cast<const std::uint8_t*>(data);
      for (std::size_t i = 0; i < len; ++i) stamp |= std::uint64_t{bytes[i]} << (8 * i);
      expect = seq & ((1ull << (8 * len)) - 1);
    }
    if (id != seq || stamp != expect) ++n->order_errors;
    n->applied.store(seq, std::memory_order_release);
    if (cl.cfg_.threaded ||
        (n->index == cl.leader_index_ && id == cl.awaited.load(std::memory_order_relaxed)))
      signal(cl, *n, id, seq);
  }
  // apply's rare part, out of line so that the per-entry path stays a leaf
  // without register saves (it runs 3 million times in W1).
  [[gnu::noinline]] static void signal(Cluster& cl, const BenchNode& n, std::uint64_t id,
                                       std::uint64_t seq) {
    if (n.index == cl.leader_index_ && id == cl.awaited.load(std::memory_order_relaxed)) {
      cl.awaited_apply_ns.store(now_ns(), std::memory_order_relaxed);
      if (cl.cfg_.threaded) {
        std::lock_guard<std::mutex> lock(cl.mu);
        cl.awaited_done = true;
        cl.cv.notify_all();
      }
    }
    if (cl.cfg_.threaded && seq == cl.target) {
      std::lock_guard<std::mutex> lock(cl.mu);
      ++cl.done_nodes;
      cl.cv.notify_all();
    }
  }
  static void send(raft_id to, const void* msg, std::size_t len, void* user) {
    auto* n = static_cast<BenchNode*>(user);
    Cluster& cl = *n->cluster;
    if (to == 0 || to > cl.nodes_.size()) return;
    BenchNode& dst = *cl.nodes_[to - 1];
    dst.inbox.push(msg, len);
    if (cl.cfg_.threaded) raft_node_notify(dst.node);
  }
  static int receive(const void** msg, std::size_t* len, void* user) {
    return static_cast<BenchNode*>(user)->inbox.pop(msg, len);
  }
  static void leader(raft_id id, void* user) {
    static_cast<BenchNode*>(user)->leader_view.store(id, std::memory_order_relaxed);
  }
  static int halt(void* user) {
    return static_cast<BenchNode*>(user)->cluster->halt.load(std::memory_order_relaxed) ? 1 : 0;
  }
  // The state machine's state is its applied count: a snapshot is those
  // 8 bytes, so compaction costs the library's work and nothing else.
  static int snapshot_save(raft_snapshot_writer* w, std::uint64_t, void* user) {
    const std::uint64_t applied = static_cast<BenchNode*>(user)->applied.load();
    return raft_snapshot_write(w, &applied, sizeof applied);
  }
  static int snapshot_load(raft_snapshot_reader* r, std::uint64_t, void* user) {
    std::uint64_t applied = 0;
    if (raft_snapshot_read(r, &applied, sizeof applied) != sizeof applied) return RAFT_ECORRUPT;
    static_cast<BenchNode*>(user)->applied.store(applied);
    return RAFT_OK;
  }
  static void log(raft_log_level level, const char* msg, void* user) {
    std::fprintf(stderr, "node %llu [%d]: %s\n",
                 static_cast<unsigned long long>(static_cast<BenchNode*>(user)->id), level, msg);
  }
};

namespace {
[[noreturn]] void die(const char* what, int rc) {
  std::fprintf(stderr, "raft_bench: %s failed: %s\n", what, raft_strerror(rc));
  std::exit(1);
}
}  // namespace

Cluster::Cluster(const ClusterConfig& cfg) : cfg_(cfg) {
  const std::size_t n = cfg.nodes;
  for (std::size_t i = 0; i < n; ++i) {
    auto bn = std::make_unique<BenchNode>();
    bn->cluster = this;
    bn->index = i;
    bn->id = i + 1;
    bn->inbox.set_threaded(cfg.threaded);
    nodes_.push_back(std::move(bn));
  }
  for (std::size_t i = 0; i < n; ++i) {
    BenchNode& bn = *nodes_[i];
    std::vector<raft_id> peers;
    for (std::size_t j = 0; j < n; ++j)
      if (j != i) peers.push_back(j + 1);
    raft_options opt;
    raft_options_init(&opt);
    opt.id = bn.id;
    opt.peers = peers.data();
    opt.n_peers = peers.size();
    opt.cluster_id = 42;
    opt.random_seed = cfg.seed;
    opt.check_quorum = cfg.check_quorum;
    opt.pre_vote = cfg.pre_vote;
    if (cfg.max_queue_bytes != 0) opt.max_queue_bytes = cfg.max_queue_bytes;
    if (cfg.max_inflight != 0) opt.max_inflight = cfg.max_inflight;
    if (cfg.max_batch_bytes != 0) opt.max_batch_bytes = cfg.max_batch_bytes;
    opt.snapshot_interval = cfg.snapshot_interval;
    std::string dir;
    if (!cfg.data_dir.empty()) {
      dir = cfg.data_dir + "/n" + std::to_string(bn.id);
      std::filesystem::remove_all(dir);
      opt.data_dir = dir.c_str();
    }
    raft_callbacks cb;
    raft_callbacks_init(&cb);
    cb.apply = Callbacks::apply;
    cb.send = Callbacks::send;
    cb.receive = Callbacks::receive;
    cb.leader = Callbacks::leader;
    cb.halt = Callbacks::halt;
    cb.log = Callbacks::log;
    if (cfg.snapshot_interval != 0) {
      cb.snapshot_save = Callbacks::snapshot_save;
      cb.snapshot_load = Callbacks::snapshot_load;
    }
    const int rc = raft_node_create(&bn.node, &opt, &cb, &bn);
    if (rc != RAFT_OK) die("raft_node_create", rc);
  }
}

Cluster::~Cluster() {
  stop_threads();
  for (auto& n : nodes_) raft_node_destroy(n->node);
  if (!cfg_.data_dir.empty()) {
    for (auto& n : nodes_)
      std::filesystem::remove_all(cfg_.data_dir + "/n" + std::to_string(n->id));
  }
}

std::uint64_t Cluster::poll_one(std::size_t i, std::uint64_t now_ms) {
  std::uint64_t deadline = UINT64_MAX;
  const int rc = raft_node_poll(nodes_[i]->node, now_ms, &deadline);
  if (rc != RAFT_OK) die("raft_node_poll", rc);
  return deadline;
}

std::uint64_t Cluster::poll_all(std::uint64_t now_ms) {
  std::uint64_t deadline = UINT64_MAX;
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    const std::size_t i = (leader_index_ + k) % nodes_.size();
    deadline = std::min(deadline, poll_one(i, now_ms));
  }
  return deadline;
}

std::uint64_t Cluster::messages() const {
  std::uint64_t m = 0;
  for (const auto& n : nodes_) m += n->inbox.messages();
  return m;
}

std::uint64_t Cluster::progress() const {
  std::uint64_t m = messages();
  for (const auto& n : nodes_) m += n->applied.load(std::memory_order_relaxed);
  return m;
}

bool Cluster::leader_stable() const {
  for (const auto& n : nodes_)
    if (n->leader_view.load(std::memory_order_relaxed) != leader_index_ + 1) return false;
  return true;
}

std::size_t Cluster::transport_buffer_bytes() const {
  std::size_t b = 0;
  for (const auto& n : nodes_) b += n->inbox.buffer_bytes();
  return b;
}

std::uint64_t Cluster::min_applied() const {
  std::uint64_t m = UINT64_MAX;
  for (const auto& n : nodes_) m = std::min(m, n->applied.load(std::memory_order_acquire));
  return m;
}

std::uint64_t Cluster::order_errors() const {
  std::uint64_t e = 0;
  for (const auto& n : nodes_) e += n->order_errors;
  return e;
}

// A leader everyone follows, whose log everyone has applied.
bool Cluster::find_leader(std::size_t* index) {
  std::size_t leaders = 0, li = 0;
  std::vector<raft_status> st(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    raft_status_init(&st[i]);
    raft_node_status(nodes_[i]->node, &st[i]);
    if (st[i].role == RAFT_LEADER) {
      ++leaders;
      li = i;
    }
  }
  if (leaders != 1) return false;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (st[i].leader != li + 1 || nodes_[i]->leader_view.load() != li + 1) return false;
    if (st[i].applied_index < st[li].last_index || st[i].term != st[li].term) return false;
  }
  *index = li;
  return true;
}

bool Cluster::elect_polling(Clock& clock, std::uint64_t max_ms) {
  const std::uint64_t start = clock.now_ms();
  while (clock.now_ms() - start < max_ms) {
    const std::uint64_t before = progress();
    const std::uint64_t deadline = poll_all(clock.now_ms());
    if (find_leader(&leader_index_)) return true;
    if (progress() == before) clock.idle_until(deadline);
  }
  return false;
}

void Cluster::start_threads() {
  halt = false;
  for (auto& n : nodes_) {
    raft_node* node = n->node;
    threads_.emplace_back([node] {
      const int rc = raft_node_run(node);
      if (rc != RAFT_OK && rc != RAFT_ESHUTDOWN) die("raft_node_run", rc);
    });
  }
}

bool Cluster::wait_leader_threaded(std::uint64_t max_ms) {
  const std::uint64_t start = now_ns();
  while ((now_ns() - start) / 1000000 < max_ms) {
    if (find_leader(&leader_index_)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

void Cluster::stop_threads() {
  if (threads_.empty()) return;
  halt = true;
  for (auto& n : nodes_) raft_node_stop(n->node);
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace bench
