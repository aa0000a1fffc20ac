// Copying small payloads without a call into the C library.  Raft traffic is
// mostly entries of a few dozen bytes, each copied several times (queue, log,
// frame); for them the call and memcpy's size dispatch cost more than the
// copy.  Fixed-size memcpy calls compile to plain loads and stores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace raft {

// Copies n bytes from src to dst (which must not overlap).  Either may be
// null when n is 0.
inline void copy_bytes(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) {
  // Two fixed-size copies that overlap in the middle cover any length
  // between the size and twice the size.
  if (n > 64) {
    std::memcpy(dst, src, n);
  } else if (n > 32) {
    std::memcpy(dst, src, 32);
    std::memcpy(dst + n - 32, src + n - 32, 32);
  } else if (n > 16) {
    std::memcpy(dst, src, 16);
    std::memcpy(dst + n - 16, src + n - 16, 16);
  } else if (n >= 8) {
    std::memcpy(dst, src, 8);
    std::memcpy(dst + n - 8, src + n - 8, 8);
  } else if (n >= 4) {
    std::memcpy(dst, src, 4);
    std::memcpy(dst + n - 4, src + n - 4, 4);
  } else if (n > 0) {
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

}  // namespace raft
