#include "server.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "log.hpp"
#include "net.hpp"

namespace kv {

namespace {

constexpr std::size_t kMaxClients = 1024;
constexpr std::uint32_t kMaxEntryBytes = 256 * 1024;  // a CAS with two maximal values fits

unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }

const char* role_name(raft_role r) {
  switch (r) {
    case RAFT_FOLLOWER:
      return "follower";
    case RAFT_PRE_CANDIDATE:
      return "pre-candidate";
    case RAFT_CANDIDATE:
      return "candidate";
    case RAFT_LEADER:
      return "leader";
  }
  return "unknown";
}

}  // namespace

// ------------------------------------------------------------------ watchers

class Server::ClientListener final : public Watcher {
 public:
  explicit ClientListener(Server& s) : s_(s) {}
  void on_event(std::uint32_t) override { s_.accept_clients(); }

 private:
  Server& s_;
};

// SIGTERM and SIGINT arrive through a signalfd, as ordinary loop events: the
// loop finishes its turn and shuts down cleanly, with no async-signal rules.
class Server::SignalWatcher final : public Watcher {
 public:
  SignalWatcher(Server& s, int fd) : s_(s), fd_(fd) {}
  ~SignalWatcher() override { close(fd_); }
  void on_event(std::uint32_t) override {
    signalfd_siginfo info{};
    while (read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      logf("%s: shutting down", strsignal(static_cast<int>(info.ssi_signo)));
      s_.stop_ = true;
    }
  }

 private:
  Server& s_;
  int fd_;
};

// ------------------------------------------------------------------ lifecycle

Server::Server(const ServerOptions& opt) : opt_(opt) {}

Server::~Server() {
  conns_.clear();
  raft_node_destroy(node_);  // closes the storage and releases its lock
  if (client_fd_ >= 0) {
    loop_.remove(client_fd_);
    close(client_fd_);
  }
}

bool Server::start(std::string& why) {
  if (!loop_.ok()) {
    why = std::string("epoll_create1: ") + std::strerror(errno);
    return false;
  }
  const NodeInfo* me = opt_.cluster.find(opt_.id);
  if (me == nullptr) {
    why = "node " + std::to_string(opt_.id) + " is not in the cluster description";
    return false;
  }

  // Signals first, so that a SIGTERM during start-up is not lost.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  const int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    why = std::string("signalfd: ") + std::strerror(errno);
    return false;
  }
  signals_ = std::make_unique<SignalWatcher>(*this, sfd);
  loop_.add(sfd, signals_.get(), EPOLLIN);

  TransportLimits limits;
  raft_options ro;
  raft_options_init(&ro);
  limits.max_frame = static_cast<std::size_t>(ro.max_batch_bytes) + kMaxEntryBytes + 64 * 1024;
  limits.max_queue_bytes = 2 * limits.max_frame;
  transport_ = std::make_unique<PeerTransport>(loop_, opt_.id, opt_.cluster, limits);
  if (!transport_->listen(why)) return false;

  client_fd_ = listen_tcp(me->client);
  if (client_fd_ < 0) {
    why = "cannot listen on " + me->client.str() + ": " + std::strerror(errno);
    return false;
  }
  client_listener_ = std::make_unique<ClientListener>(*this);
  loop_.add(client_fd_, client_listener_.get(), EPOLLIN);

  if (!opt_.data_dir.empty()) {
    // libraft creates the directory itself but not its parents; `--data-dir
    // /tmp/kv/1` on a fresh machine should just work.
    std::error_code ec;
    std::filesystem::create_directories(opt_.data_dir, ec);
    if (ec) {
      why = "cannot create " + opt_.data_dir + ": " + ec.message();
      return false;
    }
  }

  std::vector<raft_id> peers;
  for (const NodeInfo& n : opt_.cluster.nodes) {
    if (n.id != opt_.id) peers.push_back(n.id);
  }
  ro.id = opt_.id;
  ro.peers = peers.data();
  ro.n_peers = peers.size();
  ro.heartbeat_ms = opt_.heartbeat_ms;
  ro.election_timeout_min_ms = opt_.election_min_ms;
  ro.election_timeout_max_ms = opt_.election_max_ms;
  ro.data_dir = opt_.data_dir.empty() ? nullptr : opt_.data_dir.c_str();
  ro.cluster_id = opt_.cluster.cluster_id;
  ro.max_entry_bytes = kMaxEntryBytes;
  ro.log_level = opt_.verbose ? RAFT_LOG_INFO : RAFT_LOG_WARN;
  ro.snapshot_interval = opt_.snapshot_interval;

  raft_callbacks cb;
  raft_callbacks_init(&cb);
  cb.apply = cb_apply;
  cb.transition_state = cb_transition;
  cb.send = cb_send;
  cb.receive = cb_receive;
  cb.leader = cb_leader;
  cb.log = cb_log;
  cb.snapshot_save = cb_snapshot_save;
  cb.snapshot_load = cb_snapshot_load;
  const int rc = raft_node_create(&node_, &ro, &cb, this);
  if (rc != RAFT_OK) {
    why = std::string("raft_node_create: ") + raft_strerror(rc) + " (details above)";
    return false;
  }

  // Transition ids must never repeat, not even across restarts: the log of
  // an earlier run is applied again after a restart, and an old id equal to
  // a new pending one would answer the wrong request.  A random 56-bit start
  // per run, under the node id in the top byte, makes that vanishingly rare.
  std::random_device rd;
  id_base_ = (static_cast<std::uint64_t>(rd()) << 32 | rd()) & ((1ull << 56) - 1);

  logf("node %llu of %zu: raft %s, clients %s, data %s", ull(opt_.id), opt_.cluster.nodes.size(),
       me->raft.str().c_str(), me->client.str().c_str(),
       opt_.data_dir.empty() ? "(memory only)" : opt_.data_dir.c_str());
  return true;
}

