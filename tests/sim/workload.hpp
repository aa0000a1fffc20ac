// Clients of the replicated state machine.  Each client has one operation
// in flight: it proposes a fresh, unique transition to the node it believes
// is the leader (sometimes to a random node, which tests the follower path),
// and retries with a NEW id after ABANDONED, a refused proposal, or silence.
// A timed-out operation is never retried under its old id: it may still
// commit, which is allowed ("info" in Jepsen terms); what it may never do
// is commit after being reported ABANDONED (the checker's business).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "prng.hpp"
#include "world.hpp"

namespace sim {

struct WorkloadParams {
  int clients = 3;
  std::uint64_t think_mean_us = 50000;
  std::uint64_t retry_us = 20000;
  std::uint64_t timeout_us = 2000000;
  std::uint32_t follower_ppm = 100000;  // propose to a random node instead of the leader
};

class Workload : public World::TransitionListener {
 public:
  static constexpr std::uint32_t kEvAct = kFirstUserEvent + 1;
  static constexpr std::uint32_t kEvTimeout = kFirstUserEvent + 2;

  Workload(World& world, std::uint64_t seed, const WorkloadParams& params);

  void start();
  // Handles kEvAct / kEvTimeout; false if the kind is not ours.
  bool on_event(std::uint32_t kind, std::uint32_t a, std::uint64_t b);
  void on_transition(int node, std::uint64_t id, raft_transition_state s) override;

  // Only these nodes are targeted from now on (the liveness core).
  void restrict_to(const std::vector<int>& nodes) { allowed_ = nodes; }
  // No new operations; operations in flight are left to finish.
  void stop_new_ops() { stopped_ = true; }
  // Start proposing again (every idle client acts soon).
  void resume_ops();
  // True if every client completed an operation since the last resume_ops().
  bool all_succeeded_since_resume() const;
  // True if no client has an operation in flight.
  bool idle() const;

  std::uint64_t successes() const { return successes_; }
  std::uint64_t proposed() const { return next_id_ - 1; }

 private:
  struct Client {
    bool waiting = false;
    std::uint64_t op = 0;
    int hint = -1;  // node believed to be the leader (-1: none)
    std::uint64_t successes = 0;
    std::uint64_t successes_at_resume = 0;
  };
  void act(std::uint32_t c);
  void retry_soon(std::uint32_t c, int hint);
  int pick_target(const Client& c);

  World& world_;
  Prng rng_;
  WorkloadParams p_;
  std::vector<Client> clients_;
  std::unordered_map<std::uint64_t, std::uint32_t> owner_;  // op id -> client
  std::vector<int> allowed_;
  std::vector<std::uint8_t> payload_;
  std::uint64_t next_id_ = 1;
  std::uint64_t successes_ = 0;
  bool stopped_ = false;
};

}  // namespace sim
