// A small in-process cluster over the public C API for tests that need real
// nodes (restart, storage failures): in-memory mailboxes, a virtual clock,
// every node driven with raft_node_poll.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "capi/handle.hpp"
#include "raft.h"

namespace raft::test {

class CCluster {
 public:
  struct Replica {
    CCluster* cluster = nullptr;
    raft_id id = 0;
    raft_node* node = nullptr;
    std::deque<std::string> inbox;
    std::string current;  // the buffer handed out by receive
    std::vector<std::uint64_t> applied;
    std::vector<std::pair<std::uint64_t, raft_transition_state>> transitions;
    std::uint64_t sent = 0;
    std::string data_dir;
    const raft_storage* storage = nullptr;
    // Snapshots (when the cluster's snapshot_interval is set): the state is
    // `applied`, saved as its ids (8 bytes each) in save_steps calls.
    std::string save_image;  // what the save in progress writes
    std::size_t save_written = 0;
    int save_calls = 0;
    std::vector<std::uint64_t> loads;  // index of every snapshot_load
  };

  // Replicas whose messages (both ways) are dropped.
  std::set<raft_id> isolated;
  // Snapshot settings for nodes started from now on.
  std::uint64_t snapshot_interval = 0;
  std::uint64_t snapshot_trailing = 0;
  std::uint32_t chunk_bytes = 1u << 20;
  int save_steps = 1;  // > 1: snapshot_save returns RAFT_SNAPSHOT_MORE in between
  std::uint64_t max_uncommitted_bytes = 0;  // for nodes started from now on; 0: the default
  // Called at the start of every send callback (inside the sender's turn).
  std::function<void(Replica& sender)> on_send;

  explicit CCluster(std::size_t n) : replicas_(n) {
    for (std::size_t i = 0; i < n; ++i) {
      replicas_[i].cluster = this;
      replicas_[i].id = i + 1;
    }
  }
  ~CCluster() {
    for (auto& r : replicas_) raft_node_destroy(r.node);
  }

  Replica& at(raft_id id) { return replicas_[id - 1]; }

  int start(raft_id id) {
    Replica& r = at(id);
    std::vector<raft_id> peers;
    for (auto& o : replicas_)
      if (o.id != id) peers.push_back(o.id);
    raft_options opt;
    raft_options_init(&opt);
    opt.id = id;
    opt.peers = peers.data();
    opt.n_peers = peers.size();
    opt.cluster_id = 99;
    opt.random_seed = 1000 + id + 17 * restarts_++;
    opt.data_dir = r.data_dir.empty() ? nullptr : r.data_dir.c_str();
    opt.storage = r.storage;
    if (max_uncommitted_bytes != 0) opt.max_uncommitted_bytes = max_uncommitted_bytes;
    raft_callbacks cb;
    raft_callbacks_init(&cb);
    cb.apply = [](std::uint64_t tid, const void*, std::size_t, void* u) {
      static_cast<Replica*>(u)->applied.push_back(tid);
    };
    cb.transition_state = [](std::uint64_t tid, raft_transition_state s, void* u) {
      static_cast<Replica*>(u)->transitions.emplace_back(tid, s);
    };
    cb.send = [](raft_id to, const void* msg, std::size_t len, void* u) {
      auto* self = static_cast<Replica*>(u);
      if (self->cluster->on_send) self->cluster->on_send(*self);
      ++self->sent;
      if (self->cluster->isolated.count(self->id) + self->cluster->isolated.count(to) > 0) return;
      Replica& dst = self->cluster->at(to);
      if (dst.node != nullptr) dst.inbox.emplace_back(static_cast<const char*>(msg), len);
    };
    cb.receive = [](const void** msg, std::size_t* len, void* u) {
      auto* self = static_cast<Replica*>(u);
      if (self->inbox.empty()) return 0;
      self->current = std::move(self->inbox.front());
      self->inbox.pop_front();
      *msg = self->current.data();
      *len = self->current.size();
      return 1;
    };
    if (snapshot_interval > 0) {
      opt.snapshot_interval = snapshot_interval;
      opt.snapshot_trailing = snapshot_trailing;
      opt.max_snapshot_chunk_bytes = chunk_bytes;
      cb.snapshot_save = [](raft_snapshot_writer* w, std::uint64_t, void* u) {
        auto* self = static_cast<Replica*>(u);
        if (self->save_written == 0 && self->save_image.empty()) {
          ++self->save_calls;
          for (std::uint64_t id : self->applied)
            self->save_image.append(reinterpret_cast<const char*>(&id), sizeof id);
        }
        const int steps = self->cluster->save_steps;
        const std::size_t slice = self->save_image.size() / static_cast<std::size_t>(steps) + 1;
        const std::size_t n = std::min(slice, self->save_image.size() - self->save_written);
        if (raft_snapshot_write(w, self->save_image.data() + self->save_written, n) != RAFT_OK)
          return RAFT_EIO;
        self->save_written += n;
        if (self->save_written < self->save_image.size()) return RAFT_SNAPSHOT_MORE;
        self->save_image.clear();
        self->save_written = 0;
        return RAFT_OK;
      };
      cb.snapshot_load = [](raft_snapshot_reader* rd, std::uint64_t index, void* u) {
        auto* self = static_cast<Replica*>(u);
        self->loads.push_back(index);
        self->applied.clear();
        std::uint64_t id = 0;
        std::int64_t got;
        while ((got = raft_snapshot_read(rd, &id, sizeof id)) == sizeof id)
          self->applied.push_back(id);
        return got == 0 ? RAFT_OK : RAFT_ECORRUPT;
      };
    }
    r.applied.clear();
    r.inbox.clear();
    r.save_image.clear();
    r.save_written = 0;
    return raft_node_create(&r.node, &opt, &cb, &r);
  }