int Server::run() {
  std::uint64_t deadline = 0;  // libraft's: poll at once
  while (!stop_) {
    std::uint64_t now = now_ms();
    std::uint64_t wake = std::min(deadline, transport_->next_timer());
    if (!deadlines_.empty()) wake = std::min(wake, deadlines_.front().first);
    int timeout = 0;
    if (!transport_->inbound_pending() && !proposed_ && dirty_.empty() && wake > now)
      timeout = static_cast<int>(std::min<std::uint64_t>(wake - now, 1000));
    loop_.wait(timeout);
    if (stop_) break;
    now = now_ms();
    transport_->on_timer(now);
    if (transport_->inbound_pending() || proposed_ || now >= deadline) {
      proposed_ = false;
      const int rc = raft_node_poll(node_, now, &deadline);
      if (rc != RAFT_OK) {
        logf("fatal: raft_node_poll: %s: %s", raft_strerror(rc), raft_node_errmsg(node_));
        fatal_ = rc;
        break;
      }
    }
    transport_->flush();
    expire_pending(now);
    flush_clients();
  }
  fail_all_pending("ERR UNKNOWN the server is shutting down\n");
  flush_clients();
  logf("stopped (%llu conflicts, %llu timeouts)", ull(conflicts_), ull(timeouts_));
  return fatal_ != 0 ? 1 : 0;
}

// ------------------------------------------------------------------ clients

