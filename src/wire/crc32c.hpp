// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78), the checksum of
// iSCSI (RFC 3720), ext4 and SCTP.  Used for wire frames and storage records.
#pragma once

#include <cstddef>
#include <cstdint>

namespace raft::wire {

// The CRC of `len` bytes at `data`.  `seed` is the CRC of the bytes that came
// before (0 to start), so crc32c(b, nb, crc32c(a, na)) == crc32c(a||b).
// Uses the SSE4.2 instruction when the CPU has it, else the portable tables;
// both give identical results.  Thread-safe; no global constructors.
std::uint32_t crc32c(const void* data, std::size_t len, std::uint32_t seed = 0);

// The portable (slicing-by-8) implementation, always available.
std::uint32_t crc32c_portable(const void* data, std::size_t len, std::uint32_t seed = 0);

// Whether crc32c_hw() may be called on this CPU (false off x86-64).
bool crc32c_hw_available();

// The hardware implementation.  Only call it when crc32c_hw_available();
// elsewhere it falls back to the portable code.
std::uint32_t crc32c_hw(const void* data, std::size_t len, std::uint32_t seed = 0);

// crc32c(a||b) from crc_a = crc32c(a), crc_b = crc32c(b) and len_b, in
// O(log len_b) without touching the bytes.
std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t len_b);

// The raw CRC register `reg` (no pre/post inversion) after `n` zero bytes are
// fed through it, i.e. reg * x^(8n) mod P.  O(log n).  The building block of
// crc32c_combine and of patching one field inside a checksummed frame.
std::uint32_t crc32c_zeros(std::uint32_t reg, std::uint64_t n);

}  // namespace raft::wire
