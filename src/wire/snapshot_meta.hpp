// The byte form of a SnapshotInfo ("snapshot meta"): stored beside a
// snapshot by every storage (raft_storage.snapshot_commit) and embedded in
// every InstallSnapshot frame.  Layout in docs/wire-format.md.
//
// decode_snapshot_meta() is a boundary with disks and the network: it treats
// its input as hostile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/message.hpp"

namespace raft::wire {

inline constexpr std::uint32_t kSnapshotMetaMagic = 0x4D53524Cu;  // the bytes "LRSM"
inline constexpr std::uint8_t kSnapshotMetaVersion = 1;
// Fixed part before the voter ids, and the CRC after them.
inline constexpr std::size_t kSnapshotMetaFixedBytes = 44;
inline constexpr std::size_t kSnapshotMetaMaxVoters = 1024;
inline constexpr std::size_t kSnapshotMetaMaxBytes =
    kSnapshotMetaFixedBytes + 8 * kSnapshotMetaMaxVoters;
static_assert(kSnapshotMetaMaxBytes <= 65536, "fits RAFT_SNAPSHOT_META_MAX");

// Exact encoded size of `info`.
std::size_t snapshot_meta_size(const SnapshotInfo& info);
// Appends the encoding of `info` to out.
void encode_snapshot_meta(const SnapshotInfo& info, std::vector<std::uint8_t>& out);
// Decodes exactly [buf, buf+len).  Returns true and fills `out` when the
// bytes are a valid meta: magic, version, CRC, voter count within bounds and
// matching len, voters nonzero, ascending and distinct (at least one),
// index and term nonzero.  Never reads outside the buffer.
bool decode_snapshot_meta(const std::uint8_t* buf, std::size_t len, SnapshotInfo& out);

}  // namespace raft::wire
