// raft-kv-cli bench: N client connections to the leader, each keeping
// `depth` requests in flight (pipelined), for a fixed time.  Prints ops/s and
// latency percentiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "net.hpp"

namespace kv {

struct BenchOptions {
  Address leader;
  int clients = 8;
  int depth = 16;
  double seconds = 5;
  std::size_t value_size = 64;
  std::size_t keys = 10000;  // distinct keys per client
  int read_percent = 0;      // GETs among the requests
};

struct BenchResult {
  std::uint64_t ops = 0, errors = 0;
  double seconds = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  std::string first_error;
};

// Runs the benchmark; false (with why) if it could not start.
bool run_bench(const BenchOptions& opt, BenchResult& out, std::string& why);
std::string format_bench(const BenchOptions& opt, const BenchResult& r);

}  // namespace kv
