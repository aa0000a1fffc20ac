// raft-sim: the deterministic simulator's command line.
//
//   raft-sim --seed S [--seeds N] [--events E] [--nodes K] [--trace]
//            [--mutant NAME]... [--no-liveness] [--describe] [--jobs J]
//   raft-sim --determinism [--seed S] [--seeds N]
//   raft-sim --mutation-test [--budget N] [--jobs J]
//   raft-sim --scenario FILE...
//
// Wall-clock time is read here only to report events per second; nothing
// that influences a run depends on it.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mutants.hpp"
#include "scenario.hpp"
#include "swarm.hpp"

namespace {

struct Args {
  sim::RunOptions run;
  std::uint64_t seeds = 1;
  bool determinism = false;
  bool mutation = false;
  std::uint64_t budget = 2000;
  std::uint64_t max_failures = 10;
  int jobs = 1;
  bool quiet = false;
  std::vector<std::string> scenarios;
};

void usage() {
  std::fprintf(stderr,
               "usage: raft-sim [--seed S] [--seeds N] [--events E] [--nodes K] [--trace]\n"
               "                [--mutant NAME]... [--no-liveness] [--describe] [--jobs J]\n"
               "                [--max-failures N] [--quiet]\n"
               "       raft-sim --determinism [--seed S] [--seeds N]\n"
               "       raft-sim --mutation-test [--budget SEEDS] [--jobs J]\n"
               "       raft-sim --scenario FILE...\n"
               "mutants:");
  for (const auto& m : sim::kMutants) std::fprintf(stderr, " %s", m.name);
  std::fprintf(stderr, "\n");
}

bool parse_u64(const char* s, std::uint64_t* out) {
  if (s == nullptr || *s == '\0') return false;
  char* end = nullptr;
  *out = std::strtoull(s, &end, 0);
  return *end == '\0';
}

bool parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string w = argv[i];
    const char* next = i + 1 < argc ? argv[i + 1] : nullptr;
    std::uint64_t v = 0;
    auto value = [&]() {
      if (!parse_u64(next, &v)) {
        std::fprintf(stderr, "raft-sim: %s needs a number\n", w.c_str());
        return false;
      }
      ++i;
      return true;
    };
    if (w == "--help" || w == "-h") {
      usage();
      std::exit(0);
    } else if (w == "--seed") {
      if (!value()) return false;
      a->run.seed = v;
    } else if (w == "--seeds") {
      if (!value()) return false;
      a->seeds = v;
    } else if (w == "--events") {
      if (!value()) return false;
      a->run.events = v;
    } else if (w == "--nodes") {
      if (!value() || v < 1 || v > 7) {
        std::fprintf(stderr, "raft-sim: --nodes takes 1..7\n");
        return false;
      }
      a->run.nodes = static_cast<int>(v);
    } else if (w == "--max-failures") {
      if (!value()) return false;
      a->max_failures = v;
    } else if (w == "--budget") {
      if (!value()) return false;
      a->budget = v;
    } else if (w == "--jobs") {
      if (!value() || v < 1 || v > 64) return false;
      a->jobs = static_cast<int>(v);
    } else if (w == "--mutant") {
      const std::uint32_t m = next ? sim::mutant_mask(next) : 0;
      if (m == 0) {
        std::fprintf(stderr, "raft-sim: unknown mutant '%s'\n", next ? next : "");
        usage();
        return false;
      }
      a->run.mutants |= m;
      ++i;
    } else if (w == "--scenario") {
      if (next == nullptr) return false;
      // Every following non-option argument is a scenario file too.
      while (i + 1 < argc && argv[i + 1][0] != '-') a->scenarios.push_back(argv[++i]);
    } else if (w == "--trace") {
      a->run.trace = stdout;
    } else if (w == "--no-liveness") {
      a->run.liveness = false;
    } else if (w == "--describe") {
      a->run.describe = true;
    } else if (w == "--determinism") {
      a->determinism = true;
    } else if (w == "--mutation-test") {
      a->mutation = true;
    } else if (w == "--quiet") {
      a->quiet = true;
    } else {
      std::fprintf(stderr, "raft-sim: unknown argument '%s'\n", w.c_str());
      usage();
      return false;
    }
  }
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Tally {
  std::uint64_t seeds = 0, failures = 0, events = 0;
  // Snapshot coverage: seeds that took / transferred one, and totals.
  std::uint64_t seeds_saving = 0, seeds_installing = 0, seeds_restoring = 0;
  sim::SnapStats snap;
  void add(const sim::SnapStats& s) {
    seeds_saving += s.saves > 0 ? 1 : 0;
    seeds_installing += s.installs > 0 ? 1 : 0;
    seeds_restoring += s.restores > 0 ? 1 : 0;
    snap.saves += s.saves;
    snap.save_steps += s.save_steps;
    snap.save_failures += s.save_failures;
    snap.commits += s.commits;
    snap.compactions += s.compactions;
    snap.installs += s.installs;
    snap.restores += s.restores;
    snap.chunks += s.chunks;
    snap.chunk_bytes += s.chunk_bytes;
  }
  void add(const Tally& t) {
    seeds += t.seeds;
    failures += t.failures;
    events += t.events;
    seeds_saving += t.seeds_saving;
    seeds_installing += t.seeds_installing;
    seeds_restoring += t.seeds_restoring;
    snap.saves += t.snap.saves;
    snap.save_steps += t.snap.save_steps;
    snap.save_failures += t.snap.save_failures;
    snap.commits += t.snap.commits;
    snap.compactions += t.snap.compactions;
    snap.installs += t.snap.installs;
    snap.restores += t.snap.restores;
    snap.chunks += t.snap.chunks;
    snap.chunk_bytes += t.snap.chunk_bytes;
  }
};

