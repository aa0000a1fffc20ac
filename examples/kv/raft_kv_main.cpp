// raft-kv: one replica of the replicated key-value store.  See README.md.
#include <cstdio>
#include <cstring>
#include <string>

#include "config.hpp"
#include "log.hpp"
#include "raft.h"
#include "server.hpp"

namespace {

const char kUsage[] =
    "usage: raft-kv --id N (--node ID=RAFT_ADDR/CLIENT_ADDR ... | --config FILE) [options]\n"
    "\n"
    "  --id N                  this replica's id (one of the cluster's)\n"
    "  --node ID=R/C           a member: Raft address R and client address C, both\n"
    "                          IPv4 host:port; repeat for every member, this one included\n"
    "  --config FILE           members from a file ('node ID RAFT_ADDR CLIENT_ADDR' lines,\n"
    "                          optional 'cluster_id N')\n"
    "  --data-dir DIR          durable state (created if missing); without it the node keeps\n"
    "                          everything in memory and forgets it when it stops\n"
    "  --cluster-id N          must match on every member (default 27510)\n"
    "  --heartbeat-ms N        default 50\n"
    "  --election-min-ms N     default 150\n"
    "  --election-max-ms N     default 300\n"
    "  --request-timeout-ms N  answer ERR UNKNOWN after this long (default 5000)\n"
    "  --snapshot-interval N   snapshot the store every N applied entries and drop\n"
    "                          the log before it (default 10000; 0: never)\n"
    "  --verbose               libraft's informational log lines too\n"
    "\n"
    "Clients speak a line protocol on the client address (try: nc 127.0.0.1 PORT, then\n"
    "PUT k v / GET k / DEL k / CAS k old new / STATUS).  SIGTERM or SIGINT stops the node.\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "raft-kv: %s\n\n%s", why.c_str(), kUsage);
  return 2;
}

bool parse_u32(const char* text, std::uint32_t& out) {
  std::uint64_t v = 0;
  if (!kv::parse_u64(text, v) || v == 0 || v > 3600 * 1000) return false;
  out = static_cast<std::uint32_t>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  kv::ServerOptions opt;
  bool cluster_id_set = false;
  std::uint64_t cluster_id = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--verbose") {
      opt.verbose = true;
      continue;
    }
    if (i + 1 >= argc) return usage_error(arg + " needs a value");
    const char* value = argv[++i];
    std::string why;
    if (arg == "--id") {
      if (!kv::parse_u64(value, opt.id) || opt.id == 0)
        return usage_error("--id must be a positive integer");
    } else if (arg == "--node") {
      kv::NodeInfo n;
      if (!kv::parse_node_spec(value, n, why)) return usage_error(why);
      opt.cluster.nodes.push_back(n);
    } else if (arg == "--config") {
      if (!kv::load_config_file(value, opt.cluster, why)) return usage_error(why);
    } else if (arg == "--data-dir") {
      opt.data_dir = value;
    } else if (arg == "--cluster-id") {
      if (!kv::parse_u64(value, cluster_id)) return usage_error("--cluster-id must be a number");
      cluster_id_set = true;
    } else if (arg == "--heartbeat-ms") {
      if (!parse_u32(value, opt.heartbeat_ms)) return usage_error("bad --heartbeat-ms");
    } else if (arg == "--election-min-ms") {
      if (!parse_u32(value, opt.election_min_ms)) return usage_error("bad --election-min-ms");
    } else if (arg == "--election-max-ms") {
      if (!parse_u32(value, opt.election_max_ms)) return usage_error("bad --election-max-ms");
    } else if (arg == "--snapshot-interval") {
      if (!kv::parse_u64(value, opt.snapshot_interval))
        return usage_error("--snapshot-interval must be a number");
    } else if (arg == "--request-timeout-ms") {
      if (!parse_u32(value, opt.request_timeout_ms)) return usage_error("bad --request-timeout-ms");
    } else {
      return usage_error("unknown option " + arg);
    }
  }
  if (cluster_id_set) opt.cluster.cluster_id = cluster_id;
  if (opt.id == 0) return usage_error("--id is required");
  std::string why;
  if (!kv::validate_config(opt.cluster, why)) return usage_error(why);

  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "node %llu", static_cast<unsigned long long>(opt.id));
  kv::set_log_prefix(prefix);

  kv::Server server(opt);
  if (!server.start(why)) {
    kv::logf("cannot start: %s", why.c_str());
    return 1;
  }
  return server.run();
}