void Server::accept_clients() {
  for (;;) {
    const int fd = accept4(client_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (conns_.size() >= kMaxClients) {
      static const char kFull[] = "ERR BUSY too many clients\n";
      (void)!send(fd, kFull, sizeof kFull - 1, MSG_NOSIGNAL);
      close(fd);
      continue;
    }
    set_nodelay(fd);
    const std::uint64_t id = next_conn_id_++;
    conns_.emplace(id, std::make_unique<ClientConn>(loop_, *this, fd, id));
  }
}

void Server::on_request(ClientConn& conn, std::uint64_t seq, Request&& req) {
  switch (req.kind) {
    case Request::kBad:
      conn.reply(seq, "ERR BADREQ " + req.why + "\n");
      return;
    case Request::kPing:
      conn.reply(seq, "PONG\n");
      return;
    case Request::kStatus:
      conn.reply(seq, status_line());
      return;
    case Request::kQuit:  // handled by the connection
      return;
    case Request::kCommand:
      if (leader_ != opt_.id) {
        conn.reply(seq, not_leader_reply());
      } else {
        propose(conn, seq, req.command);
      }
      return;
  }
}

void Server::propose(ClientConn& conn, std::uint64_t seq, const Command& c) {
  const std::uint64_t id = next_transition_id();
  const std::string entry = encode_command(c);
  const int rc = raft_node_propose(node_, id, entry.data(), entry.size());
  if (rc != RAFT_OK) {
    // Not queued, so certainly not applied: a definite refusal.
    conn.reply(seq, rc == RAFT_ETOOBIG ? "ERR BADREQ request too large\n"
                                       : std::string("ERR BUSY ") + raft_strerror(rc) + "\n");
    return;
  }
  pending_.emplace(id, Pending{conn.id(), seq});
  deadlines_.emplace_back(now_ms() + opt_.request_timeout_ms, id);
  proposed_ = true;
}

std::string Server::not_leader_reply() const {
  // The leader callback may still name us in the turn that deposed us.
  const NodeInfo* leader = leader_ == opt_.id ? nullptr : opt_.cluster.find(leader_);
  if (leader == nullptr) return "ERR NOLEADER\n";
  return "REDIRECT " + std::to_string(leader->id) + " " + leader->client.str() + "\n";
}

std::string Server::status_line() {
  raft_status st;
  raft_status_init(&st);
  raft_node_status(node_, &st);
  char line[512];
  std::snprintf(line, sizeof line,
                "STATUS id=%llu role=%s term=%llu leader=%llu commit=%llu applied=%llu last=%llu "
                "keys=%zu digest=%016" PRIx64
                " pending=%zu elections=%llu conflicts=%llu timeouts=%llu dropped=%llu\n",
                ull(st.id), role_name(st.role), ull(st.term), ull(st.leader), ull(st.commit_index),
                ull(st.applied_index), ull(st.last_index), store_.size(), store_.digest(),
                pending_.size(), ull(st.elections_started), ull(conflicts_), ull(timeouts_),
                ull(transport_->stats().frames_dropped));
  return line;
}

void Server::resolve(std::uint64_t id, std::string text) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) return;
  const auto conn = conns_.find(it->second.conn);
  if (conn != conns_.end()) conn->second->reply(it->second.seq, std::move(text));
  pending_.erase(it);
}

void Server::expire_pending(std::uint64_t now) {
  // Entries answered already are dropped too, expired or not: replies mostly
  // come in proposal order, so this keeps the queue as short as pending_.
  while (!deadlines_.empty() &&
         (deadlines_.front().first <= now || pending_.count(deadlines_.front().second) == 0)) {
    const std::uint64_t id = deadlines_.front().second;
    deadlines_.pop_front();
    if (pending_.count(id) == 0) continue;
    ++timeouts_;
    resolve(id, "ERR UNKNOWN timed out waiting for the entry to apply\n");
  }
}

void Server::fail_all_pending(const std::string& text) {
  std::vector<std::uint64_t> ids;
  for (const auto& p : pending_) ids.push_back(p.first);
  for (std::uint64_t id : ids) resolve(id, text);
  deadlines_.clear();
}

void Server::on_closed(ClientConn& conn) {
  dirty_.erase(&conn);
  const auto it = conns_.find(conn.id());
  if (it == conns_.end()) return;
  loop_.retire(std::move(it->second));
  conns_.erase(it);
}

void Server::on_dirty(ClientConn& conn) { dirty_.insert(&conn); }

void Server::flush_clients() {
  if (dirty_.empty()) return;
  const std::vector<ClientConn*> batch(dirty_.begin(), dirty_.end());
  dirty_.clear();
  for (ClientConn* c : batch) c->flush();
}