// Runs the seeds assigned to worker `job` of `jobs` (seed index % jobs).
Tally run_slice(const Args& a, int job, int jobs) {
  Tally t;
  for (std::uint64_t k = static_cast<std::uint64_t>(job); k < a.seeds;
       k += static_cast<std::uint64_t>(jobs)) {
    sim::RunOptions o = a.run;
    o.seed = a.run.seed + k;
    const sim::RunResult r = sim::run_seed(o, stdout);
    ++t.seeds;
    t.events += r.events;
    t.add(r.snap);
    if (!r.ok) {
      ++t.failures;
      if (t.failures >= a.max_failures) {
        std::printf("stopping this worker after %" PRIu64 " failures\n", t.failures);
        break;
      }
    }
  }
  return t;
}

// Runs work(job, jobs) in `jobs` processes and adds up their tallies.
template <typename F>
Tally fan_out(int jobs, F work) {
  if (jobs <= 1) return work(0, 1);
  std::fflush(stdout);
  std::vector<pid_t> pids;
  std::vector<int> fds;
  for (int j = 0; j < jobs; ++j) {
    int fd[2];
    if (pipe(fd) != 0) {
      std::perror("pipe");
      std::exit(2);
    }
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      std::exit(2);
    }
    if (pid == 0) {
      close(fd[0]);
      const Tally t = work(j, jobs);
      std::fflush(stdout);
      const ssize_t w = write(fd[1], &t, sizeof t);
      _exit(w == static_cast<ssize_t>(sizeof t) ? 0 : 3);
    }
    close(fd[1]);
    pids.push_back(pid);
    fds.push_back(fd[0]);
  }
  Tally total;
  for (int j = 0; j < jobs; ++j) {
    Tally t;
    const ssize_t got = read(fds[j], &t, sizeof t);
    close(fds[j]);
    int status = 0;
    waitpid(pids[j], &status, 0);
    if (got != static_cast<ssize_t>(sizeof t) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::printf("worker %d died (status %d)\n", j, status);
      ++total.failures;
      continue;
    }
    total.add(t);
  }
  return total;
}

int cmd_seeds(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const Tally t = fan_out(a.jobs, [&](int j, int n) { return run_slice(a, j, n); });
  const double s = seconds_since(t0);
  std::printf("seeds %" PRIu64 "..%" PRIu64 ": %" PRIu64 " run, %" PRIu64 " failed; %" PRIu64
              " events in %.1fs (%.0f events/s with %d job%s)\n",
              a.run.seed, a.run.seed + a.seeds - 1, t.seeds, t.failures, t.events, s,
              s > 0 ? static_cast<double>(t.events) / s : 0.0, a.jobs, a.jobs > 1 ? "s" : "");
  std::printf("snapshots: %" PRIu64 " seeds saved one, %" PRIu64 " installed one, %" PRIu64
              " restored one; %" PRIu64 " saves (%" PRIu64 " extra steps, %" PRIu64
              " failed on purpose), %" PRIu64 " stored, %" PRIu64 " compactions, %" PRIu64
              " installs, %" PRIu64 " restores, %" PRIu64 " chunks (%" PRIu64 " KiB)\n",
              t.seeds_saving, t.seeds_installing, t.seeds_restoring, t.snap.saves,
              t.snap.save_steps, t.snap.save_failures, t.snap.commits, t.snap.compactions,
              t.snap.installs, t.snap.restores, t.snap.chunks, t.snap.chunk_bytes / 1024);
  return t.failures == 0 ? 0 : 1;
}

