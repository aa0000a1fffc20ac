// The core's only source of randomness: a small seeded generator, so that one
// seed reproduces a run exactly (the simulator depends on this).
#pragma once

#include <cstdint>

namespace raft::core {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}

  // splitmix64: tiny, fast, and good enough for timer jitter.
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  // Uniform in [lo, hi); lo when the range is empty.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
    return hi > lo ? lo + next() % (hi - lo) : lo;
  }

 private:
  std::uint64_t state_;
};

}  // namespace raft::core
