// The simulator's only source of randomness.  It is our own code on purpose:
// std::uniform_int_distribution and friends differ between standard
// libraries, which would make a seed reproduce on one toolchain and not on
// another.  Integer arithmetic only, so results are bit-identical everywhere.
#pragma once

#include <cstdint>

namespace sim {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// FNV-1a over a name: turns "network" into a stream selector.
inline std::uint64_t name_hash(const char* name) {
  std::uint64_t h = 0xCBF29CE484222325ULL;
  for (; *name != '\0'; ++name) h = (h ^ static_cast<unsigned char>(*name)) * 0x100000001B3ULL;
  return h;
}

// xoshiro256**.  Each concern (network, clock, workload, faults, ...) owns a
// Prng derived from the master seed and its name, so adding draws to one
// concern never shifts the numbers another concern sees.
class Prng {
 public:
  Prng() : Prng(0, "default") {}
  Prng(std::uint64_t master, const char* stream, std::uint64_t sub = 0) {
    std::uint64_t sm = master ^ name_hash(stream) ^ (sub * 0xD1B54A32D192ED03ULL);
    for (auto& w : s_) w = splitmix64(sm);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); 0 when n == 0.  Lemire's multiply-and-reject: exact,
  // and the number of draws depends only on the generator's output.
  std::uint64_t below(std::uint64_t n) {
    if (n == 0) return 0;
    unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
    std::uint64_t low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi] (inclusive); lo when hi < lo.
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) {
    return hi <= lo ? lo : lo + below(hi - lo + 1);
  }

  // True with probability ppm / 1,000,000.
  bool chance(std::uint32_t ppm) { return below(1000000) < ppm; }

  // Exponentially distributed with the given mean (integer units).  Uses a
  // fixed quantile table of Exp(1) with linear interpolation; the tail
  // bucket restarts the draw shifted by ln(64), which is exact because the
  // exponential distribution is memoryless.
  std::uint64_t exponential(std::uint64_t mean) {
    static constexpr std::uint32_t kQ[64] = {
        0,      1032,   2081,   3146,   4230,   5331,   6451,   7591,   8751,   9932,   11135,
        12360,  13608,  14880,  16178,  17502,  18854,  20233,  21643,  23083,  24556,  26063,
        27605,  29184,  30802,  32461,  34164,  35911,  37707,  39553,  41453,  43409,  45426,
        47507,  49656,  51877,  54177,  56561,  59034,  61604,  64280,  67069,  69982,  73031,
        76228,  79590,  83133,  86879,  90852,  95082,  99603,  104460, 109706, 115408, 121654,
        128559, 136278, 145029, 155132, 167080, 181704, 200558, 227130, 272557};
    constexpr std::uint64_t kLn64 = 272557;  // ln(64) * 65536
    std::uint64_t shift = 0;
    for (int guard = 0; guard < 16; ++guard) {
      const std::uint64_t r = next();
      const unsigned bucket = static_cast<unsigned>(r >> 58);
      const std::uint64_t frac = (r >> 42) & 0xFFFF;  // 16 bits within the bucket
      if (bucket < 63) {
        const std::uint64_t a = kQ[bucket], b = kQ[bucket + 1];
        const std::uint64_t x = shift + a + (((b - a) * frac) >> 16);
        return (x * mean) >> 16;
      }
      shift += kLn64;
    }
    return (shift * mean) >> 16;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// A 64-bit running hash of everything that happens in a run; two runs of the
// same seed must end with the same value (the determinism self-test).
class RunHash {
 public:
  void add(std::uint64_t v) {
    h_ ^= v + 0x9E3779B97F4A7C15ULL + (h_ << 6) + (h_ >> 2);
    h_ *= 0xFF51AFD7ED558CCDULL;
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0x243F6A8885A308D3ULL;
};

}  // namespace sim
