// The in-memory transport of the benchmarks: one inbox per node.  It is
// meant to cost as little as possible so that the library, not the harness,
// is measured: a send is one memcpy into a growable byte buffer (no
// allocation once the buffers have reached their working size) and a receive
// hands out a pointer into it.
//
// Each inbox has two buffers.  Senders append framed messages to `pending`;
// the owner reads `reading` and, once it is drained, swaps the two.  The
// owner's buffer is never touched by senders, so a pointer returned by
// receive() stays valid until the next receive(), as raft.h requires.  With
// `threaded`, appends and the swap take a mutex (raft_node_run threads);
// a single polling thread needs no lock.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

namespace bench {

// A byte buffer that grows by doubling and never zero-fills (std::vector
// would clear every byte before the memcpy overwrites it).
class ByteBuf {
 public:
  ByteBuf() = default;
  ByteBuf(const ByteBuf&) = delete;
  ByteBuf& operator=(const ByteBuf&) = delete;
  ~ByteBuf() { std::free(data_); }

  std::uint8_t* data() { return data_; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  void clear() { size_ = 0; }
  // Grows by n bytes (uninitialised) and returns a pointer to them.
  std::uint8_t* grow(std::size_t n) {
    if (size_ + n > cap_) {
      std::size_t cap = cap_ == 0 ? 4096 : cap_;
      while (cap < size_ + n) cap *= 2;
      void* p = std::realloc(data_, cap);
      if (p == nullptr) throw std::bad_alloc();
      data_ = static_cast<std::uint8_t*>(p);
      cap_ = cap;
    }
    std::uint8_t* p = data_ + size_;
    size_ += n;
    return p;
  }
  void swap(ByteBuf& o) {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(cap_, o.cap_);
  }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0, cap_ = 0;
};

class Inbox {
 public:
  explicit Inbox(bool threaded = false) : threaded_(threaded) {}
  void set_threaded(bool t) { threaded_ = t; }

  // Frame: 8-byte header holding the length, then the message padded to 8
  // bytes, so every message the library reads starts 8-byte aligned.
  void push(const void* msg, std::size_t len) {
    if (threaded_) {
      std::lock_guard<std::mutex> lock(mu_);
      append(msg, len);
    } else {
      append(msg, len);
    }
  }

  // 1 and the next message, or 0 when empty.
  int pop(const void** msg, std::size_t* len) {
    if (cursor_ >= reading_.size()) {
      reading_.clear();
      cursor_ = 0;
      if (threaded_) {
        std::lock_guard<std::mutex> lock(mu_);
        reading_.swap(pending_);
      } else {
        reading_.swap(pending_);
      }
      if (reading_.size() == 0) return 0;
    }
    std::uint64_t n;
    std::memcpy(&n, reading_.data() + cursor_, sizeof n);
    *msg = reading_.data() + cursor_ + 8;
    *len = static_cast<std::size_t>(n);
    cursor_ += 8 + pad8(static_cast<std::size_t>(n));
    return 1;
  }

  std::size_t buffer_bytes() const { return pending_.capacity() + reading_.capacity(); }
  std::uint64_t messages() const { return messages_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  static std::size_t pad8(std::size_t n) { return (n + 7) & ~static_cast<std::size_t>(7); }
  void append(const void* msg, std::size_t len) {
    std::uint8_t* p = pending_.grow(8 + pad8(len));
    const std::uint64_t n = len;
    std::memcpy(p, &n, sizeof n);
    std::memcpy(p + 8, msg, len);
    ++messages_;
    bytes_ += len;
  }

  bool threaded_;
  std::mutex mu_;
  ByteBuf pending_, reading_;
  std::size_t cursor_ = 0;
  std::uint64_t messages_ = 0, bytes_ = 0;  // written under the same rule as pending_
};

}  // namespace bench
