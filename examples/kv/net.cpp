#include "net.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace kv {

bool parse_address(const std::string& text, Address& out, std::string& why, bool allow_zero) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    why = "'" + text + "' is not host:port";
    return false;
  }
  const std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  in_addr ignored{};
  if (inet_pton(AF_INET, host.c_str(), &ignored) != 1) {
    why = "'" + host + "' is not a numeric IPv4 address";
    return false;
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    why = "'" + port + "' is not a port number";
    return false;
  }
  const long value = std::strtol(port.c_str(), nullptr, 10);
  if (value > 65535 || (value == 0 && !allow_zero)) {
    why = "port " + port + " is out of range";
    return false;
  }
  out.host = host;
  out.port = static_cast<std::uint16_t>(value);
  return true;
}

namespace {

sockaddr_in to_sockaddr(const Address& addr) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(addr.port);
  inet_pton(AF_INET, addr.host.c_str(), &sa.sin_addr);
  return sa;
}

}  // namespace

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void set_nodelay(int fd) {
  // Raft messages and replies are small and latency-bound: no Nagle delay.
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int listen_tcp(const Address& addr) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in sa = to_sockaddr(addr);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 128) != 0) {
    const int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return ntohs(sa.sin_port);
}

int connect_tcp(const Address& addr, bool* in_progress) {
  *in_progress = false;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  set_nodelay(fd);
  const sockaddr_in sa = to_sockaddr(addr);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) return fd;
  if (errno == EINPROGRESS) {
    *in_progress = true;
    return fd;
  }
  const int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

int connect_tcp_blocking(const Address& addr, int timeout_ms) {
  bool in_progress = false;
  const int fd = connect_tcp(addr, &in_progress);
  if (fd < 0) return -1;
  if (in_progress) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, timeout_ms) != 1 || socket_error(fd) != 0) {
      close(fd);
      errno = ECONNREFUSED;
      return -1;
    }
  }
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

std::uint64_t now_ms() { return now_us() / 1000; }

std::uint64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace kv
