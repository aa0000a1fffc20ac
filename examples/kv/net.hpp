// Small POSIX socket helpers shared by the raft-kv server and its clients.
#pragma once

#include <cstdint>
#include <string>

namespace kv {

// A host:port pair, numeric IPv4 only: the example runs on loopback and a
// resolver would add blocking calls to the event loop.
struct Address {
  std::string host;
  std::uint16_t port = 0;
  std::string str() const { return host + ":" + std::to_string(port); }
};

// Parses "127.0.0.1:7001".  Port 0 is accepted only when allow_zero is set.
bool parse_address(const std::string& text, Address& out, std::string& why,
                   bool allow_zero = false);

// A listening, non-blocking, close-on-exec TCP socket (SO_REUSEADDR, so a
// restarted node can take its port back at once).  -1 and errno on failure.
int listen_tcp(const Address& addr);
// The port a bound socket actually got (for port 0).
std::uint16_t local_port(int fd);
// Starts a non-blocking connect: the fd, or -1 on immediate failure.
// *in_progress tells whether completion must be awaited (EPOLLOUT).
int connect_tcp(const Address& addr, bool* in_progress);
// Blocking connect with a timeout in ms; -1 on failure.
int connect_tcp_blocking(const Address& addr, int timeout_ms);
// The pending error of a non-blocking connect (0 when it succeeded).
int socket_error(int fd);
void set_nonblocking(int fd);
void set_nodelay(int fd);

// CLOCK_MONOTONIC in milliseconds / microseconds.
std::uint64_t now_ms();
std::uint64_t now_us();

// Little-endian helpers for the frame headers.
inline void put_u32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint32_t get_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | p[i];
  return v;
}
inline void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace kv
