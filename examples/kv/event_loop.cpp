#include "event_loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

namespace kv {

EventLoop::EventLoop() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {}

EventLoop::~EventLoop() {
  if (epfd_ >= 0) close(epfd_);
}

void EventLoop::add(int fd, Watcher* w, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = w;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

void EventLoop::modify(int fd, Watcher* w, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = w;
  epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

int EventLoop::wait(int timeout_ms) {
  epoll_event events[64];
  const int n = epoll_wait(epfd_, events, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    auto* w = static_cast<Watcher*>(events[i].data.ptr);
    bool gone = false;
    // A watcher retired earlier in this batch must not be called again.
    for (const auto& r : retired_) gone = gone || r.get() == w;
    if (!gone) w->on_event(events[i].events);
  }
  retired_.clear();
  return n < 0 ? 0 : n;
}

void EventLoop::retire(std::unique_ptr<Watcher> w) { retired_.push_back(std::move(w)); }

}  // namespace kv
