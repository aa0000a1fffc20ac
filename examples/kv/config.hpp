// The cluster description: which replica ids exist and where each listens
// for Raft traffic and for clients.  Given on the command line
// (--node 1=127.0.0.1:7001/127.0.0.1:8001, repeated) or in a file:
//
//   # comment
//   cluster_id 27
//   node 1 127.0.0.1:7001 127.0.0.1:8001
//   node 2 127.0.0.1:7002 127.0.0.1:8002
//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net.hpp"

namespace kv {

struct NodeInfo {
  std::uint64_t id = 0;
  Address raft;    // peers connect here
  Address client;  // clients connect here
};

struct ClusterConfig {
  std::uint64_t cluster_id = 0x6b76;  // "kv"
  std::vector<NodeInfo> nodes;

  const NodeInfo* find(std::uint64_t id) const;
};

// "1=127.0.0.1:7001/127.0.0.1:8001"
bool parse_node_spec(const std::string& spec, NodeInfo& out, std::string& why);
// Appends the file's nodes (and sets cluster_id if present).
bool load_config_file(const std::string& path, ClusterConfig& out, std::string& why);
// Ids nonzero and unique, addresses unique, at least one node.
bool validate_config(const ClusterConfig& config, std::string& why);
// Parses a decimal unsigned 64-bit number (no sign, no junk).
bool parse_u64(const std::string& text, std::uint64_t& out);

}  // namespace kv
