// The raft-kv server: one replica of the key-value store.
//
// Single-threaded.  One epoll loop watches the Raft peer sockets, the client
// sockets and a signalfd, and drives libraft with raft_node_poll() whenever a
// message or proposal is waiting or libraft's deadline has passed.  Every
// libraft callback therefore runs on this thread, which lets the apply
// callback answer clients directly with no locking.
//
// How a request is answered (see README.md for the reasoning):
//  - not the leader: REDIRECT to the leader (or ERR NOLEADER), nothing
//    proposed, so the refusal is definite;
//  - PUT, DEL, CAS and GET are proposed as log entries with a fresh
//    transition id; the reply is sent when apply() sees that id, so a write
//    is acknowledged only once applied, and a GET returns the state at its
//    own position in the log (linearizable);
//  - ABANDONED_NOT_LEADER: definite refusal (REDIRECT / ERR NOLEADER);
//  - ABANDONED_CONFLICT, a timeout or shutdown: ERR UNKNOWN.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "client_conn.hpp"
#include "config.hpp"
#include "event_loop.hpp"
#include "kv_store.hpp"
#include "peer_transport.hpp"
#include "raft.h"

namespace kv {

struct ServerOptions {
  std::uint64_t id = 0;
  ClusterConfig cluster;
  std::string data_dir;  // empty: memory only (not crash-safe)
  std::uint32_t heartbeat_ms = 50;
  std::uint32_t election_min_ms = 150;
  std::uint32_t election_max_ms = 300;
  std::uint32_t request_timeout_ms = 5000;
  std::uint64_t snapshot_interval = 10000;  // applied entries between snapshots; 0: never
  bool verbose = false;                     // libraft's info-level log lines too
};

class Server final : public ClientSink {
 public:
  explicit Server(const ServerOptions& opt);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens sockets and storage.  false (with why) on failure.
  bool start(std::string& why);
  // Serves until SIGTERM/SIGINT (0) or a fatal libraft error (1).
  int run();

  // ClientSink
  void on_request(ClientConn& conn, std::uint64_t seq, Request&& req) override;
  void on_closed(ClientConn& conn) override;
  void on_dirty(ClientConn& conn) override;

 private:
  class ClientListener;
  class SignalWatcher;

  struct Pending {  // a proposal waiting for its outcome
    std::uint64_t conn;
    std::uint64_t seq;
  };

  // libraft callbacks; `user` is the Server.
  static void cb_apply(std::uint64_t id, const void* data, std::size_t len, void* user) noexcept;
  static void cb_transition(std::uint64_t id, raft_transition_state state, void* user) noexcept;
  static void cb_send(raft_id to, const void* msg, std::size_t len, void* user) noexcept;
  static int cb_receive(const void** msg, std::size_t* len, void* user) noexcept;
  static void cb_leader(raft_id leader, void* user) noexcept;
  static void cb_log(raft_log_level level, const char* msg, void* user) noexcept;
  static int cb_snapshot_save(raft_snapshot_writer* w, std::uint64_t index, void* user) noexcept;
  static int cb_snapshot_load(raft_snapshot_reader* r, std::uint64_t index, void* user) noexcept;

  void accept_clients();
  void propose(ClientConn& conn, std::uint64_t seq, const Command& c);
  std::string not_leader_reply() const;
  std::string status_line();
  // Answers a pending proposal (if it is still pending) and forgets it.
  void resolve(std::uint64_t id, std::string text);
  void expire_pending(std::uint64_t now);
  void fail_all_pending(const std::string& text);
  void flush_clients();
  std::uint64_t next_transition_id();

  ServerOptions opt_;
  EventLoop loop_;  // first: everything below registers with it
  std::unique_ptr<PeerTransport> transport_;
  raft_node* node_ = nullptr;
  KvStore store_;
  raft_id leader_ = RAFT_NO_ID;

  int client_fd_ = -1;
  std::unique_ptr<ClientListener> client_listener_;
  std::unique_ptr<SignalWatcher> signals_;
  std::unordered_map<std::uint64_t, std::unique_ptr<ClientConn>> conns_;
  std::unordered_set<ClientConn*> dirty_;
  std::uint64_t next_conn_id_ = 1;

  std::unordered_map<std::uint64_t, Pending> pending_;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> deadlines_;  // (deadline, id), in order
  std::uint64_t id_base_ = 0, id_counter_ = 0;
  bool proposed_ = false;  // a proposal waits for the next raft turn
  bool stop_ = false;
  int fatal_ = 0;  // a libraft error code that ended the loop
  std::uint64_t conflicts_ = 0, timeouts_ = 0;
};

}  // namespace kv
