#include "config.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace kv {

const NodeInfo* ClusterConfig::find(std::uint64_t id) const {
  for (const NodeInfo& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

bool parse_u64(const std::string& text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) return false;
  out = v;
  return true;
}

bool parse_node_spec(const std::string& spec, NodeInfo& out, std::string& why) {
  const auto eq = spec.find('=');
  const auto slash = spec.find('/');
  if (eq == std::string::npos || slash == std::string::npos || slash < eq) {
    why = "node '" + spec + "' is not ID=RAFT_HOST:PORT/CLIENT_HOST:PORT";
    return false;
  }
  if (!parse_u64(spec.substr(0, eq), out.id) || out.id == 0) {
    why = "node '" + spec + "': the id must be a positive integer";
    return false;
  }
  return parse_address(spec.substr(eq + 1, slash - eq - 1), out.raft, why) &&
         parse_address(spec.substr(slash + 1), out.client, why);
}

bool load_config_file(const std::string& path, ClusterConfig& out, std::string& why) {
  std::ifstream in(path);
  if (!in) {
    why = "cannot read " + path;
    return false;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string keyword;
    if (!(words >> keyword)) continue;
    std::vector<std::string> args;
    for (std::string w; words >> w;) args.push_back(w);
    if (keyword == "cluster_id" && args.size() == 1) {
      if (!parse_u64(args[0], out.cluster_id)) {
        why = where + "cluster_id must be an unsigned integer";
        return false;
      }
    } else if (keyword == "node" && args.size() == 3) {
      NodeInfo n;
      if (!parse_u64(args[0], n.id) || n.id == 0) {
        why = where + "the node id must be a positive integer";
        return false;
      }
      if (!parse_address(args[1], n.raft, why) || !parse_address(args[2], n.client, why)) {
        why = where + why;
        return false;
      }
      out.nodes.push_back(n);
    } else {
      why = where + "expected 'cluster_id N' or 'node ID RAFT_ADDR CLIENT_ADDR'";
      return false;
    }
  }
  return true;
}

bool validate_config(const ClusterConfig& config, std::string& why) {
  if (config.nodes.empty()) {
    why = "no nodes given (use --node or --config)";
    return false;
  }
  std::set<std::uint64_t> ids;
  std::set<std::string> addrs;
  for (const NodeInfo& n : config.nodes) {
    if (!ids.insert(n.id).second) {
      why = "node id " + std::to_string(n.id) + " appears twice";
      return false;
    }
    for (const Address* a : {&n.raft, &n.client}) {
      if (!addrs.insert(a->str()).second) {
        why = "address " + a->str() + " appears twice";
        return false;
      }
    }
  }
  return true;
}

}  // namespace kv
