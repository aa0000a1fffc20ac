#include "kv_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace kv {

bool LineConn::open(const Address& addr, int timeout_ms) {
  close();
  fd_ = connect_tcp_blocking(addr, timeout_ms);
  peer_ = addr;
  return fd_ >= 0;
}

void LineConn::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool LineConn::write_all(const std::string& data, int timeout_ms) {
  std::size_t done = 0;
  const std::uint64_t end = now_ms() + static_cast<std::uint64_t>(timeout_ms);
  while (done < data.size()) {
    const ssize_t n =
        ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const std::uint64_t now = now_ms();
      if (now >= end) return false;
      pollfd p{fd_, POLLOUT, 0};
      poll(&p, 1, static_cast<int>(end - now));
      continue;
    }
    return false;
  }
  return true;
}

bool LineConn::read_line(std::string& line, int timeout_ms) {
  const std::uint64_t end = now_ms() + static_cast<std::uint64_t>(timeout_ms);
  for (;;) {
    const auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      line.assign(buf_, 0, nl);
      buf_.erase(0, nl + 1);
      return true;
    }
    const std::uint64_t now = now_ms();
    if (now >= end) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(end - now));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(n));
  }
}

bool parse_redirect(const std::string& reply, Address& to) {
  if (reply.compare(0, 9, "REDIRECT ") != 0) return false;
  const auto space = reply.find(' ', 9);
  if (space == std::string::npos) return false;
  std::string why;
  return parse_address(reply.substr(space + 1), to, why);
}

KvClient::KvClient(std::vector<Address> servers, int timeout_ms)
    : servers_(std::move(servers)), timeout_ms_(timeout_ms) {
  if (servers_.empty()) servers_.push_back(Address{"127.0.0.1", 8001});
}

bool KvClient::ensure_connected() {
  if (conn_.is_open()) return true;
  return conn_.open(servers_[cur_], timeout_ms_);
}

void KvClient::next_server() {
  conn_.close();
  cur_ = (cur_ + 1) % servers_.size();
}

Outcome KvClient::call(const std::string& request, std::string& reply, int retry_ms) {
  const std::uint64_t end = now_ms() + static_cast<std::uint64_t>(retry_ms);
  reply.clear();
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      if (now_ms() >= end) return reply.empty() ? Outcome::kNotSent : Outcome::kReply;
      if (attempt >= 2) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!ensure_connected()) {
      next_server();
      reply.clear();
      continue;
    }
    if (!conn_.write_all(request + "\n", timeout_ms_)) {
      // A write that failed outright may still have reached the server.
      conn_.close();
      return Outcome::kLost;
    }
    if (!conn_.read_line(reply, timeout_ms_)) {
      conn_.close();
      return Outcome::kLost;
    }
    Address leader;
    if (parse_redirect(reply, leader)) {
      conn_.close();
      bool known = false;
      for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (servers_[i].str() == leader.str()) {
          cur_ = i;
          known = true;
        }
      }
      if (!known) {
        servers_.push_back(leader);
        cur_ = servers_.size() - 1;
      }
      continue;
    }
    if (reply == "ERR NOLEADER") {
      next_server();
      continue;
    }
    return Outcome::kReply;
  }
}

}  // namespace kv
