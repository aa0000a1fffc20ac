#include "buffer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace kv {

Io write_some(int fd, Buffer& buf) {
  while (!buf.empty()) {
    // MSG_NOSIGNAL: a peer that vanished must give EPIPE, not kill us.
    const ssize_t n = send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n > 0) {
      buf.consume(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::kWouldBlock;
    return Io::kClosed;
  }
  return Io::kProgress;
}

Io read_some(int fd, Buffer& buf, std::size_t max) {
  char chunk[64 * 1024];
  std::size_t total = 0;
  while (total < max) {
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
      total += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return total > 0 ? Io::kProgress : Io::kWouldBlock;
    if (n == 0) errno = 0;  // an orderly EOF: no error to report
    return Io::kClosed;
  }
  return Io::kProgress;
}

}  // namespace kv
