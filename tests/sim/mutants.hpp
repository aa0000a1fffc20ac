// Names for the deliberate bugs of src/core/config.hpp (enum Mutant), as the
// command line and scenario files spell them.
#pragma once

#include <cstdint>
#include <cstring>

namespace sim {

struct MutantName {
  const char* name;
  std::uint32_t mask;
  const char* what;
};

inline constexpr MutantName kMutants[] = {
    {"commit-old-term", 1u << 0, "commit earlier-term entries by counting replicas"},
    {"forget-vote", 1u << 1, "forget the vote when stepping down within a term"},
    {"count-stale-votes", 1u << 2, "count vote responses from other terms"},
    {"stale-append-resp", 1u << 3, "accept stale AppendEntries responses"},
    {"skip-noop", 1u << 4, "no no-op entry when elected"},
    {"send-before-sync", 1u << 5, "send a turn's messages before persisting it"},
    {"share-loose-key", 1u << 6,
     "send one AppendEntries frame to followers at different positions"},
};

inline std::uint32_t mutant_mask(const char* name) {
  for (const auto& m : kMutants) {
    if (std::strcmp(m.name, name) == 0) return m.mask;
  }
  return 0;
}

inline const char* mutant_name(std::uint32_t mask) {
  for (const auto& m : kMutants) {
    if (m.mask == mask) return m.name;
  }
  return "?";
}

}  // namespace sim
