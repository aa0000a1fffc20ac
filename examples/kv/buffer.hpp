// A byte queue for non-blocking sockets: append at the back, consume from the
// front; the consumed prefix is dropped lazily so consuming stays cheap.
#pragma once

#include <cstddef>
#include <string>

namespace kv {

class Buffer {
 public:
  void append(const void* p, std::size_t n) { data_.append(static_cast<const char*>(p), n); }
  void append(const std::string& s) { data_.append(s); }
  const char* data() const { return data_.data() + head_; }
  std::size_t size() const { return data_.size() - head_; }
  bool empty() const { return size() == 0; }
  void consume(std::size_t n) {
    head_ += n;
    if (head_ == data_.size()) {
      data_.clear();
      head_ = 0;
    } else if (head_ > 64 * 1024 && head_ * 2 > data_.size()) {
      data_.erase(0, head_);
      head_ = 0;
    }
  }
  void clear() {
    data_.clear();
    head_ = 0;
  }

 private:
  std::string data_;
  std::size_t head_ = 0;
};

// Outcome of one non-blocking read or write.
enum class Io { kProgress, kWouldBlock, kClosed };

// Writes as much of buf as the socket takes.
Io write_some(int fd, Buffer& buf);
// Reads up to max bytes onto the end of buf.
Io read_some(int fd, Buffer& buf, std::size_t max);

}  // namespace kv
