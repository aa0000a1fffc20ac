// Static configuration of one replica's consensus core, already validated
// by the node layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/message.hpp"

namespace raft::core {

// Deliberate bugs the simulator's mutation self-test switches on, to prove it
// would catch them.  Compiled in only with -DRAFT_MUTANTS (never in the
// shipped library).
enum Mutant : std::uint32_t {
  kMutantCommitOldTerm = 1u << 0,    // commit earlier-term entries by counting
  kMutantForgetVote = 1u << 1,       // clear the vote when stepping down in a term
  kMutantCountStaleVotes = 1u << 2,  // count vote responses from other terms
  kMutantStaleAppendResp = 1u << 3,  // overwrite match index from stale responses
  kMutantSkipNoop = 1u << 4,         // no no-op entry when elected
  kMutantSendBeforeSync = 1u << 5,   // (node) send a turn's messages before persisting it
  kMutantShareLooseKey = 1u << 6,    // (node) share frames of batches at other positions
};

struct Config {
  NodeId id = 0;
  std::vector<NodeId> peers;  // the other voters
  std::uint32_t heartbeat_ms = 50;
  std::uint32_t election_min_ms = 150;
  std::uint32_t election_max_ms = 300;
  std::uint64_t seed = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  std::uint32_t max_batch_bytes = 1u << 20;
  std::uint32_t max_inflight = 64;
  std::uint32_t snapshot_chunk_bytes = 1u << 20;  // bytes per InstallSnapshot
  bool can_install_snapshots = false;  // the driver can store and load a leader's snapshot
  bool track_transitions = true;       // report transition states (someone listens)
  std::uint32_t mutants = 0;           // honoured only in -DRAFT_MUTANTS builds
};

// How many of a turn's batches back a batch for another follower at the same
// position may lie (the leader serves followers one after the other, up to
// max_inflight batches each): how far the core and the node look for a batch
// to reuse.  Capped so that a huge max_inflight cannot make every send scan
// thousands of batches; beyond the cap a batch is just built again.
inline std::size_t shared_batch_window(std::uint32_t max_inflight) {
  const std::size_t wanted = std::size_t{2} * max_inflight;
  return wanted < 256 ? 256 : wanted > 4096 ? 4096 : wanted;
}

}  // namespace raft::core
