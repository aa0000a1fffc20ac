// The replicated state machine every simulated node runs: a count of the
// commands applied and a running digest of them (fold() below; the checker
// folds the global committed sequence the same way, so "the state after
// index i" has one reference value).  Its snapshots are that state, padded
// with deterministic filler so that they span many InstallSnapshot chunks,
// saved in a seed-chosen number of steps (RAFT_SNAPSHOT_MORE), and
// validated byte for byte when loaded: a snapshot that comes back different
// from what some replica saved is a checker failure, not a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "prng.hpp"
#include "raft.h"

namespace sim {

struct SmParams {
  std::uint32_t filler_min = 1024, filler_max = 4096;  // padding bytes per snapshot
  std::uint32_t max_steps = 0;      // snapshot_save returns MORE up to this many times
  std::uint32_t save_fail_ppm = 0;  // a save gives up (negative return)
};

class StateMachine {
 public:
  static constexpr std::uint64_t kMagic = 0x31504E534D495353ull;  // "SSIMSNP1"
  static constexpr std::size_t kHeaderBytes = 48;

  static std::uint64_t fold(std::uint64_t digest, std::uint64_t id, std::size_t len) {
    std::uint64_t h = (digest ^ (id * 0x9E3779B97F4A7C15ull + len)) * 0xFF51AFD7ED558CCDull;
    return h ^ (h >> 31);
  }

  // A new incarnation: nothing applied.
  void reset() {
    count_ = 0;
    digest_ = 0;
    saving_ = false;
    buf_.clear();
  }
  std::uint64_t count() const { return count_; }
  std::uint64_t digest() const { return digest_; }
  bool saving() const { return saving_; }

  // Returns "" or what went wrong (a contract violation by libraft).
  std::string apply(std::uint64_t id, std::size_t len);
  // snapshot_save: RAFT_OK, RAFT_SNAPSHOT_MORE, or negative (a deliberate
  // failure drawn from p, or raft_snapshot_write's error).  *deliberate is
  // set when the failure was ours; *problem when libraft broke the contract.
  int save(raft_snapshot_writer* w, std::uint64_t index, const SmParams& p, Prng& rng,
           bool* deliberate, std::string* problem);
  // snapshot_load: reads everything, validates it, adopts it.  A negative
  // raft_snapshot_read result is returned as is; a malformed snapshot sets
  // *problem and returns RAFT_ECORRUPT.
  int load(raft_snapshot_reader* r, std::uint64_t index, Prng& rng, std::string* problem);

  // Parses a snapshot's bytes (as stored or sent): false if malformed.
  static bool parse(const std::vector<std::uint8_t>& b, std::uint64_t* index, std::uint64_t* count,
                    std::uint64_t* digest, std::string* why);

 private:
  static void encode(std::uint64_t index, std::uint64_t count, std::uint64_t digest,
                     std::size_t filler, std::vector<std::uint8_t>& out);

  std::uint64_t count_ = 0, digest_ = 0;
  bool saving_ = false;
  raft_snapshot_writer* writer_ = nullptr;
  std::uint64_t save_index_ = 0;
  std::vector<std::uint8_t> buf_;  // the snapshot being saved
  std::size_t written_ = 0;
  std::uint32_t steps_left_ = 0;
  bool fail_ = false;
  std::vector<std::uint8_t> in_;  // load scratch
};

}  // namespace sim
