// Validation of the caller's raft_options / raft_callbacks and their
// translation into the core's configuration.
#pragma once

#include <string>

#include "core/config.hpp"
#include "raft.h"

namespace raft::node {

// Limits derived from the options that the driver enforces.
struct Limits {
  std::uint32_t max_entry_bytes = 0;
  std::uint64_t max_queue_bytes = 0;
  std::uint64_t max_uncommitted_bytes = 0;  // a leader's queued + uncommitted log bytes
  std::size_t max_frame_bytes = 0;          // largest inbound frame accepted
  std::uint32_t busy_poll_us = 0;           // run(): spin this long after a busy turn
  std::uint64_t cluster_id = 0;
  raft_log_level log_level = RAFT_LOG_WARN;
  std::uint64_t snapshot_interval = 0;  // 0: never
  std::uint64_t snapshot_trailing = 0;
  std::string data_dir;  // empty: no built-in durable storage
  bool has_user_storage = false;
  raft_storage user_storage{};  // valid when has_user_storage
};

// Returns RAFT_OK and fills config/limits, or an error code with `why` set.
int translate_options(const raft_options& opt, const raft_callbacks& cb, core::Config& config,
                      Limits& limits, std::string& why);

}  // namespace raft::node
