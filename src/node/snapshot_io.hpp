// The opaque handles behind raft_snapshot_write and raft_snapshot_read.
// A writer streams the user's snapshot into storage while counting its size
// and CRC32C for the meta; a reader streams it back and checks the CRC at
// the end, so a snapshot damaged on disk is reported, not loaded silently.
#pragma once

#include <cstddef>
#include <cstdint>

#include "raft.h"

struct raft_snapshot_writer {
  const raft_storage* storage = nullptr;
  std::uint64_t size = 0;
  std::uint32_t crc = 0;
  int error = RAFT_OK;  // sticky: the first failure gives the save up
};

struct raft_snapshot_reader {
  const raft_storage* storage = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;  // from the meta
  std::uint32_t crc = 0;   // of the bytes read so far
  std::uint32_t expected_crc = 0;
  int error = RAFT_OK;  // sticky
};

namespace raft::node {

int snapshot_write(raft_snapshot_writer* w, const void* data, std::size_t len);
std::int64_t snapshot_read(raft_snapshot_reader* r, void* buf, std::size_t cap);

}  // namespace raft::node
