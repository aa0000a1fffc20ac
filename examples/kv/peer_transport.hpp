// The TCP transport for Raft messages between replicas.
//
// Each replica opens one outbound connection to every peer and sends its
// messages there; it reads the messages of its peers from the connections
// they open to it.  One direction per connection means no tie-breaking when
// two replicas dial each other at once.
//
// A connection starts with a 20-byte hello ("RKV1", cluster id, sender id,
// little endian) and then carries frames: a 4-byte little-endian length and
// that many bytes of one libraft message.  Everything is non-blocking.
//
// Raft tolerates lost messages, which keeps this simple and bounded:
//  - a message for a peer that is not connected is dropped (the leader's next
//    heartbeat repairs the gap), and so is one that would push the peer's
//    send queue past max_queue_bytes: a dead or slow peer cannot grow memory;
//  - a failed connection is retried with exponential backoff (20 ms .. 1 s,
//    jittered) so that a restarted peer is found again quickly;
//  - inbound, a hello from a stranger or a frame longer than max_frame closes
//    the connection, and reading pauses while max_inbound_bytes wait.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "buffer.hpp"
#include "config.hpp"
#include "event_loop.hpp"

namespace kv {

struct TransportLimits {
  std::size_t max_frame = 8u << 20;
  std::size_t max_queue_bytes = 8u << 20;     // per peer, outbound
  std::size_t max_inbound_bytes = 16u << 20;  // all peers, waiting for raft
};

struct TransportStats {
  std::uint64_t frames_sent = 0, frames_dropped = 0, frames_received = 0;
  std::uint64_t connects = 0, connect_failures = 0, rejected_connections = 0;
};

class PeerTransport {
 public:
  PeerTransport(EventLoop& loop, std::uint64_t self, const ClusterConfig& config,
                const TransportLimits& limits);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds this replica's Raft address.
  bool listen(std::string& why);

  // libraft's send callback: queue one message for `to` (or drop it).
  void send(std::uint64_t to, const void* msg, std::size_t len);
  // libraft's receive callback: 1 and the next inbound message, or 0.
  int receive(const void** msg, std::size_t* len);
  bool inbound_pending() const { return !inbound_.empty(); }

  // Writes whatever send() queued (called once after each raft turn).
  void flush();
  // Starts the reconnects that are due; next_timer() is the earliest one.
  void on_timer(std::uint64_t now);
  std::uint64_t next_timer() const;

  const TransportStats& stats() const { return stats_; }

 private:
  class Listener;
  class Outbound;
  class Inbound;
  friend class Listener;
  friend class Outbound;
  friend class Inbound;

  void accept_all();
  void deliver(std::string frame);
  void close_inbound(Inbound* in);
  std::uint64_t jitter(std::uint64_t ms);

  EventLoop& loop_;
  const std::uint64_t self_;
  const ClusterConfig config_;
  const TransportLimits limits_;
  int listen_fd_ = -1;
  std::unique_ptr<Listener> listener_;
  std::vector<std::unique_ptr<Outbound>> outbound_;
  std::list<std::unique_ptr<Inbound>> inbound_conns_;
  std::deque<std::string> inbound_;
  std::size_t inbound_bytes_ = 0;
  std::string current_;  // the message receive() handed out last
  TransportStats stats_;
  std::mt19937_64 rng_;
};

}  // namespace kv
