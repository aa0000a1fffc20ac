// A growable byte buffer for a turn's outgoing frames and for queued
// proposals.  Unlike std::vector<uint8_t>::resize it does not zero the bytes
// it adds (the caller overwrites all of them), and appending is a capacity
// check and a pointer bump that the compiler inlines: at millions of entries
// per second, zero-filling and vector::insert are a measurable share of the
// CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

namespace raft::node {

class FrameBuffer {
 public:
  // n uninitialised bytes at the end; valid until the next append().
  std::uint8_t* append(std::size_t n) {
    if (capacity_ - size_ < n) grow(size_ + n);
    std::uint8_t* p = bytes_.get() + size_;
    size_ += n;
    return p;
  }
  const std::uint8_t* data() const { return bytes_.get(); }
  std::uint8_t* data() { return bytes_.get(); }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }
  void swap(FrameBuffer& other) noexcept {
    bytes_.swap(other.bytes_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  void grow(std::size_t needed) {
    std::size_t cap = capacity_ < 4096 ? 4096 : capacity_;
    while (cap < needed) cap *= 2;
    std::unique_ptr<std::uint8_t[]> bigger(new std::uint8_t[cap]);
    if (size_ > 0) std::memcpy(bigger.get(), bytes_.get(), size_);
    bytes_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<std::uint8_t[]> bytes_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace raft::node
