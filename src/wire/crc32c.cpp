// CRC-32C: portable slicing-by-8 tables plus the SSE4.2 crc32 instruction,
// picked at the first call.  All tables are built at compile time (constexpr),
// so nothing runs before main and nothing is written after the first call.
//
// Internally everything works on the raw CRC register: crc32c() is
// ~raw(~seed, bytes).  Polynomials are in the reflected convention: bit 31 of
// a uint32 is the coefficient of x^0 and bit 0 that of x^31.
#include "wire/crc32c.hpp"

#include "wire/le.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RAFT_CRC32C_X86 1
#include <nmmintrin.h>
#endif

namespace raft::wire {
namespace {

constexpr std::uint32_t kPoly = 0x82F63B78u;

// a * b mod P.
constexpr std::uint32_t mulmod(std::uint32_t a, std::uint32_t b) {
  std::uint32_t prod = 0;
  for (std::uint32_t bit = 1u << 31; bit != 0; bit >>= 1) {  // bit is x^0, x^1, ...
    if (a & bit) prod ^= b;
    b = (b & 1u) ? (b >> 1) ^ kPoly : b >> 1;  // b *= x
  }
  return prod;
}

// kPow8[k] = x^(8 * 2^k) mod P: feeding 2^k zero bytes multiplies by it.
struct PowTable {
  std::uint32_t p[64];
};
constexpr PowTable make_pow8() {
  PowTable t{};
  t.p[0] = 1u << (31 - 8);  // x^8
  for (int k = 1; k < 64; ++k) t.p[k] = mulmod(t.p[k - 1], t.p[k - 1]);
  return t;
}
constexpr PowTable kPow8 = make_pow8();

constexpr std::uint32_t zeros(std::uint32_t reg, std::uint64_t n) {
  for (int k = 0; n != 0; ++k, n >>= 1) {
    if (n & 1u) reg = mulmod(kPow8.p[k], reg);
  }
  return reg;
}

// Slicing-by-8: t[k][b] is the register after byte b followed by k zero bytes.
struct SliceTables {
  std::uint32_t t[8][256];
};
constexpr SliceTables make_slice_tables() {
  SliceTables s{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1u) ? (c >> 1) ^ kPoly : c >> 1;
    s.t[0][b] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (int b = 0; b < 256; ++b) {
      const std::uint32_t prev = s.t[k - 1][b];
      s.t[k][b] = (prev >> 8) ^ s.t[0][prev & 0xffu];
    }
  }
  return s;
}
constexpr SliceTables kSlice = make_slice_tables();

std::uint32_t raw_portable(std::uint32_t crc, const std::uint8_t* p, std::size_t n) {
  const auto& t = kSlice.t;
  for (; n >= 8; p += 8, n -= 8) {
    const std::uint64_t w = le::load64(p) ^ crc;
    crc = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
          t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
  }
  for (; n > 0; ++p, --n) crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xffu];
  return crc;
}

#ifdef RAFT_CRC32C_X86

// The crc32 instruction has a latency of 3 cycles but a throughput of 1, so
// long buffers run three independent streams of kStride bytes and merge them
// with a table that multiplies by x^(8*kStride) (the "kStride zero bytes"
// operator, linear in the register, hence four byte-indexed tables).
constexpr std::size_t kStride = 256;

struct ShiftTables {
  std::uint32_t t[4][256];
};
constexpr ShiftTables make_shift_tables() {
  std::uint32_t basis[32] = {};
  for (int i = 0; i < 32; ++i) basis[i] = zeros(1u << i, kStride);
  ShiftTables s{};
  for (int byte = 0; byte < 4; ++byte) {
    for (std::uint32_t v = 0; v < 256; ++v) {
      std::uint32_t r = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if (v & (1u << bit)) r ^= basis[byte * 8 + bit];
      }
      s.t[byte][v] = r;
    }
  }
  return s;
}
constexpr ShiftTables kShift = make_shift_tables();

inline std::uint32_t skip_stride(std::uint32_t reg) {
  return kShift.t[0][reg & 0xff] ^ kShift.t[1][(reg >> 8) & 0xff] ^
         kShift.t[2][(reg >> 16) & 0xff] ^ kShift.t[3][reg >> 24];
}

__attribute__((target("sse4.2"))) std::uint32_t raw_sse42(std::uint32_t crc, const std::uint8_t* p,
                                                          std::size_t n) {
  for (; n >= 3 * kStride; p += 3 * kStride, n -= 3 * kStride) {
    std::uint64_t a = crc, b = 0, c = 0;
    // Fully unrolled (96 crc32 in a row): the loop's own add, compare and
    // branch would otherwise be a quarter of the instructions even at 4x.
#pragma GCC unroll 32
    for (std::size_t i = 0; i < kStride; i += 8) {
      a = _mm_crc32_u64(a, le::load64(p + i));
      b = _mm_crc32_u64(b, le::load64(p + kStride + i));
      c = _mm_crc32_u64(c, le::load64(p + 2 * kStride + i));
    }
    // raw(r, A||B||C) = skip(skip(raw(r, A)) ^ raw(0, B)) ^ raw(0, C)
    crc = skip_stride(skip_stride(static_cast<std::uint32_t>(a)) ^ static_cast<std::uint32_t>(b)) ^
          static_cast<std::uint32_t>(c);
  }
  std::uint64_t wide = crc;
  for (; n >= 8; p += 8, n -= 8) wide = _mm_crc32_u64(wide, le::load64(p));
  crc = static_cast<std::uint32_t>(wide);
  for (; n > 0; ++p, --n) crc = _mm_crc32_u8(crc, *p);
  return crc;
}

#endif  // RAFT_CRC32C_X86

using RawFn = std::uint32_t (*)(std::uint32_t, const std::uint8_t*, std::size_t);

RawFn pick_raw() {
#ifdef RAFT_CRC32C_X86
  if (crc32c_hw_available()) return raw_sse42;
#endif
  return raw_portable;
}

const std::uint8_t* bytes(const void* data) { return static_cast<const std::uint8_t*>(data); }

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t len, std::uint32_t seed) {
  static const RawFn raw = pick_raw();  // a guarded local static, not a global constructor
  return ~raw(~seed, bytes(data), len);
}

std::uint32_t crc32c_portable(const void* data, std::size_t len, std::uint32_t seed) {
  return ~raw_portable(~seed, bytes(data), len);
}

bool crc32c_hw_available() {
#ifdef RAFT_CRC32C_X86
  __builtin_cpu_init();  // harmless if already done; needed if we run before libgcc's init
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

std::uint32_t crc32c_hw(const void* data, std::size_t len, std::uint32_t seed) {
#ifdef RAFT_CRC32C_X86
  return ~raw_sse42(~seed, bytes(data), len);
#else
  return crc32c_portable(data, len, seed);
#endif
}

std::uint32_t crc32c_zeros(std::uint32_t reg, std::uint64_t n) { return zeros(reg, n); }

// With R(r, m) the raw register and crc(m) = ~R(~0, m):
//   crc(a||b) = ~(zeros(R(~0,a), |b|) ^ R(0,b)) = zeros(crc_a, |b|) ^ crc_b,
// because zeros() is linear and the two zeros(~0, |b|) terms cancel.
std::uint32_t crc32c_combine(std::uint32_t crc_a, std::uint32_t crc_b, std::uint64_t len_b) {
  return zeros(crc_a, len_b) ^ crc_b;
}

}  // namespace raft::wire
