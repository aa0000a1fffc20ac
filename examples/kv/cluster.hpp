// A local raft-kv cluster for the demo and the crash test: picks free
// loopback ports, runs one raft-kv process per node under a temporary
// directory, and SIGKILLs / restarts / stops them.
//
// Every process it starts is stopped by stop_all(), by the destructor, by
// SIGINT/SIGTERM/SIGHUP of the harness, and, should the harness itself be
// SIGKILLed, by the kernel (PR_SET_PDEATHSIG): nothing outlives a run.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"
#include "net.hpp"

namespace kv {

struct NodeStatus {
  std::uint64_t id = 0, term = 0, leader = 0, commit = 0, applied = 0, last = 0, keys = 0;
  std::string role, digest;
};

// Parses a "STATUS id=1 role=leader ..." line.
bool parse_status(const std::string& line, NodeStatus& out);

class Cluster {
 public:
  Cluster() = default;
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Creates the work directory (under $TMPDIR or /tmp) and picks ports.
  bool init(const std::string& bin_dir, int nodes, const std::string& name, std::string& why);
  // Extra raft-kv arguments for every node (e.g. --request-timeout-ms 2000).
  void set_extra_args(std::vector<std::string> args) { extra_args_ = std::move(args); }

  bool start(int id, std::string& why);
  bool start_all(std::string& why);
  // SIGKILL and reap.
  void kill9(int id);
  // SIGTERM, wait up to timeout_ms, then SIGKILL.  True if it exited by itself with status 0.
  bool stop(int id, int timeout_ms);
  void stop_all();
  bool running(int id);
  pid_t pid(int id) const { return pids_[id - 1]; }

  int size() const { return static_cast<int>(config_.nodes.size()); }
  const NodeInfo& node(int id) const { return config_.nodes[id - 1]; }
  std::vector<Address> client_addresses() const;
  const std::string& dir() const { return dir_; }
  std::string log_path(int id) const;
  // The command line that starts node `id` (for the README-style narration).
  std::vector<std::string> command(int id) const;

  // STATUS of one node; false if it does not answer within timeout_ms.
  bool status(int id, NodeStatus& out, int timeout_ms = 500) const;
  // The id of the node that calls itself leader (among running nodes and with
  // the highest term), or 0 if none does within timeout_ms.
  int wait_leader(int timeout_ms, int exclude = 0);
  // Waits until every running node reports the same applied index, equal to
  // the leader's commit index; false on timeout.
  bool wait_converged(int timeout_ms);
  // Removes the work directory (call after a successful run).
  void remove_dir();
  // The last lines of a node's log, for failure reports.
  std::string log_tail(int id, int lines) const;

 private:
  bool pick_ports(std::string& why);

  std::string bin_dir_, dir_;
  ClusterConfig config_;
  std::vector<pid_t> pids_;
  std::vector<std::string> extra_args_;
};

// Prints one line of a run's narrative, prefixed with the seconds elapsed
// since start_ms (the demo and the crash test tell their story this way).
void say_since(std::uint64_t start_ms, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace kv
