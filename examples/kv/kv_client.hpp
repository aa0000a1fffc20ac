// A blocking client for the raft-kv line protocol, used by raft-kv-cli, the
// demo and the crash test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "net.hpp"

namespace kv {

// One TCP connection carrying request and reply lines.
class LineConn {
 public:
  LineConn() = default;
  ~LineConn() { close(); }
  LineConn(const LineConn&) = delete;
  LineConn& operator=(const LineConn&) = delete;

  bool open(const Address& addr, int timeout_ms);
  bool is_open() const { return fd_ >= 0; }
  void close();
  // Writes everything (blocking, bounded by timeout_ms); false on failure.
  bool write_all(const std::string& data, int timeout_ms);
  // One line without its '\n'; false on EOF, error or timeout.
  bool read_line(std::string& line, int timeout_ms);
  const Address& peer() const { return peer_; }

 private:
  int fd_ = -1;
  Address peer_;
  std::string buf_;
};

// What became of a request.
enum class Outcome {
  kReply,    // a reply line arrived (it may itself be an error)
  kNotSent,  // no connection could take it: certainly not executed
  kLost,     // sent, but the connection failed before the reply: unknown
};

// "REDIRECT 2 127.0.0.1:8002" -> the address; false if not a redirect.
bool parse_redirect(const std::string& reply, Address& to);

class KvClient {
 public:
  KvClient(std::vector<Address> servers, int timeout_ms);

  // Sends one request and waits for its reply.  A REDIRECT is followed and
  // ERR NOLEADER / an unreachable server retried on the next server, both
  // only within retry_ms (both mean "not executed", so a retry is safe).
  Outcome call(const std::string& request, std::string& reply, int retry_ms);
  // The server the next request goes to.
  const Address& current() const { return servers_[cur_]; }

 private:
  bool ensure_connected();
  void next_server();

  std::vector<Address> servers_;
  std::size_t cur_ = 0;
  LineConn conn_;
  int timeout_ms_;
};

}  // namespace kv
