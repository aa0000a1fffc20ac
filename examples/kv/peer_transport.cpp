#include "peer_transport.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "log.hpp"
#include "net.hpp"

namespace kv {

namespace {

constexpr char kMagic[4] = {'R', 'K', 'V', '1'};
constexpr std::size_t kHelloBytes = 20;
constexpr std::uint64_t kMinBackoffMs = 20;
constexpr std::uint64_t kMaxBackoffMs = 1000;
constexpr std::size_t kMaxInboundConns = 64;  // peers reconnecting, plus strangers
constexpr std::size_t kReadChunk = 1u << 20;  // per wake-up, so no peer starves the others

}  // namespace

// ------------------------------------------------------------------ listener

class PeerTransport::Listener final : public Watcher {
 public:
  explicit Listener(PeerTransport& t) : t_(t) {}
  void on_event(std::uint32_t) override { t_.accept_all(); }

 private:
  PeerTransport& t_;
};

// ------------------------------------------------------------------ outbound

class PeerTransport::Outbound final : public Watcher {
 public:
  Outbound(PeerTransport& t, const NodeInfo& peer) : t_(t), peer_(peer) {}
  ~Outbound() override { disconnect(); }

  std::uint64_t id() const { return peer_.id; }
  std::uint64_t retry_at() const { return fd_ < 0 ? retry_at_ : UINT64_MAX; }

  void start_connect(std::uint64_t now) {
    if (fd_ >= 0 || now < retry_at_) return;
    bool in_progress = false;
    fd_ = connect_tcp(peer_.raft, &in_progress);
    if (fd_ < 0) {
      fail("connect");
      return;
    }
    connected_ = !in_progress;
    unsigned char hello[kHelloBytes];
    std::memcpy(hello, kMagic, 4);
    put_u64(hello + 4, t_.config_.cluster_id);
    put_u64(hello + 12, t_.self_);
    out_.clear();
    out_.append(hello, sizeof hello);
    interest_ = EPOLLIN | EPOLLOUT;
    t_.loop_.add(fd_, this, interest_);
    if (connected_) established();
  }

  // Queues one frame, or drops it (not connected, or the queue is full).
  void queue(const void* msg, std::size_t len) {
    if (fd_ < 0 || out_.size() + 4 + len > t_.limits_.max_queue_bytes) {
      ++t_.stats_.frames_dropped;
      return;
    }
    unsigned char header[4];
    put_u32(header, static_cast<std::uint32_t>(len));
    out_.append(header, 4);
    out_.append(msg, len);
    ++t_.stats_.frames_sent;
  }

  void flush() {
    if (fd_ < 0 || !connected_) return;
    if (!out_.empty() && write_some(fd_, out_) == Io::kClosed) {
      fail("write");
      return;
    }
    const std::uint32_t want = out_.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT;
    if (want != interest_) {
      interest_ = want;
      t_.loop_.modify(fd_, this, want);
    }
  }

  void on_event(std::uint32_t events) override {
    if (fd_ < 0) return;  // failed earlier in this batch
    if (!connected_) {
      const int err = socket_error(fd_);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        errno = err;
        fail("connect");
        return;
      }
      connected_ = true;
      established();
      return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      // Peers never write on this connection; data or EOF means it is over.
      Buffer junk;
      if (read_some(fd_, junk, 4096) == Io::kClosed || !junk.empty()) {
        fail("read");
        return;
      }
    }
    if (events & EPOLLOUT) flush();
  }

 private:
  void established() {
    ++t_.stats_.connects;
    if (backoff_ms_ > kMinBackoffMs || failures_ > 0)
      logf("connected to peer %llu at %s", static_cast<unsigned long long>(peer_.id),
           peer_.raft.str().c_str());
    backoff_ms_ = kMinBackoffMs;
    failures_ = 0;
    flush();
  }

  void disconnect() {
    if (fd_ < 0) return;
    t_.loop_.remove(fd_);
    close(fd_);
    fd_ = -1;
    connected_ = false;
    out_.clear();
  }

  void fail(const char* what) {
    const int err = errno;
    const bool was_connected = connected_;
    disconnect();
    ++t_.stats_.connect_failures;
    // Log the loss of a working link and the first failed attempt; a peer
    // that stays down must not flood the log.
    if (was_connected || failures_ == 0)
      logf("peer %llu at %s: %s failed (%s); retrying with backoff",
           static_cast<unsigned long long>(peer_.id), peer_.raft.str().c_str(), what,
           err ? std::strerror(err) : "closed");
    ++failures_;
    retry_at_ = now_ms() + t_.jitter(backoff_ms_);
    backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
  }

  PeerTransport& t_;
  const NodeInfo peer_;
  int fd_ = -1;
  bool connected_ = false;
  std::uint32_t interest_ = 0;  // what epoll watches for on fd_
  Buffer out_;
  std::uint64_t retry_at_ = 0;
  std::uint64_t backoff_ms_ = kMinBackoffMs;
  std::uint64_t failures_ = 0;
};

// ------------------------------------------------------------------ inbound

class PeerTransport::Inbound final : public Watcher {
 public:
  Inbound(PeerTransport& t, int fd) : t_(t), fd_(fd) { t_.loop_.add(fd_, this, EPOLLIN); }
  ~Inbound() override {
    if (fd_ >= 0) {
      t_.loop_.remove(fd_);
      close(fd_);
    }
  }