  void stop(raft_id id) {
    raft_node_destroy(at(id).node);
    at(id).node = nullptr;
  }

  // Advances the virtual clock by `ms`, polling every running node each ms.
  // Returns the first poll error, if any.
  int run_for(std::uint64_t ms) {
    for (std::uint64_t i = 0; i < ms; ++i) {
      ++now_;
      for (auto& r : replicas_) {
        if (r.node == nullptr) continue;
        const int rc = raft_node_poll(r.node, now_, nullptr);
        if (rc != RAFT_OK) return rc;
      }
    }
    return RAFT_OK;
  }

  std::uint64_t now() const { return now_; }
  // Polls one node at an explicit time (which becomes the cluster's clock).
  int poll_at(raft_id id, std::uint64_t t) {
    now_ = std::max(now_, t);
    return raft_node_poll(at(id).node, t, nullptr);
  }

  raft_status status(raft_id id) {
    raft_status st;
    raft_status_init(&st);
    EXPECT_EQ(raft_node_status(at(id).node, &st), RAFT_OK);
    return st;
  }

  // Runs until one running node is leader; returns its id (0 on timeout).
  raft_id wait_leader(std::uint64_t max_ms = 5000) {
    for (std::uint64_t t = 0; t < max_ms; t += 10) {
      run_for(10);
      for (auto& r : replicas_)
        if (r.node != nullptr && status(r.id).role == RAFT_LEADER) return r.id;
    }
    return 0;
  }

  bool wait_applied(std::size_t count, std::uint64_t max_ms = 5000) {
    for (std::uint64_t t = 0; t < max_ms; t += 10) {
      run_for(10);
      bool all = true;
      for (auto& r : replicas_)
        if (r.node != nullptr && r.applied.size() < count) all = false;
      if (all) return true;
    }
    return false;
  }

  const core::Core& core(raft_id id) { return at(id).node->impl->core(); }

 private:
  std::vector<Replica> replicas_;
  std::uint64_t now_ = 1000000;  // any origin: timers start at the first poll
  int restarts_ = 0;
};

}  // namespace raft::test
