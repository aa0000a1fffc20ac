#include "cluster.hpp"

#include <cstdarg>
#include <cstdio>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "kv_client.hpp"

namespace kv {

namespace {

// The children, for the signal handler (async-signal-safe: plain kill()).
constexpr int kMaxChildren = 16;
volatile sig_atomic_t g_children[kMaxChildren];

void on_fatal_signal(int sig) {
  for (int i = 0; i < kMaxChildren; ++i) {
    if (g_children[i] > 0) kill(static_cast<pid_t>(g_children[i]), SIGKILL);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// True if nothing listens on (or holds) 127.0.0.1:port right now.
bool port_free(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

}  // namespace

bool parse_status(const std::string& line, NodeStatus& out) {
  std::istringstream words(line);
  std::string w;
  if (!(words >> w) || w != "STATUS") return false;
  out = NodeStatus{};
  while (words >> w) {
    const auto eq = w.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = w.substr(0, eq), v = w.substr(eq + 1);
    std::uint64_t n = 0;
    const bool num = parse_u64(v, n);
    if (k == "role") out.role = v;
    if (k == "digest") out.digest = v;
    if (!num) continue;
    if (k == "id") out.id = n;
    if (k == "term") out.term = n;
    if (k == "leader") out.leader = n;
    if (k == "commit") out.commit = n;
    if (k == "applied") out.applied = n;
    if (k == "last") out.last = n;
    if (k == "keys") out.keys = n;
  }
  return out.id != 0 && !out.role.empty();
}

Cluster::~Cluster() { stop_all(); }

bool Cluster::init(const std::string& bin_dir, int nodes, const std::string& name,
                   std::string& why) {
  if (nodes < 1 || nodes > kMaxChildren) {
    why = "bad node count";
    return false;
  }
  bin_dir_ = bin_dir;
  if (access((bin_dir_ + "/raft-kv").c_str(), X_OK) != 0) {
    why = bin_dir_ + "/raft-kv is missing (run make kv)";
    return false;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + name + ".XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    why = "mkdtemp " + pattern + ": " + std::strerror(errno);
    return false;
  }
  dir_ = buf.data();
  config_.nodes.resize(static_cast<std::size_t>(nodes));
  // A cluster id of its own, so that a node of another run that somehow
  // reached these ports would be refused.
  config_.cluster_id = static_cast<std::uint64_t>(getpid()) << 16 ^ now_us();
  pids_.assign(static_cast<std::size_t>(nodes), 0);
  install_handlers();
  return pick_ports(why);
}

bool Cluster::pick_ports(std::string& why) {
  // Below the kernel's ephemeral range (32768+), so that the outgoing
  // connections of this or another run never sit on a port a restarted node
  // needs; a random base keeps concurrent runs apart, and every port is
  // checked free before use.
  std::mt19937 rng(static_cast<unsigned>(now_us() ^ (static_cast<std::uint64_t>(getpid()) << 20)));
  const int n = size();
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto base = static_cast<std::uint16_t>(20000 + rng() % 12000);
    bool ok = true;
    for (int i = 0; i < 2 * n && ok; ++i) ok = port_free(static_cast<std::uint16_t>(base + i));
    if (!ok) continue;
    for (int i = 0; i < n; ++i) {
      NodeInfo& info = config_.nodes[static_cast<std::size_t>(i)];
      info.id = static_cast<std::uint64_t>(i + 1);
      info.raft = Address{"127.0.0.1", static_cast<std::uint16_t>(base + i)};
      info.client = Address{"127.0.0.1", static_cast<std::uint16_t>(base + n + i)};
    }
    return true;
  }
  why = "no free block of loopback ports found";
  return false;
}

std::vector<std::string> Cluster::command(int id) const {
  std::vector<std::string> args = {bin_dir_ + "/raft-kv", "--id", std::to_string(id)};
  for (const NodeInfo& n : config_.nodes) {
    args.push_back("--node");
    args.push_back(std::to_string(n.id) + "=" + n.raft.str() + "/" + n.client.str());
  }
  args.push_back("--cluster-id");
  args.push_back(std::to_string(config_.cluster_id));
  args.push_back("--data-dir");
  args.push_back(dir_ + "/node" + std::to_string(id));
  for (const std::string& a : extra_args_) args.push_back(a);
  return args;
}

std::string Cluster::log_path(int id) const { return dir_ + "/node" + std::to_string(id) + ".log"; }

bool Cluster::start(int id, std::string& why) {
  if (running(id)) return true;
  const std::vector<std::string> args = command(id);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string log = log_path(id);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    // Die with the harness, even if it is SIGKILLed.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  pids_[static_cast<std::size_t>(id - 1)] = pid;
  g_children[id - 1] = pid;
  return true;
}

bool Cluster::start_all(std::string& why) {
  for (int id = 1; id <= size(); ++id) {
    if (!start(id, why)) return false;
  }
  return true;
}

bool Cluster::running(int id) {
  pid_t& pid = pids_[static_cast<std::size_t>(id - 1)];
  if (pid <= 0) return false;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    pid = 0;
    g_children[id - 1] = 0;
    return false;
  }
  return true;
}

void Cluster::kill9(int id) {
  pid_t& pid = pids_[static_cast<std::size_t>(id - 1)];
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  pid = 0;
  g_children[id - 1] = 0;
}

bool Cluster::stop(int id, int timeout_ms) {
  pid_t& pid = pids_[static_cast<std::size_t>(id - 1)];
  if (pid <= 0) return false;
  kill(pid, SIGTERM);
  const std::uint64_t end = now_ms() + static_cast<std::uint64_t>(timeout_ms);
  int status = 0;
  bool clean = false;
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      break;
    }
    if (now_ms() >= end) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      break;
    }
    sleep_ms(5);
  }
  pid = 0;
  g_children[id - 1] = 0;
  return clean;
}

