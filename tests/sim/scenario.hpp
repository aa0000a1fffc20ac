// Scripted scenarios: a small line-oriented language that drives the same
// World and Checker as the random runs, with the network under the script's
// control.  See docs/simulator.md for the language and tests/sim/scenarios/
// for the scenarios themselves.
#pragma once

#include <cstdio>
#include <string>

namespace sim {

struct ScenarioResult {
  bool ok = false;
  std::string message;  // why it failed, with file:line
};

// Runs one scenario file.  `trace` (may be null) receives every event.
ScenarioResult run_scenario(const std::string& path, FILE* trace, FILE* report);

}  // namespace sim