int cmd_determinism(const Args& a) {
  int bad = 0;
  for (std::uint64_t k = 0; k < a.seeds; ++k) {
    sim::RunOptions o = a.run;
    o.seed = a.run.seed + k;
    o.trace = nullptr;
    const sim::RunResult r1 = sim::run_seed(o, nullptr);
    const sim::RunResult r2 = sim::run_seed(o, nullptr);
    const bool same =
        r1.hash == r2.hash && r1.events == r2.events && r1.ok == r2.ok && r1.failure == r2.failure;
    if (!a.quiet || !same) {
      std::printf("determinism seed %" PRIu64 ": %s (%" PRIu64 " events, hash %016" PRIx64
                  " / %016" PRIx64 ")\n",
                  o.seed, same ? "identical" : "DIFFERENT", r1.events, r1.hash, r2.hash);
    }
    if (!same) ++bad;
  }
  std::printf("determinism: %" PRIu64 " seeds run twice, %d differed\n", a.seeds, bad);
  return bad == 0 ? 0 : 1;
}

// For each mutant, the first seed (from --seed on) whose run fails.
int cmd_mutation(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const int n = static_cast<int>(sizeof sim::kMutants / sizeof sim::kMutants[0]);
  auto work = [&](int job, int jobs) {
    Tally t;
    for (int m = job; m < n; m += jobs) {
      const sim::MutantName& mu = sim::kMutants[m];
      bool caught = false;
      std::uint64_t k = 0;
      std::string why;
      std::uint64_t events = 0;
      for (; k < a.budget && !caught; ++k) {
        sim::RunOptions o = a.run;
        o.seed = a.run.seed + k;
        o.mutants = mu.mask;
        o.trace = nullptr;
        const sim::RunResult r = sim::run_seed(o, nullptr);
        events += r.events;
        if (!r.ok) {
          // Only a seed that passes without the mutant proves the checker
          // caught the mutant (and not some other bug of the library).
          o.mutants = 0;
          if (sim::run_seed(o, nullptr).ok) {
            caught = true;
            why = r.failure;
          } else {
            std::printf("mutant %-18s seed %" PRIu64 " fails without the mutant too; skipped\n",
                        mu.name, o.seed);
          }
        }
      }
      t.events += events;
      ++t.seeds;
      if (caught) {
        std::printf("mutant %-18s caught after %4" PRIu64 " seed%s (seed %" PRIu64 "): %s\n",
                    mu.name, k, k == 1 ? " " : "s", a.run.seed + k - 1, why.c_str());
      } else {
        ++t.failures;
        std::printf("mutant %-18s NOT caught in %" PRIu64 " seeds (%s)\n", mu.name, a.budget,
                    mu.what);
      }
      std::fflush(stdout);
    }
    return t;
  };
  const Tally t = fan_out(a.jobs, work);
  std::printf("mutation test: %" PRIu64 " of %d mutants caught within %" PRIu64
              " seeds each (%.1fs)\n",
              t.seeds - t.failures, n, a.budget, seconds_since(t0));
  return t.failures == 0 && t.seeds == static_cast<std::uint64_t>(n) ? 0 : 1;
}

int cmd_scenarios(const Args& a) {
  int failed = 0;
  for (const auto& path : a.scenarios) {
    const sim::ScenarioResult r = sim::run_scenario(path, a.run.trace, stdout);
    if (!r.ok) {
      ++failed;
      if (r.message.find("XPASS") != std::string::npos) std::printf("FAIL %s\n", r.message.c_str());
    } else if (!a.quiet) {
      std::printf("ok   %s%s%s\n", path.c_str(), r.message.empty() ? "" : "  # ",
                  r.message.c_str());
    }
  }
  std::printf("scenarios: %zu run, %d failed\n", a.scenarios.size(), failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse(argc, argv, &a)) return 2;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (!a.scenarios.empty()) return cmd_scenarios(a);
  if (a.mutation) return cmd_mutation(a);
  if (a.determinism) return cmd_determinism(a);
  return cmd_seeds(a);
}
