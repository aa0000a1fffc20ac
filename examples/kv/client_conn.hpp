// One client connection of the server: splits the input into request lines,
// hands each to the server with a sequence number, and writes the replies
// back strictly in request order, whatever order they are produced in (a
// redirect is immediate, a write waits for its log entry to apply).
//
// Bounded: it stops reading while kMaxOutstanding requests await their
// replies or kMaxOutput bytes await the socket, so a client that pipelines
// without reading cannot grow the server's memory.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "buffer.hpp"
#include "client_protocol.hpp"
#include "event_loop.hpp"

namespace kv {

class ClientConn;

class ClientSink {
 public:
  virtual ~ClientSink() = default;
  // A parsed request (never kQuit); answer now or later with conn.reply(seq, ...).
  virtual void on_request(ClientConn& conn, std::uint64_t seq, Request&& req) = 0;
  // The connection is gone; forget it (it is destroyed after this batch).
  virtual void on_closed(ClientConn& conn) = 0;
  // conn has replies to write (flushed once per loop iteration).
  virtual void on_dirty(ClientConn& conn) = 0;
};

class ClientConn final : public Watcher {
 public:
  static constexpr std::size_t kMaxOutstanding = 4096;
  static constexpr std::size_t kMaxOutput = 4u << 20;

  ClientConn(EventLoop& loop, ClientSink& sink, int fd, std::uint64_t id);
  ~ClientConn() override;

  std::uint64_t id() const { return id_; }
  // Fills reply slot `seq` (text ends with '\n').  Unknown seqs are ignored.
  void reply(std::uint64_t seq, std::string text);
  // Writes the replies that are ready, in order; may close the connection.
  void flush();

  void on_event(std::uint32_t events) override;

 private:
  struct Slot {
    bool ready = false;
    std::string text;
  };
  void read_requests();
  // Hands complete buffered lines to the sink while there is room; true if
  // it handed any.
  bool process_lines();
  void update_interest();
  void close_now();

  EventLoop& loop_;
  ClientSink& sink_;
  int fd_;
  const std::uint64_t id_;
  Buffer in_, out_;
  std::deque<Slot> slots_;  // slots_[0] is sequence number first_seq_
  std::uint64_t first_seq_ = 0;
  bool eof_ = false;          // the client sent EOF
  bool read_closed_ = false;  // EOF, QUIT or a protocol error: finish and close
  bool closed_ = false;
  std::uint32_t interest_ = 0;
};

}  // namespace kv
