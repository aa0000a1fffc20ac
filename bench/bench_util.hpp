// Small helpers shared by the libraft benchmark modes: clocks, percentiles,
// process resource usage, the command line, and the RESULT line format that
// bench/report.sh parses.
#pragma once

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace bench {

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

// The millisecond clock handed to raft_node_poll.  Real: the monotonic clock,
// and idle waits sleep.  Virtual (for callgrind): time moves only when the
// cluster is idle, straight to the next deadline, so a run under valgrind
// executes the same instructions whatever valgrind's slowdown.
class Clock {
 public:
  explicit Clock(bool virtual_time) : virtual_(virtual_time), base_ns_(now_ns()) {}
  std::uint64_t now_ms() const { return virtual_ ? vnow_ : 1000 + (now_ns() - base_ns_) / 1000000; }
  // Nothing moved: wait for (or jump to) the earliest deadline.
  void idle_until(std::uint64_t deadline_ms) {
    const std::uint64_t now = now_ms();
    if (deadline_ms <= now) {
      if (virtual_) ++vnow_;
      return;
    }
    if (virtual_) {
      vnow_ = deadline_ms;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(deadline_ms - now));
    }
  }

 private:
  bool virtual_;
  std::uint64_t base_ns_;
  std::uint64_t vnow_ = 1000;
};

// p in [0, 100]; sorts the samples.
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

inline long peak_rss_kib() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// User plus system CPU time of the whole process (all threads), seconds.
inline double cpu_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// System (kernel) CPU time only: page faults, syscalls.
inline double sys_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_stime.tv_sec) + static_cast<double>(ru.ru_stime.tv_usec) / 1e6;
}

inline long minor_faults() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

// Resident set size now (not the peak), from /proc/self/statm.
inline long current_rss_kib() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// --key=value or --key value; a bare --flag is "1".
class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        std::fprintf(stderr, "unexpected argument '%s'\n", argv[i]);
        std::exit(2);
      }
      a = a.substr(2);
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        kv_[a.substr(0, eq)] = a.substr(eq + 1);
      } else if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) {
        kv_[a] = argv[++i];
      } else {
        kv_[a] = "1";
      }
    }
  }
  std::string str(const std::string& k, const std::string& def) const {
    auto it = kv_.find(k);
    return it == kv_.end() ? def : it->second;
  }
  std::uint64_t num(const std::string& k, std::uint64_t def) const {
    auto it = kv_.find(k);
    if (it == kv_.end()) return def;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(it->second.c_str(), &end, 0);
    if (end == it->second.c_str() || *end != '\0') {
      std::fprintf(stderr, "--%s: '%s' is not a number\n", k.c_str(), it->second.c_str());
      std::exit(2);
    }
    return v;
  }
  bool has(const std::string& k) const { return kv_.count(k) != 0; }

 private:
  std::map<std::string, std::string> kv_;
};

// One machine-readable line per result: "RESULT key=value ...".
class Result {
 public:
  explicit Result(const char* workload) { add("lib", "libraft").add("workload", workload); }
  Result& add(const char* k, const std::string& v) {
    line_ += ' ';
    line_ += k;
    line_ += '=';
    line_ += v;
    return *this;
  }
  Result& add(const char* k, std::uint64_t v) { return add(k, std::to_string(v)); }
  Result& add(const char* k, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return add(k, std::string(buf));
  }
  void print() const {
    std::printf("RESULT%s\n", line_.c_str());
    std::fflush(stdout);
  }

 private:
  std::string line_;
};

}  // namespace bench
