#include "client_conn.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cstring>

#include "client_protocol.hpp"

namespace kv {

ClientConn::ClientConn(EventLoop& loop, ClientSink& sink, int fd, std::uint64_t id)
    : loop_(loop), sink_(sink), fd_(fd), id_(id) {
  interest_ = EPOLLIN;
  loop_.add(fd_, this, interest_);
}

ClientConn::~ClientConn() {
  if (fd_ >= 0) {
    loop_.remove(fd_);
    close(fd_);
  }
}

void ClientConn::on_event(std::uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLHUP | EPOLLERR)) {
    // Reset or fully closed: no reply can be delivered any more.
    close_now();
    return;
  }
  if (events & EPOLLOUT) flush();
  if (closed_) return;
  if (events & EPOLLIN) read_requests();
}

void ClientConn::read_requests() {
  if (read_closed_) return;
  // EOF means the client half-closed (`nc -N`) or went away: answer what it
  // sent, then close.
  if (read_some(fd_, in_, 256 * 1024) == Io::kClosed) eof_ = true;
  flush();
}

bool ClientConn::process_lines() {
  bool any = false;
  while (!read_closed_ && slots_.size() < kMaxOutstanding && out_.size() < kMaxOutput) {
    const char* begin = in_.data();
    const void* nl = std::memchr(begin, '\n', in_.size());
    if (nl == nullptr) {
      if (in_.size() > kMaxLine) {
        slots_.push_back(Slot{true, "ERR BADREQ line too long\n"});
        read_closed_ = true;  // the next request boundary cannot be found
        in_.clear();
        any = true;
      }
      break;
    }
    const std::size_t len = static_cast<const char*>(nl) - begin;
    std::string line(begin, len);
    in_.consume(len + 1);
    any = true;
    const std::uint64_t seq = first_seq_ + slots_.size();
    slots_.emplace_back();
    Request req = parse_request(line);
    if (req.kind == Request::kQuit) {
      slots_.back().ready = true;  // no reply text: close after the others
      read_closed_ = true;
      break;
    }
    sink_.on_request(*this, seq, std::move(req));
  }
  if (eof_ && !read_closed_ && std::memchr(in_.data(), '\n', in_.size()) == nullptr)
    read_closed_ = true;
  return any;
}

void ClientConn::reply(std::uint64_t seq, std::string text) {
  if (seq < first_seq_ || seq >= first_seq_ + slots_.size()) return;
  Slot& s = slots_[seq - first_seq_];
  s.ready = true;
  s.text = std::move(text);
  sink_.on_dirty(*this);
}

void ClientConn::flush() {
  if (closed_) return;
  // Immediate replies free room for more buffered requests; a bounded
  // number of rounds keeps one busy client from monopolising the loop.
  bool more = true;
  for (int round = 0; round < 16 && more; ++round) {
    while (!slots_.empty() && slots_.front().ready) {
      out_.append(slots_.front().text);
      slots_.pop_front();
      ++first_seq_;
    }
    more = process_lines();
  }
  if (more) sink_.on_dirty(*this);  // come back at the end of this iteration
  if (!out_.empty() && write_some(fd_, out_) == Io::kClosed) {
    close_now();
    return;
  }
  if (read_closed_ && slots_.empty() && out_.empty()) {
    close_now();
    return;
  }
  update_interest();
}

void ClientConn::update_interest() {
  std::uint32_t want = 0;
  if (!read_closed_ && !eof_ && slots_.size() < kMaxOutstanding && out_.size() < kMaxOutput)
    want |= EPOLLIN;
  if (!out_.empty()) want |= EPOLLOUT;
  if (want != interest_) {
    interest_ = want;
    loop_.modify(fd_, this, want);
  }
}

void ClientConn::close_now() {
  if (closed_) return;
  closed_ = true;
  sink_.on_closed(*this);
}

}  // namespace kv
