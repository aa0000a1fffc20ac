// A replicated counter in C++: three replicas in one process, each driven by
// raft::Replica::run() on its own thread, talking through in-memory mailboxes.
// The main thread proposes "add N" transitions to whichever replica leads and
// waits until every replica's counter shows the same total.
//
//   g++ -std=c++17 -Iinclude examples/counter_cpp.cpp build/libraft.a -pthread
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "raft.hpp"

namespace {

constexpr int kReplicas = 3;
constexpr std::int64_t kTransitions = 100;

// Mailboxes for every replica.  A message for replica `to` wakes its run() loop.
class Network {
 public:
  void attach(raft_id id, raft::Replica* r) { box(id).replica = r; }
  void post(raft_id to, std::string msg) {
    if (to < 1 || to > kReplicas) return;  // best effort: unknown peers are dropped
    Box& b = box(to);
    {
      std::lock_guard<std::mutex> lock(b.mu);
      b.queue.push_back(std::move(msg));
    }
    b.replica->notify();
  }
  bool take(raft_id id, std::string& out) {
    Box& b = box(id);
    std::lock_guard<std::mutex> lock(b.mu);
    if (b.queue.empty()) return false;
    out = std::move(b.queue.front());
    b.queue.pop_front();
    return true;
  }

 private:
  struct Box {
    std::mutex mu;
    std::deque<std::string> queue;
    raft::Replica* replica = nullptr;
  };
  Box& box(raft_id id) { return boxes_[id - 1]; }
  std::array<Box, kReplicas> boxes_;
};

class Transport : public raft::Cluster {
 public:
  Transport(Network& net, raft_id self) : net_(net), self_(self) {}
  void send_message(raft_id to, const void* data, std::size_t len) override {
    net_.post(to, std::string(static_cast<const char*>(data), len));
  }
  bool receive_message(const void** data, std::size_t* len) override {
    if (!net_.take(self_, current_)) return false;
    *data = current_.data();  // valid until the next call: current_ is only reused then
    *len = current_.size();
    return true;
  }
  void register_leader(std::optional<raft_id> leader) override {
    if (leader) std::printf("replica %llu: leader is %llu\n", ull(self_), ull(*leader));
  }
  static unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }

 private:
  Network& net_;
  raft_id self_;
  std::string current_;
};

// The state machine: a running total.  Transitions are decimal numbers to add.
class Counter : public raft::StringStateMachine {
 public:
  void apply(std::uint64_t, std::string_view data) override {
    total += std::stoll(std::string(data));
  }
  void register_transition_state(std::uint64_t id, raft::TransitionState s) override {
    if (s == raft::TransitionState::kAbandonedNotLeader ||
        s == raft::TransitionState::kAbandonedConflict)
      std::printf("transition %llu abandoned; a real client would retry it\n",
                  static_cast<unsigned long long>(id));
  }
  std::atomic<std::int64_t> total{0};
};

template <class Pred>
bool wait_for(Pred pred, int seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace

int main() {
  Network net;
  std::array<Counter, kReplicas> counters;
  std::array<std::unique_ptr<Transport>, kReplicas> transports;
  std::array<raft::Replica, kReplicas> replicas;  // fixed addresses: the network notifies them
  for (raft_id id = 1; id <= kReplicas; id++) {
    std::vector<raft_id> peers;
    for (raft_id p = 1; p <= kReplicas; p++)
      if (p != id) peers.push_back(p);
    transports[id - 1] = std::make_unique<Transport>(net, id);
    replicas[id - 1] =
        raft::Replica(raft::Options(id).peers(peers).heartbeat_ms(10).election_timeout_ms(50, 100),
                      counters[id - 1], *transports[id - 1]);
    net.attach(id, &replicas[id - 1]);
  }

  std::array<std::thread, kReplicas> loops;
  for (int i = 0; i < kReplicas; i++) {
    loops[i] = std::thread([&r = replicas[i]] {
      try {
        r.run();  // returns after stop()
      } catch (const std::exception& e) {
        std::fprintf(stderr, "replica stopped: %s\n", e.what());
      }
    });
  }

  // status() may be called from any thread.
  raft::Replica* leader = nullptr;
  wait_for(
      [&] {
        for (raft::Replica& r : replicas)
          if (r.role() == raft::Role::kLeader) leader = &r;
        return leader != nullptr;
      },
      5);
  int rc = 1;
  if (leader == nullptr) {
    std::fprintf(stderr, "no leader elected\n");
  } else {
    std::int64_t expected = 0;
    for (std::int64_t n = 1; n <= kTransitions; n++) {
      while (!leader->propose(static_cast<std::uint64_t>(n), std::to_string(n)))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // queue full: retry
      expected += n;
    }
    const bool agreed = wait_for(
        [&] {
          for (const Counter& c : counters)
            if (c.total != expected) return false;
          return true;
        },
        5);
    for (int i = 0; i < kReplicas; i++) {
      const raft_status st = replicas[i].status();
      std::printf("replica %d: total %lld, term %llu, commit index %llu\n", i + 1,
                  static_cast<long long>(counters[i].total.load()),
                  static_cast<unsigned long long>(st.term),
                  static_cast<unsigned long long>(st.commit_index));
    }
    std::printf(agreed ? "all replicas agree: %lld\n" : "replicas disagree (expected %lld)\n",
                static_cast<long long>(expected));
    rc = agreed ? 0 : 1;
  }

  for (raft::Replica& r : replicas) r.stop();
  for (std::thread& t : loops) t.join();
  return rc;
}
