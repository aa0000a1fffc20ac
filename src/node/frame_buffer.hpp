// A growable buffer of plain values: a turn's outgoing frames, queued
// proposals and their payloads.  Unlike std::vector::resize it does not
// initialise what it adds (the caller overwrites all of it), and appending
// is a capacity check and a pointer bump that the compiler inlines: at
// millions of entries per second, zero-filling and vector::insert are a
// measurable share of the CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <utility>

namespace raft::node {

template <typename T>
class PodBuffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "copied with memcpy, never destroyed");

 public:
  // n uninitialised values at the end; valid until the next append().  On
  // std::bad_alloc nothing changed.
  T* append(std::size_t n) {
    if (capacity_ - size_ < n) grow(size_ + n);
    T* p = values_.get() + size_;
    size_ += n;
    return p;
  }
  const T* data() const { return values_.get(); }
  T* data() { return values_.get(); }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }
  // Drop the values from n on (n <= size()).
  void truncate(std::size_t n) { size_ = n; }
  void swap(PodBuffer& other) noexcept {
    values_.swap(other.values_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  void grow(std::size_t needed) {
    std::size_t cap = capacity_ < kMinCapacity ? kMinCapacity : capacity_;
    while (cap < needed) cap *= 2;
    std::unique_ptr<T[]> bigger(new T[cap]);
    if (size_ > 0) std::memcpy(bigger.get(), values_.get(), size_ * sizeof(T));
    values_ = std::move(bigger);
    capacity_ = cap;
  }
  static constexpr std::size_t kMinCapacity = 4096 / sizeof(T) > 0 ? 4096 / sizeof(T) : 1;

  std::unique_ptr<T[]> values_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

using FrameBuffer = PodBuffer<std::uint8_t>;

}  // namespace raft::node
