// Every transition the simulator proposes carries bytes derived from its id,
// so that whoever applies it can check the payload arrived intact.
#pragma once

#include <cstdint>
#include <vector>

#include "prng.hpp"

namespace sim {

inline void payload_for(std::uint64_t id, std::vector<std::uint8_t>& out) {
  std::uint64_t s = id * 0x2545F4914F6CDD1DULL;
  out.resize(static_cast<std::size_t>(1 + id % 40));
  for (auto& b : out) b = static_cast<std::uint8_t>(splitmix64(s));
}

}  // namespace sim
