// One random run of the simulator: a seed draws a cluster, its options and
// its own fault intensities ("swarm testing": some seeds are calm, some
// lose a third of their messages, some replay old frames across terms...),
// then a fault phase of a fixed number of events, then a liveness phase:
// a majority core is healed and must elect one stable leader, finish every
// pending operation and converge.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "world.hpp"

namespace sim {

struct RunOptions {
  std::uint64_t seed = 1;
  std::uint64_t events = 10000;  // events in the fault phase
  int nodes = 0;                 // 0: drawn from the seed
  std::uint32_t mutants = 0;
  bool liveness = true;
  FILE* trace = nullptr;  // every event, as it happens
  bool describe = false;  // print the drawn configuration
};

struct RunResult {
  bool ok = true;
  std::string failure;
  std::uint64_t events = 0;  // all events, both phases
  std::uint64_t hash = 0;    // the determinism fingerprint
  std::uint64_t committed = 0;
  std::uint64_t max_term = 0;
  int nodes = 0;
  std::string config;  // one-line summary of what the seed drew
  SnapStats snap;      // what the snapshot machinery did
};

// Runs one seed.  On failure, prints the reproduction line and the last
// events to `report` (if not null).
RunResult run_seed(const RunOptions& opt, FILE* report);

// The command line that reproduces a run.
std::string repro_line(const RunOptions& opt);

}  // namespace sim
