// Little-endian loads and stores at any alignment.  memcpy compiles to a
// single mov on the hosts we care about; the swap only exists on big-endian.
#pragma once

#include <cstdint>
#include <cstring>

namespace raft::wire::le {

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
inline std::uint16_t host(std::uint16_t v) { return __builtin_bswap16(v); }
inline std::uint32_t host(std::uint32_t v) { return __builtin_bswap32(v); }
inline std::uint64_t host(std::uint64_t v) { return __builtin_bswap64(v); }
#else
inline std::uint16_t host(std::uint16_t v) { return v; }
inline std::uint32_t host(std::uint32_t v) { return v; }
inline std::uint64_t host(std::uint64_t v) { return v; }
#endif

template <typename T>
inline T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return host(v);
}

inline std::uint16_t load16(const std::uint8_t* p) { return load<std::uint16_t>(p); }
inline std::uint32_t load32(const std::uint8_t* p) { return load<std::uint32_t>(p); }
inline std::uint64_t load64(const std::uint8_t* p) { return load<std::uint64_t>(p); }

// Stores return the position just past the value so writers can chain them.
template <typename T>
inline std::uint8_t* store(std::uint8_t* p, T v) {
  v = host(v);
  std::memcpy(p, &v, sizeof v);
  return p + sizeof v;
}

inline std::uint8_t* store8(std::uint8_t* p, std::uint8_t v) {
  *p = v;
  return p + 1;
}
inline std::uint8_t* store16(std::uint8_t* p, std::uint16_t v) { return store(p, v); }
inline std::uint8_t* store32(std::uint8_t* p, std::uint32_t v) { return store(p, v); }
inline std::uint8_t* store64(std::uint8_t* p, std::uint64_t v) { return store(p, v); }

}  // namespace raft::wire::le
