// The two state machines of the snapshot benchmark (bench/snapshot_bench.cpp).
//
// CounterTable: 64 K counters indexed by a hash of each payload, plus the
// number of entries applied.  Cheap to apply, real enough that every replica
// must apply the same entries in the same order to end with the same table,
// and its snapshot is a fixed 256 KiB.
//
// ProceduralState: stands for a large state machine without holding it in
// memory.  Its real state is two words (entries applied, a running digest of
// the payloads); its snapshot is those words followed by `bytes` of
// pseudo-random filler derived from them, written in slices over several
// turns (RAFT_SNAPSHOT_MORE) and verified byte for byte on load.  So a
// 1 GiB snapshot costs 2 MiB of buffers, and a loaded snapshot that differs
// from the one saved in any byte fails the load.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "raft.h"

namespace bench {

inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline std::uint64_t hash_bytes(const void* data, std::size_t len) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint64_t h = 0x243f6a8885a308d3ull ^ len;
  std::size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    h = mix64(h ^ w);
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, p + i, len - i);
  return mix64(h ^ tail);
}

// Reads exactly n bytes unless the snapshot ends first.  Returns the bytes
// read or a negative RAFT_E* code.
inline std::int64_t read_full(raft_snapshot_reader* r, void* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const std::int64_t k = raft_snapshot_read(r, static_cast<std::uint8_t*>(buf) + got, n - got);
    if (k < 0) return k;
    if (k == 0) break;
    got += static_cast<std::size_t>(k);
  }
  return static_cast<std::int64_t>(got);
}

// The snapshot must end here: any further byte (or a checksum failure the
// library reports at the end) fails the load.
inline int expect_end(raft_snapshot_reader* r) {
  std::uint8_t extra;
  const std::int64_t k = raft_snapshot_read(r, &extra, 1);
  if (k < 0) return static_cast<int>(k);
  return k == 0 ? RAFT_OK : RAFT_ECORRUPT;
}

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // False when the entry is out of sequence or its bytes are not the ones
  // proposed (entry k carries k in its first 8 bytes).
  virtual bool apply(std::uint64_t id, const void* data, std::size_t len) = 0;
  virtual int save(raft_snapshot_writer* w, std::uint64_t index) = 0;
  virtual int load(raft_snapshot_reader* r, std::uint64_t index) = 0;
  virtual std::uint64_t applied() const = 0;
  // Equal on two replicas that applied the same entries in the same order.
  virtual std::uint64_t digest() const = 0;

 protected:
  static bool stamped(std::uint64_t id, std::uint64_t applied, const void* data, std::size_t len) {
    std::uint64_t stamp = 0;
    if (len >= sizeof stamp) std::memcpy(&stamp, data, sizeof stamp);
    return id == applied + 1 && stamp == id;
  }
};

class CounterTable final : public StateMachine {
 public:
  static constexpr std::size_t kSlots = 64 * 1024;

  bool apply(std::uint64_t id, const void* data, std::size_t len) override {
    const bool ok = stamped(id, applied_, data, len);
    ++slots_[hash_bytes(data, len) & (kSlots - 1)];
    ++applied_;
    return ok;
  }

  int save(raft_snapshot_writer* w, std::uint64_t) override {
    const std::uint64_t header[2] = {kMagic, applied_};
    const int rc = raft_snapshot_write(w, header, sizeof header);
    if (rc != RAFT_OK) return rc;
    return raft_snapshot_write(w, slots_.data(), slots_.size() * sizeof slots_[0]);
  }

  int load(raft_snapshot_reader* r, std::uint64_t) override {
    std::uint64_t header[2];
    std::vector<std::uint32_t> slots(kSlots);
    std::int64_t k = read_full(r, header, sizeof header);
    if (k < 0) return static_cast<int>(k);
    if (k != sizeof header || header[0] != kMagic) return RAFT_ECORRUPT;
    const std::size_t table = slots.size() * sizeof slots[0];
    k = read_full(r, slots.data(), table);
    if (k < 0) return static_cast<int>(k);
    if (static_cast<std::size_t>(k) != table) return RAFT_ECORRUPT;
    const int rc = expect_end(r);
    if (rc != RAFT_OK) return rc;
    slots_.swap(slots);
    applied_ = header[1];
    return RAFT_OK;
  }

  std::uint64_t applied() const override { return applied_; }
  std::uint64_t digest() const override {
    return hash_bytes(slots_.data(), slots_.size() * sizeof slots_[0]) ^ mix64(applied_);
  }

 private:
  static constexpr std::uint64_t kMagic = 0x43544e5253424e43ull;
  std::vector<std::uint32_t> slots_ = std::vector<std::uint32_t>(kSlots);
  std::uint64_t applied_ = 0;
};

