#include "bench.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <vector>

#include "buffer.hpp"

namespace kv {

namespace {

struct Client {
  int fd = -1;
  int index = 0;
  std::uint64_t next = 0;
  std::deque<std::uint64_t> sent_us;  // send time of each request in flight, in order
  Buffer in, out;
  bool dead = false;
};

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const std::size_t i = std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()));
  return sorted[i] / 1000.0;
}

}  // namespace

bool run_bench(const BenchOptions& opt, BenchResult& out, std::string& why) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < opt.clients; ++i) {
    auto c = std::make_unique<Client>();
    c->fd = connect_tcp_blocking(opt.leader, 2000);
    if (c->fd < 0) {
      why = "cannot connect to " + opt.leader.str();
      for (auto& d : clients) close(d->fd);
      return false;
    }
    set_nonblocking(c->fd);
    set_nodelay(c->fd);
    c->index = i;
    clients.push_back(std::move(c));
  }
  const std::string value(opt.value_size, 'v');
  std::mt19937 rng(12345);
  std::vector<std::uint32_t> latencies;
  latencies.reserve(1 << 20);

  auto refill = [&](Client& c) {
    const std::uint64_t now = now_us();
    while (c.sent_us.size() < static_cast<std::size_t>(opt.depth)) {
      const std::string key =
          "bench-" + std::to_string(c.index) + "-" + std::to_string(c.next++ % opt.keys);
      if (static_cast<int>(rng() % 100) < opt.read_percent) {
        c.out.append("GET " + key + "\n");
      } else {
        c.out.append("PUT " + key + " " + value + "\n");
      }
      c.sent_us.push_back(now);
    }
  };

  const std::uint64_t start = now_us();
  const std::uint64_t end = start + static_cast<std::uint64_t>(opt.seconds * 1e6);
  for (auto& c : clients) refill(*c);
  std::vector<pollfd> fds(clients.size());
  while (now_us() < end) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      Client& c = *clients[i];
      if (!c.dead && !c.out.empty() && write_some(c.fd, c.out) == Io::kClosed) c.dead = true;
      fds[i].fd = c.dead ? -1 : c.fd;
      fds[i].events = static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT));
      fds[i].revents = 0;
    }
    if (std::all_of(clients.begin(), clients.end(), [](const auto& c) { return c->dead; })) break;
    if (poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      Client& c = *clients[i];
      if (c.dead || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const Io io = read_some(c.fd, c.in, 1 << 20);
      const std::uint64_t now = now_us();
      for (;;) {
        const char* begin = c.in.data();
        const auto* nl = static_cast<const char*>(std::memchr(begin, '\n', c.in.size()));
        if (nl == nullptr || c.sent_us.empty()) break;
        const std::string line(begin, nl);
        c.in.consume(static_cast<std::size_t>(nl - begin) + 1);
        const bool ok = line == "OK" || line.compare(0, 6, "VALUE ") == 0 || line == "NOTFOUND";
        if (ok) {
          latencies.push_back(static_cast<std::uint32_t>(
              std::min<std::uint64_t>(now - c.sent_us.front(), UINT32_MAX)));
        } else {
          ++out.errors;
          if (out.first_error.empty()) out.first_error = line;
        }
        c.sent_us.pop_front();
      }
      if (io == Io::kClosed) c.dead = true;
      if (!c.dead) refill(c);
    }
  }
  out.seconds = (now_us() - start) / 1e6;
  for (auto& c : clients) close(c->fd);
  out.ops = latencies.size();
  std::sort(latencies.begin(), latencies.end());
  out.p50_ms = percentile(latencies, 0.50);
  out.p90_ms = percentile(latencies, 0.90);
  out.p99_ms = percentile(latencies, 0.99);
  out.p999_ms = percentile(latencies, 0.999);
  out.max_ms = latencies.empty() ? 0 : latencies.back() / 1000.0;
  return true;
}

std::string format_bench(const BenchOptions& opt, const BenchResult& r) {
  char text[512];
  std::snprintf(text, sizeof text,
                "bench: %d clients x %d in flight, %zu-byte values, %d%% reads, %.1f s\n"
                "  %llu ops acknowledged, %.0f ops/s, %llu errors%s%s\n"
                "  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n",
                opt.clients, opt.depth, opt.value_size, opt.read_percent, r.seconds,
                static_cast<unsigned long long>(r.ops), r.seconds > 0 ? r.ops / r.seconds : 0.0,
                static_cast<unsigned long long>(r.errors),
                r.first_error.empty() ? "" : ", first: ", r.first_error.c_str(), r.p50_ms, r.p90_ms,
                r.p99_ms, r.p999_ms, r.max_ms);
  return text;
}

}  // namespace kv
