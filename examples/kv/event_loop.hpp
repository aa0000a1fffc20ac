// A minimal epoll wrapper: file descriptors are registered with a Watcher,
// whose on_event() runs when the fd is ready.  Level-triggered, so a watcher
// that leaves data unread (back-pressure) is simply called again.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace kv {

class Watcher {
 public:
  virtual ~Watcher() = default;
  // events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits.
  virtual void on_event(std::uint32_t events) = 0;
};

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool ok() const { return epfd_ >= 0; }
  void add(int fd, Watcher* w, std::uint32_t events);
  void modify(int fd, Watcher* w, std::uint32_t events);
  void remove(int fd);
  // Waits up to timeout_ms (-1: forever) and dispatches.  Returns the number
  // of events, 0 on timeout or EINTR.
  int wait(int timeout_ms);
  // Watchers closed during a dispatch may still have events queued in the
  // same batch: they are destroyed only after the batch.
  void retire(std::unique_ptr<Watcher> w);

 private:
  int epfd_ = -1;
  std::vector<std::unique_ptr<Watcher>> retired_;
};

}  // namespace kv
