#include "workload.hpp"

#include "payload.hpp"

namespace sim {

Workload::Workload(World& world, std::uint64_t seed, const WorkloadParams& params)
    : world_(world), rng_(seed, "workload"), p_(params), clients_(params.clients) {
  for (int i = 0; i < world.size(); ++i) allowed_.push_back(i);
}

void Workload::start() {
  for (std::uint32_t c = 0; c < clients_.size(); ++c)
    world_.schedule(world_.now() + rng_.exponential(p_.think_mean_us), kEvAct, c, 0);
}

int Workload::pick_target(const Client& c) {
  bool hint_ok = false;
  for (int n : allowed_) hint_ok |= n == c.hint;
  if (hint_ok && !rng_.chance(p_.follower_ppm)) return c.hint;
  return allowed_[rng_.below(allowed_.size())];
}

void Workload::act(std::uint32_t ci) {
  Client& c = clients_[ci];
  if (stopped_ || c.waiting) return;
  const int target = pick_target(c);
  const std::uint64_t id = next_id_++;
  payload_for(id, payload_);
  owner_[id] = ci;
  c.waiting = true;
  c.op = id;
  int rc = 0;
  if (!world_.propose(target, id, payload_, &rc)) {
    // Refused before it entered the library (queue full): a definite
    // failure, so retry elsewhere.
    c.waiting = false;
    retry_soon(ci, -1);
    return;
  }
  world_.schedule(world_.now() + p_.timeout_us, kEvTimeout, ci, id);
}

void Workload::retry_soon(std::uint32_t ci, int hint) {
  clients_[ci].hint = hint;
  world_.schedule(world_.now() + 1 + rng_.below(p_.retry_us), kEvAct, ci, 0);
}

bool Workload::on_event(std::uint32_t kind, std::uint32_t a, std::uint64_t b) {
  if (kind == kEvAct) {
    act(a);
    return true;
  }
  if (kind == kEvTimeout) {
    Client& c = clients_[a];
    if (c.waiting && c.op == b) {
      // Given up on, never retried under this id: it may still commit.
      c.waiting = false;
      world_.trace().note(world_.now(), Rec::kClient, a, "op %llu timed out",
                          static_cast<unsigned long long>(b));
      if (!stopped_) retry_soon(a, -1);
    }
    return true;
  }
  return false;
}

void Workload::on_transition(int node, std::uint64_t id, raft_transition_state s) {
  auto it = owner_.find(id);
  if (it == owner_.end()) return;
  const std::uint32_t ci = it->second;
  Client& c = clients_[ci];
  if (!c.waiting || c.op != id) return;
  switch (s) {
    case RAFT_TRANSITION_QUEUED:
      break;
    case RAFT_TRANSITION_COMMITTED:
    case RAFT_TRANSITION_APPLIED:
      c.waiting = false;
      c.hint = node;
      ++c.successes;
      ++successes_;
      world_.schedule(world_.now() + rng_.exponential(p_.think_mean_us), kEvAct, ci, 0);
      break;
    case RAFT_TRANSITION_ABANDONED_NOT_LEADER:
    case RAFT_TRANSITION_ABANDONED_CONFLICT:
    case RAFT_TRANSITION_UNKNOWN: {  // (unknown: like a timeout, it may have committed)
      c.waiting = false;
      const std::uint64_t leader = world_.status_leader(node);
      retry_soon(ci, leader == 0 ? -1 : static_cast<int>(leader) - 1);
      break;
    }
  }
}

void Workload::resume_ops() {
  stopped_ = false;
  for (std::uint32_t ci = 0; ci < clients_.size(); ++ci) {
    Client& c = clients_[ci];
    c.successes_at_resume = c.successes;
    if (c.waiting) {
      world_.schedule(world_.now() + p_.timeout_us, kEvTimeout, ci, c.op);
    } else {
      world_.schedule(world_.now() + rng_.below(p_.retry_us), kEvAct, ci, 0);
    }
  }
}

bool Workload::all_succeeded_since_resume() const {
  for (const Client& c : clients_) {
    if (c.successes == c.successes_at_resume) return false;
  }
  return true;
}

bool Workload::idle() const {
  for (const Client& c : clients_) {
    if (c.waiting) return false;
  }
  return true;
}

}  // namespace sim
