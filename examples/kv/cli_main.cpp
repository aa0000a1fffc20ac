// raft-kv-cli: talk to a raft-kv cluster.  See README.md.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench.hpp"
#include "config.hpp"
#include "kv_client.hpp"
#include "net.hpp"

namespace {

const char kUsage[] =
    "usage: raft-kv-cli [-s HOST:PORT[,HOST:PORT...]] COMMAND\n"
    "\n"
    "  put KEY VALUE          store VALUE (acknowledged once applied)\n"
    "  get KEY                linearizable read\n"
    "  del KEY\n"
    "  cas KEY OLD NEW        set to NEW only if the value is OLD\n"
    "  status                 the STATUS line of every server given\n"
    "  bench [--clients N] [--depth N] [--seconds S] [--value-size B] [--reads PCT]\n"
    "                         pipelined load on the leader; prints ops/s and latency\n"
    "\n"
    "-s lists client addresses of cluster members (default: $RAFT_KV_SERVERS or\n"
    "127.0.0.1:8001); requests follow REDIRECT replies to the leader.\n"
    "Exit status: 0 OK/VALUE, 1 NOTFOUND/MISMATCH, 3 an error (the reply says which;\n"
    "ERR UNKNOWN or a lost connection mean the outcome is unknown), 2 usage.\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "raft-kv-cli: %s\n\n%s", why.c_str(), kUsage);
  return 2;
}

bool parse_servers(const std::string& list, std::vector<kv::Address>& out, std::string& why) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    const std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    kv::Address a;
    if (!kv::parse_address(item, a, why)) return false;
    out.push_back(a);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return !out.empty();
}

int show_status(const std::vector<kv::Address>& servers) {
  int rc = 0;
  for (const kv::Address& a : servers) {
    kv::LineConn conn;
    std::string reply;
    if (conn.open(a, 1000) && conn.write_all("STATUS\n", 1000) && conn.read_line(reply, 2000)) {
      std::printf("%s  %s\n", a.str().c_str(), reply.c_str());
    } else {
      std::printf("%s  unreachable\n", a.str().c_str());
      rc = 3;
    }
  }
  return rc;
}

bool parse_number(const char* text, double lo, double hi, double& out) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(v >= lo && v <= hi)) return false;
  out = v;
  return true;
}

int bench(const std::vector<kv::Address>& servers, int argc, char** argv) {
  kv::BenchOptions opt;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage_error(arg + " needs a value");
    double v = 0;
    const char* value = argv[++i];
    if (arg == "--clients" && parse_number(value, 1, 512, v)) {
      opt.clients = static_cast<int>(v);
    } else if (arg == "--depth" && parse_number(value, 1, 4096, v)) {
      opt.depth = static_cast<int>(v);
    } else if (arg == "--seconds" && parse_number(value, 0.1, 3600, v)) {
      opt.seconds = v;
    } else if (arg == "--value-size" && parse_number(value, 1, 65536, v)) {
      opt.value_size = static_cast<std::size_t>(v);
    } else if (arg == "--reads" && parse_number(value, 0, 100, v)) {
      opt.read_percent = static_cast<int>(v);
    } else {
      return usage_error("bad bench option " + arg + " " + value);
    }
  }
  // Any request finds the leader: a follower answers with a REDIRECT.
  kv::KvClient client(servers, 2000);
  std::string reply;
  if (client.call("GET bench-probe", reply, 5000) != kv::Outcome::kReply ||
      reply.compare(0, 3, "ERR") == 0) {
    std::fprintf(stderr, "raft-kv-cli: no leader found (%s)\n",
                 reply.empty() ? "no server reachable" : reply.c_str());
    return 3;
  }
  opt.leader = client.current();
  std::printf("bench: leader at %s\n", opt.leader.str().c_str());
  kv::BenchResult result;
  std::string why;
  if (!kv::run_bench(opt, result, why)) {
    std::fprintf(stderr, "raft-kv-cli: %s\n", why.c_str());
    return 3;
  }
  std::fputs(kv::format_bench(opt, result).c_str(), stdout);
  return result.ops > 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<kv::Address> servers;
  const char* env = std::getenv("RAFT_KV_SERVERS");
  std::string list = env != nullptr && *env ? env : "127.0.0.1:8001";
  int i = 1;
  if (i < argc && (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (i + 1 < argc && std::strcmp(argv[i], "-s") == 0) {
    list = argv[i + 1];
    i += 2;
  }
  std::string why;
  if (!parse_servers(list, servers, why)) return usage_error(why);
  if (i >= argc) return usage_error("no command");
  const std::string cmd = argv[i++];
  const int nargs = argc - i;
  if (cmd == "status") return nargs == 0 ? show_status(servers) : usage_error("status: no args");
  if (cmd == "bench") return bench(servers, nargs, argv + i);

  std::string request;
  if (cmd == "put" && nargs == 2) {
    request = std::string("PUT ") + argv[i] + " " + argv[i + 1];
  } else if (cmd == "get" && nargs == 1) {
    request = std::string("GET ") + argv[i];
  } else if (cmd == "del" && nargs == 1) {
    request = std::string("DEL ") + argv[i];
  } else if (cmd == "cas" && nargs == 3) {
    request = std::string("CAS ") + argv[i] + " " + argv[i + 1] + " " + argv[i + 2];
  } else {
    return usage_error("unknown command or wrong number of arguments: " + cmd);
  }
  if (request.find('\n') != std::string::npos) return usage_error("newline in an argument");
  kv::KvClient client(servers, 6000);
  std::string reply;
  switch (client.call(request, reply, 3000)) {
    case kv::Outcome::kNotSent:
      std::printf("ERR no server reachable (not executed)\n");
      return 3;
    case kv::Outcome::kLost:
      std::printf("ERR UNKNOWN connection lost before the reply (outcome unknown)\n");
      return 3;
    case kv::Outcome::kReply:
      break;
  }
  std::printf("%s\n", reply.c_str());
  if (reply == "OK" || reply.compare(0, 6, "VALUE ") == 0) return 0;
  if (reply == "NOTFOUND" || reply.compare(0, 8, "MISMATCH") == 0) return 1;
  return 3;
}
