#include "state_machine.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace sim {

namespace {

void put64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int k = 0; k < 8; ++k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}

std::uint64_t get64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int k = 7; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

std::uint64_t fnv(const std::uint8_t* p, std::size_t n) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ull;
  return h;
}

// Filler derived from the state, so that a byte moved, lost or taken from
// another snapshot is noticed when loading.
std::uint8_t filler_byte(std::uint64_t index, std::uint64_t digest, std::size_t k) {
  std::uint64_t s = digest ^ (index * 0xD1B54A32D192ED03ull) ^ (k / 8) * 0x9E3779B97F4A7C15ull;
  return static_cast<std::uint8_t>(splitmix64(s) >> (8 * (k % 8)));
}

}  // namespace

std::string StateMachine::apply(std::uint64_t id, std::size_t len) {
  if (saving_) {
    return "snapshot contract: apply was called while snapshot_save at " +
           std::to_string(save_index_) + " was unfinished";
  }
  ++count_;
  digest_ = fold(digest_, id, len);
  return "";
}

void StateMachine::encode(std::uint64_t index, std::uint64_t count, std::uint64_t digest,
                          std::size_t filler, std::vector<std::uint8_t>& out) {
  out.clear();
  put64(out, kMagic);
  put64(out, index);
  put64(out, count);
  put64(out, digest);
  put64(out, filler);
  put64(out, fnv(out.data(), out.size()));
  for (std::size_t k = 0; k < filler; ++k) out.push_back(filler_byte(index, digest, k));
  put64(out, fnv(out.data(), out.size()));
}

bool StateMachine::parse(const std::vector<std::uint8_t>& b, std::uint64_t* index,
                         std::uint64_t* count, std::uint64_t* digest, std::string* why) {
  char buf[160];
  if (b.size() < kHeaderBytes + 8) {
    std::snprintf(buf, sizeof buf, "%zu bytes, shorter than any snapshot", b.size());
    *why = buf;
    return false;
  }
  const std::uint8_t* p = b.data();
  if (get64(p) != kMagic || get64(p + 40) != fnv(p, 40)) {
    *why = "bad header";
    return false;
  }
  const std::uint64_t filler = get64(p + 32);
  if (filler != b.size() - kHeaderBytes - 8) {
    std::snprintf(buf, sizeof buf, "header says %" PRIu64 " filler bytes, found %zu", filler,
                  b.size() - kHeaderBytes - 8);
    *why = buf;
    return false;
  }
  *index = get64(p + 8);
  *count = get64(p + 16);
  *digest = get64(p + 24);
  for (std::size_t k = 0; k < filler; ++k) {
    if (p[kHeaderBytes + k] != filler_byte(*index, *digest, k)) {
      std::snprintf(buf, sizeof buf, "filler byte %zu differs", k);
      *why = buf;
      return false;
    }
  }
  if (get64(p + b.size() - 8) != fnv(p, b.size() - 8)) {
    *why = "bad trailer";
    return false;
  }
  return true;
}

int StateMachine::save(raft_snapshot_writer* w, std::uint64_t index, const SmParams& p, Prng& rng,
                       bool* deliberate, std::string* problem) {
  *deliberate = false;
  if (!saving_ || w != writer_ || index != save_index_) {
    // A new save (an unfinished one that libraft gave up is forgotten).
    saving_ = true;
    writer_ = w;
    save_index_ = index;
    const std::uint64_t filler = rng.range(p.filler_min, p.filler_max);
    encode(index, count_, digest_, static_cast<std::size_t>(filler), buf_);
    written_ = 0;
    steps_left_ = static_cast<std::uint32_t>(rng.below(p.max_steps + 1ull));
    fail_ = p.save_fail_ppm > 0 && rng.chance(p.save_fail_ppm);
  }
  // This call writes its share, in pieces of random sizes.
  const std::size_t share =
      steps_left_ == 0 ? buf_.size() - written_ : (buf_.size() - written_) / (steps_left_ + 1);
  const std::size_t stop = written_ + share;
  while (written_ < stop) {
    const std::size_t piece =
        std::min<std::size_t>(stop - written_, 1 + static_cast<std::size_t>(rng.below(4096)));
    const int rc = raft_snapshot_write(w, buf_.data() + written_, piece);
    if (rc != RAFT_OK) {
      saving_ = false;
      return rc;
    }
    written_ += piece;
  }
  if (fail_ && (steps_left_ == 0 || rng.chance(300000))) {
    saving_ = false;
    *deliberate = true;
    return RAFT_ECALLBACK;
  }
  if (steps_left_ > 0) {
    --steps_left_;
    return RAFT_SNAPSHOT_MORE;
  }
  saving_ = false;
  (void)problem;
  return RAFT_OK;
}

int StateMachine::load(raft_snapshot_reader* r, std::uint64_t index, Prng& rng,
                       std::string* problem) {
  in_.clear();
  std::vector<std::uint8_t> piece;
  for (;;) {
    const std::size_t cap = 1 + static_cast<std::size_t>(rng.below(8192));
    piece.resize(cap);
    const std::int64_t got = raft_snapshot_read(r, piece.data(), cap);
    if (got < 0) return static_cast<int>(got);
    if (got == 0) break;
    if (static_cast<std::size_t>(got) > cap) {
      *problem = "raft_snapshot_read returned more than asked";
      return RAFT_ECORRUPT;
    }
    in_.insert(in_.end(), piece.begin(), piece.begin() + got);
  }
  std::uint64_t at = 0, count = 0, digest = 0;
  std::string why;
  if (!parse(in_, &at, &count, &digest, &why)) {
    *problem = "snapshot_load at " + std::to_string(index) + ": the bytes are not a snapshot (" +
               why + ")";
    return RAFT_ECORRUPT;
  }
  if (at != index) {
    *problem = "snapshot_load at " + std::to_string(index) + " got the snapshot saved at " +
               std::to_string(at);
    return RAFT_ECORRUPT;
  }
  count_ = count;
  digest_ = digest;
  saving_ = false;
  return RAFT_OK;
}

}  // namespace sim