  void on_event(std::uint32_t) override {
    if (fd_ < 0) return;
    // Back-pressure: leave the bytes in the socket until raft catches up.
    if (t_.inbound_bytes_ >= t_.limits_.max_inbound_bytes) return;
    const Io io = read_some(fd_, in_, kReadChunk);
    if (!parse()) return;  // closed itself
    if (io == Io::kClosed) t_.close_inbound(this);
  }

 private:
  // Extracts whole frames; false if the connection was closed for cause.
  bool parse() {
    if (!hello_done_) {
      if (in_.size() < kHelloBytes) return true;
      const auto* p = reinterpret_cast<const unsigned char*>(in_.data());
      const std::uint64_t cluster = get_u64(p + 4);
      from_ = get_u64(p + 12);
      if (std::memcmp(p, kMagic, 4) != 0 || cluster != t_.config_.cluster_id || from_ == t_.self_ ||
          t_.config_.find(from_) == nullptr) {
        logf("refused a peer connection: bad hello (not RKV1, foreign cluster or unknown node)");
        ++t_.stats_.rejected_connections;
        t_.close_inbound(this);
        return false;
      }
      in_.consume(kHelloBytes);
      hello_done_ = true;
    }
    while (in_.size() >= 4) {
      const std::uint32_t len = get_u32(reinterpret_cast<const unsigned char*>(in_.data()));
      if (len == 0 || len > t_.limits_.max_frame) {
        logf("peer %llu sent a %u-byte frame (limit %zu); closing the connection",
             static_cast<unsigned long long>(from_), len, t_.limits_.max_frame);
        t_.close_inbound(this);
        return false;
      }
      if (in_.size() < 4 + static_cast<std::size_t>(len)) break;
      t_.deliver(std::string(in_.data() + 4, len));
      in_.consume(4 + static_cast<std::size_t>(len));
    }
    return true;
  }

  PeerTransport& t_;
  int fd_;
  Buffer in_;
  bool hello_done_ = false;
  std::uint64_t from_ = 0;
};

// ------------------------------------------------------------------ transport

PeerTransport::PeerTransport(EventLoop& loop, std::uint64_t self, const ClusterConfig& config,
                             const TransportLimits& limits)
    : loop_(loop), self_(self), config_(config), limits_(limits), rng_(now_us() ^ self) {
  for (const NodeInfo& n : config_.nodes) {
    if (n.id != self_) outbound_.push_back(std::make_unique<Outbound>(*this, n));
  }
}

PeerTransport::~PeerTransport() {
  outbound_.clear();
  inbound_conns_.clear();
  if (listen_fd_ >= 0) {
    loop_.remove(listen_fd_);
    close(listen_fd_);
  }
}

bool PeerTransport::listen(std::string& why) {
  const NodeInfo* me = config_.find(self_);
  if (me == nullptr) {
    why = "node " + std::to_string(self_) + " is not in the cluster";
    return false;
  }
  listen_fd_ = listen_tcp(me->raft);
  if (listen_fd_ < 0) {
    why = "cannot listen on " + me->raft.str() + ": " + std::strerror(errno);
    return false;
  }
  listener_ = std::make_unique<Listener>(*this);
  loop_.add(listen_fd_, listener_.get(), EPOLLIN);
  return true;
}

void PeerTransport::accept_all() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error: the next event retries
    if (inbound_conns_.size() >= kMaxInboundConns) {
      // Old connections of a restarted peer linger until their FIN arrives;
      // strangers must not exhaust descriptors in the meantime.
      ++stats_.rejected_connections;
      close(fd);
      continue;
    }
    set_nodelay(fd);
    inbound_conns_.push_back(std::make_unique<Inbound>(*this, fd));
  }
}

void PeerTransport::close_inbound(Inbound* in) {
  for (auto it = inbound_conns_.begin(); it != inbound_conns_.end(); ++it) {
    if (it->get() == in) {
      loop_.retire(std::move(*it));
      inbound_conns_.erase(it);
      return;
    }
  }
}

void PeerTransport::deliver(std::string frame) {
  ++stats_.frames_received;
  inbound_bytes_ += frame.size();
  inbound_.push_back(std::move(frame));
}

void PeerTransport::send(std::uint64_t to, const void* msg, std::size_t len) {
  for (auto& o : outbound_) {
    if (o->id() == to) {
      o->queue(msg, len);
      return;
    }
  }
  ++stats_.frames_dropped;  // libraft only addresses configured peers
}

int PeerTransport::receive(const void** msg, std::size_t* len) {
  if (inbound_.empty()) {
    current_.clear();
    return 0;
  }
  current_ = std::move(inbound_.front());
  inbound_.pop_front();
  inbound_bytes_ -= current_.size();
  *msg = current_.data();
  *len = current_.size();
  return 1;
}

void PeerTransport::flush() {
  for (auto& o : outbound_) o->flush();
}

void PeerTransport::on_timer(std::uint64_t now) {
  for (auto& o : outbound_) o->start_connect(now);
}

std::uint64_t PeerTransport::next_timer() const {
  std::uint64_t t = UINT64_MAX;
  for (const auto& o : outbound_) t = std::min(t, o->retry_at());
  return t;
}

std::uint64_t PeerTransport::jitter(std::uint64_t ms) {
  // Up to +50%: peers restarted together do not retry in lockstep.
  return ms + rng_() % (ms / 2 + 1);
}

}  // namespace kv