std::uint64_t Server::next_transition_id() {
  const std::uint64_t low = (id_base_ + ++id_counter_) & ((1ull << 56) - 1);
  return (opt_.id & 0xff) << 56 | low;
}

// ------------------------------------------------------------------ libraft callbacks

// These run inside raft_node_poll on the loop thread.  They are noexcept: an
// exception must not unwind through libraft's C ABI, and the only one
// possible here (std::bad_alloc) is fatal for a server anyway.

void Server::cb_apply(std::uint64_t id, const void* data, std::size_t len, void* user) noexcept {
  auto* s = static_cast<Server*>(user);
  const Result r = s->store_.apply(data, len);
  if (r.kind == Result::kMalformed)
    logf("warning: entry %016" PRIx64 " is not a valid command; ignored", id);
  if (s->pending_.count(id) != 0) s->resolve(id, format_result(r));
}

void Server::cb_transition(std::uint64_t id, raft_transition_state state, void* user) noexcept {
  auto* s = static_cast<Server*>(user);
  switch (state) {
    case RAFT_TRANSITION_ABANDONED_NOT_LEADER:
      // Never logged anywhere: the refusal is definite.
      s->resolve(id, s->not_leader_reply());
      break;
    case RAFT_TRANSITION_UNKNOWN:
      s->resolve(id, "ERR UNKNOWN the log position was replaced by the leader's snapshot\n");
      break;
    case RAFT_TRANSITION_ABANDONED_CONFLICT:
      // Reported as unknown rather than refused: see README, "Outcomes".
      ++s->conflicts_;
      s->resolve(id, "ERR UNKNOWN the entry was replaced by a new leader's log\n");
      break;
    default:  // QUEUED, COMMITTED; APPLIED was answered by apply()
      break;
  }
}

void Server::cb_send(raft_id to, const void* msg, std::size_t len, void* user) noexcept {
  static_cast<Server*>(user)->transport_->send(to, msg, len);
}

int Server::cb_receive(const void** msg, std::size_t* len, void* user) noexcept {
  return static_cast<Server*>(user)->transport_->receive(msg, len);
}

void Server::cb_leader(raft_id leader, void* user) noexcept {
  auto* s = static_cast<Server*>(user);
  s->leader_ = leader;
  if (leader == s->opt_.id) {
    logf("became the leader");
  } else if (leader != RAFT_NO_ID) {
    logf("leader is node %llu", ull(leader));
  } else {
    logf("no leader known");
  }
}

// The map is small enough to serialise in one step; a store too large for
// that would save in slices and return RAFT_SNAPSHOT_MORE in between.
int Server::cb_snapshot_save(raft_snapshot_writer* w, std::uint64_t, void* user) noexcept {
  const std::string bytes = static_cast<Server*>(user)->store_.serialize();
  return raft_snapshot_write(w, bytes.data(), bytes.size());
}

int Server::cb_snapshot_load(raft_snapshot_reader* r, std::uint64_t index, void* user) noexcept {
  auto* s = static_cast<Server*>(user);
  std::string bytes;
  char buf[65536];
  std::int64_t got;
  while ((got = raft_snapshot_read(r, buf, sizeof buf)) > 0)
    bytes.append(buf, static_cast<std::size_t>(got));
  if (got < 0) {
    logf("snapshot %llu: %s", ull(index), raft_strerror(static_cast<int>(got)));
    return static_cast<int>(got);
  }
  if (!s->store_.restore(bytes)) {
    logf("snapshot %llu: malformed contents", ull(index));
    return RAFT_ECORRUPT;
  }
  return RAFT_OK;
}

void Server::cb_log(raft_log_level level, const char* msg, void* user) noexcept {
  (void)user;
  const char* name = level == RAFT_LOG_ERROR  ? "error"
                     : level == RAFT_LOG_WARN ? "warning"
                     : level == RAFT_LOG_INFO ? "info"
                                              : "debug";
  logf("libraft %s: %s", name, msg);
}

}  // namespace kv