void Cluster::stop_all() {
  for (int id = 1; id <= size(); ++id) stop(id, 3000);
}

std::vector<Address> Cluster::client_addresses() const {
  std::vector<Address> out;
  for (const NodeInfo& n : config_.nodes) out.push_back(n.client);
  return out;
}

bool Cluster::status(int id, NodeStatus& out, int timeout_ms) const {
  LineConn conn;
  std::string line;
  return conn.open(node(id).client, timeout_ms) && conn.write_all("STATUS\n", timeout_ms) &&
         conn.read_line(line, timeout_ms) && parse_status(line, out);
}

int Cluster::wait_leader(int timeout_ms, int exclude) {
  const std::uint64_t end = now_ms() + static_cast<std::uint64_t>(timeout_ms);
  do {
    int best = 0;
    std::uint64_t best_term = 0;
    for (int id = 1; id <= size(); ++id) {
      NodeStatus st;
      if (id == exclude || !running(id) || !status(id, st, 200)) continue;
      if (st.role == "leader" && st.term >= best_term) {
        best = id;
        best_term = st.term;
      }
    }
    if (best != 0) return best;
    sleep_ms(5);
  } while (now_ms() < end);
  return 0;
}

bool Cluster::wait_converged(int timeout_ms) {
  const std::uint64_t end = now_ms() + static_cast<std::uint64_t>(timeout_ms);
  do {
    std::vector<NodeStatus> all;
    std::uint64_t leader_commit = 0;
    bool ok = true;
    for (int id = 1; id <= size() && ok; ++id) {
      NodeStatus st;
      ok = running(id) && status(id, st, 300);
      if (ok && st.role == "leader") leader_commit = std::max(leader_commit, st.commit);
      all.push_back(st);
    }
    if (ok && leader_commit > 0 && std::all_of(all.begin(), all.end(), [&](const NodeStatus& s) {
          return s.applied == leader_commit && s.digest == all[0].digest;
        }))
      return true;
    sleep_ms(20);
  } while (now_ms() < end);
  return false;
}

void Cluster::remove_dir() {
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string Cluster::log_tail(int id, int lines) const {
  std::ifstream in(log_path(id));
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) all.push_back(l);
  std::string out;
  const std::size_t from = all.size() > static_cast<std::size_t>(lines) ? all.size() - lines : 0;
  for (std::size_t i = from; i < all.size(); ++i) out += "    " + all[i] + "\n";
  return out;
}

void say_since(std::uint64_t start_ms, const char* fmt, ...) {
  char text[1024];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  std::printf("[%6.2fs] %s\n", static_cast<double>(now_ms() - start_ms) / 1000.0, text);
  std::fflush(stdout);
}

}  // namespace kv