class ProceduralState final : public StateMachine {
 public:
  static constexpr std::size_t kSlice = 1u << 20;
  // Slices written per turn: bounds how long one save step holds the loop.
  static constexpr std::size_t kSlicesPerStep = 8;

  explicit ProceduralState(std::uint64_t bytes) : bytes_(bytes) {}

  bool apply(std::uint64_t id, const void* data, std::size_t len) override {
    const bool ok = stamped(id, applied_, data, len);
    digest_ = mix64(digest_ ^ hash_bytes(data, len));
    ++applied_;
    return ok;
  }

  int save(raft_snapshot_writer* w, std::uint64_t index) override {
    if (!saving_ || index != save_index_) {
      // A new save (an earlier one given up by the library is abandoned).
      const std::uint64_t header[4] = {kMagic, applied_, digest_, bytes_};
      const int rc = raft_snapshot_write(w, header, sizeof header);
      if (rc != RAFT_OK) return rc;
      saving_ = true;
      save_index_ = index;
      save_seed_ = seed();
      save_off_ = 0;
      buf_.resize(kSlice);
    }
    for (std::size_t s = 0; s < kSlicesPerStep && save_off_ < bytes_; ++s) {
      const std::size_t n = slice_len(save_off_);
      fill(save_seed_, save_off_ / kSlice, buf_.data(), n);
      const int rc = raft_snapshot_write(w, buf_.data(), n);
      if (rc != RAFT_OK) {
        saving_ = false;
        return rc;
      }
      save_off_ += n;
    }
    if (save_off_ < bytes_) return RAFT_SNAPSHOT_MORE;
    saving_ = false;
    release_buffers();
    return RAFT_OK;
  }

  int load(raft_snapshot_reader* r, std::uint64_t) override {
    saving_ = false;
    std::uint64_t header[4];
    std::int64_t k = read_full(r, header, sizeof header);
    if (k < 0) return static_cast<int>(k);
    if (k != sizeof header || header[0] != kMagic || header[3] != bytes_) return RAFT_ECORRUPT;
    const std::uint64_t applied = header[1], digest = header[2];
    const std::uint64_t s = seed_of(applied, digest);
    buf_.resize(kSlice);
    expect_.resize(kSlice);
    int rc = RAFT_OK;
    for (std::uint64_t off = 0; off < bytes_ && rc == RAFT_OK; off += kSlice) {
      const std::size_t n = slice_len(off);
      k = read_full(r, buf_.data(), n);
      if (k < 0) {
        rc = static_cast<int>(k);
      } else {
        fill(s, off / kSlice, expect_.data(), n);
        if (static_cast<std::size_t>(k) != n || std::memcmp(buf_.data(), expect_.data(), n) != 0)
          rc = RAFT_ECORRUPT;
      }
    }
    release_buffers();
    if (rc == RAFT_OK) rc = expect_end(r);
    if (rc != RAFT_OK) return rc;
    applied_ = applied;
    digest_ = digest;
    return RAFT_OK;
  }

  std::uint64_t applied() const override { return applied_; }
  std::uint64_t digest() const override { return mix64(digest_ ^ applied_); }

 private:
  static constexpr std::uint64_t kMagic = 0x43525050534e4243ull;

  static std::uint64_t seed_of(std::uint64_t applied, std::uint64_t digest) {
    return mix64(applied ^ mix64(digest));
  }
  std::uint64_t seed() const { return seed_of(applied_, digest_); }
  std::size_t slice_len(std::uint64_t off) const {
    return static_cast<std::size_t>(bytes_ - off < kSlice ? bytes_ - off : kSlice);
  }
  // Slice `slice` of the filler of the state with seed s (splitmix64).
  static void fill(std::uint64_t s, std::uint64_t slice, std::uint8_t* out, std::size_t n) {
    std::uint64_t x = mix64(s ^ ((slice + 1) * 0x9e3779b97f4a7c15ull));
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      x += 0x9e3779b97f4a7c15ull;
      const std::uint64_t v = mix64(x);
      std::memcpy(out + i, &v, sizeof v);
    }
    if (i < n) {
      const std::uint64_t v = mix64(x + 0x9e3779b97f4a7c15ull);
      std::memcpy(out + i, &v, n - i);
    }
  }
  void release_buffers() {
    std::vector<std::uint8_t>().swap(buf_);
    std::vector<std::uint8_t>().swap(expect_);
  }

  const std::uint64_t bytes_;
  std::uint64_t applied_ = 0, digest_ = 0;
  bool saving_ = false;
  std::uint64_t save_index_ = 0, save_seed_ = 0, save_off_ = 0;
  std::vector<std::uint8_t> buf_, expect_;
};

}  // namespace bench
