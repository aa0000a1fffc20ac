#include "node/options.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <random>

#include "core/rng.hpp"
#include "wire/snapshot_meta.hpp"

namespace raft::node {

namespace {

// Room for the frame header and per-entry headers around the payload limits.
constexpr std::size_t kFrameSlack = std::size_t{64} * 1024;

std::uint64_t fresh_seed() {
  std::random_device device;
  const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return (static_cast<std::uint64_t>(device()) << 32) ^ device() ^ static_cast<std::uint64_t>(now);
}

}  // namespace

int translate_options(const raft_options& opt, const raft_callbacks& cb, core::Config& config,
                      Limits& limits, std::string& why) {
  if (opt.version != RAFT_OPTIONS_VERSION) {
    why = "raft_options.version " + std::to_string(opt.version) +
          " is unknown (call raft_options_init)";
    return RAFT_EVERSION;
  }
  if (cb.version != RAFT_CALLBACKS_VERSION) {
    why = "raft_callbacks.version " + std::to_string(cb.version) +
          " is unknown (call raft_callbacks_init)";
    return RAFT_EVERSION;
  }
  auto invalid = [&why](const std::string& text) {
    why = text;
    return RAFT_EINVAL;
  };
  if (opt.id == RAFT_NO_ID) return invalid("options.id must not be 0");
  if (opt.n_peers > 0 && opt.peers == nullptr) return invalid("options.peers is NULL");
  if (opt.n_peers > 1024) return invalid("options.n_peers is larger than 1024");
  std::vector<NodeId> peers(opt.peers, opt.peers + opt.n_peers);
  for (std::size_t i = 0; i < peers.size(); ++i) {
    if (peers[i] == RAFT_NO_ID) return invalid("options.peers contains 0");
    if (peers[i] == opt.id) return invalid("options.peers contains this node's own id");
    if (std::find(peers.begin(), peers.begin() + i, peers[i]) != peers.begin() + i)
      return invalid("options.peers contains " + std::to_string(peers[i]) + " twice");
  }
  if (opt.heartbeat_ms == 0) return invalid("options.heartbeat_ms must be at least 1");
  if (opt.election_timeout_min_ms <= opt.heartbeat_ms)
    return invalid("options.election_timeout_min_ms must exceed heartbeat_ms");
  if (opt.election_timeout_max_ms <= opt.election_timeout_min_ms)
    return invalid("options.election_timeout_max_ms must exceed election_timeout_min_ms");
  if (opt.data_dir != nullptr && opt.data_dir[0] == '\0')
    return invalid("options.data_dir is empty");
  if (opt.data_dir != nullptr && opt.storage != nullptr)
    return invalid("options.data_dir and options.storage exclude each other");
  if (opt.storage != nullptr) {
    const raft_storage& st = *opt.storage;
    if (st.version != RAFT_STORAGE_VERSION) {
      why = "raft_storage.version " + std::to_string(st.version) +
            " is unknown (call raft_storage_init)";
      return RAFT_EVERSION;
    }
    if (st.load == nullptr || st.save_hard_state == nullptr || st.append == nullptr ||
        st.truncate == nullptr || st.sync == nullptr)
      return invalid(
          "options.storage: load, save_hard_state, append, truncate and sync are required");
    const int snapshot_fns = (st.snapshot_begin != nullptr) + (st.snapshot_write != nullptr) +
                             (st.snapshot_commit != nullptr) + (st.snapshot_meta != nullptr) +
                             (st.snapshot_read != nullptr) + (st.compact != nullptr);
    if (snapshot_fns != 0 && snapshot_fns != 6)
      return invalid("options.storage: set all six snapshot functions or none");
  }
  const bool storage_has_snapshots =
      opt.storage == nullptr || opt.storage->snapshot_begin != nullptr;
  if ((cb.snapshot_save == nullptr) != (cb.snapshot_load == nullptr))
    return invalid("callbacks.snapshot_save and snapshot_load go together: set both or neither");
  if (opt.snapshot_interval > 0 && cb.snapshot_save == nullptr)
    return invalid("options.snapshot_interval needs callbacks.snapshot_save and snapshot_load");
  if (cb.snapshot_save != nullptr && !storage_has_snapshots) {
    why = "callbacks.snapshot_save is set but options.storage has no snapshot functions";
    return RAFT_ENOTSUP;
  }
  if (opt.max_snapshot_chunk_bytes == 0)
    return invalid("options.max_snapshot_chunk_bytes must be at least 1");
  if (opt.max_snapshot_chunk_bytes > (1u << 30))
    return invalid("options.max_snapshot_chunk_bytes exceeds 1 GiB");
  if (opt.busy_poll_us > 10000) return invalid("options.busy_poll_us exceeds 10000");
  if (opt.max_batch_bytes == 0) return invalid("options.max_batch_bytes must be at least 1");
  if (opt.max_inflight == 0) return invalid("options.max_inflight must be at least 1");
  if (opt.max_entry_bytes == 0) return invalid("options.max_entry_bytes must be at least 1");
  if (opt.max_entry_bytes > (1u << 30)) return invalid("options.max_entry_bytes exceeds 1 GiB");
  if (opt.max_batch_bytes > (1u << 30)) return invalid("options.max_batch_bytes exceeds 1 GiB");
  if (opt.max_queue_bytes == 0) return invalid("options.max_queue_bytes must be at least 1");
  if (opt.max_uncommitted_bytes == 0)
    return invalid("options.max_uncommitted_bytes must be at least 1");
  // A C caller may store any integer in an enum field; reading it back as
  // the enum type would be undefined behaviour in C++, so read the bytes.
  std::int32_t log_level = 0;
  static_assert(sizeof log_level == sizeof opt.log_level, "raft_log_level is int-sized");
  std::memcpy(&log_level, &opt.log_level, sizeof log_level);
  if (log_level < RAFT_LOG_ERROR || log_level > RAFT_LOG_DEBUG)
    return invalid("options.log_level is not a raft_log_level");
  if (cb.apply == nullptr) return invalid("callbacks.apply is required");
  if (opt.n_peers > 0 && (cb.send == nullptr || cb.receive == nullptr))
    return invalid("callbacks.send and callbacks.receive are required with peers");

  config.id = opt.id;
  config.peers = std::move(peers);
  config.heartbeat_ms = opt.heartbeat_ms;
  config.election_min_ms = opt.election_timeout_min_ms;
  config.election_max_ms = opt.election_timeout_max_ms;
  // Mixing the id in gives each replica its own jitter even when every
  // replica of a cluster is configured with the same seed.
  const std::uint64_t seed = opt.random_seed != 0 ? opt.random_seed : fresh_seed();
  config.seed = core::Rng(seed ^ (opt.id * 0xD6E8FEB86659FD93ULL)).next();
  config.pre_vote = opt.pre_vote != 0;
  config.check_quorum = opt.check_quorum != 0;
  config.max_batch_bytes = opt.max_batch_bytes;
  config.max_inflight = opt.max_inflight;
  config.track_transitions = cb.transition_state != nullptr;
  config.snapshot_chunk_bytes = opt.max_snapshot_chunk_bytes;
  config.can_install_snapshots = cb.snapshot_load != nullptr;

  limits.max_entry_bytes = opt.max_entry_bytes;
  // The queue's byte counts are size_t: where that is 32 bits, a larger
  // limit could wrap them (no such queue fits in memory there anyway).
  limits.max_queue_bytes =
      std::min<std::uint64_t>(opt.max_queue_bytes, std::numeric_limits<std::size_t>::max() / 2);
  limits.max_uncommitted_bytes = std::min<std::uint64_t>(
      opt.max_uncommitted_bytes, std::numeric_limits<std::size_t>::max() / 2);
  limits.max_frame_bytes =
      std::max<std::size_t>(static_cast<std::size_t>(opt.max_batch_bytes) + opt.max_entry_bytes,
                            opt.max_snapshot_chunk_bytes + wire::kSnapshotMetaMaxBytes) +
      kFrameSlack;
  // The log stores entry lengths in 31 bits: no frame may carry a longer one.
  limits.max_frame_bytes = std::min<std::size_t>(limits.max_frame_bytes, 0x7FFFFFFF);
  limits.busy_poll_us = opt.busy_poll_us;
  limits.snapshot_interval = opt.snapshot_interval;
  limits.snapshot_trailing = opt.snapshot_trailing;
  limits.cluster_id = opt.cluster_id;
  limits.log_level = opt.log_level;
  if (opt.data_dir != nullptr) limits.data_dir = opt.data_dir;
  limits.has_user_storage = opt.storage != nullptr;
  if (opt.storage != nullptr) limits.user_storage = *opt.storage;
  return RAFT_OK;
}

}  // namespace raft::node
