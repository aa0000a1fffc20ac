// The replicated log held in memory.  All index arithmetic lives here, in
// one place, so that an offset mistake (little_raft bugs B9-B11) cannot hide
// in the protocol code: callers speak only in Raft indexes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/message.hpp"

namespace raft::core {

class Log {
 public:
  // Index of the entry before the first one held (0, or the point up to
  // which the log was compacted into a snapshot), and its term.
  Index base_index() const { return base_index_; }
  Term base_term() const { return base_term_; }
  Index last_index() const { return base_index_ + count_; }
  Term last_term() const { return term_at(last_index()); }
  bool empty() const { return count_ == 0; }

  // True if `i` is base_index() or an index held in the log.
  bool has(Index i) const { return i >= base_index_ && i <= last_index(); }
  // The term of entry i; base_term() at base_index(); 0 outside the log.
  Term term_at(Index i) const;
  // Entry i, which must satisfy base_index() < i <= last_index().  The view
  // is valid until the log is next modified.
  EntryView at(Index i) const;

  void append(Term term, EntryType type, std::uint64_t id, const std::uint8_t* data,
              std::size_t len);
  void append(const EntryView& e) { append(e.term, e.type, e.id, e.data, e.len); }
  // Remove entries i..last_index().  i must be > base_index().
  void truncate_from(Index i);
  // Drop entries up to and including i (base_index() < i <= last_index()):
  // a snapshot covers them.  Their memory is kept for reuse.
  void compact(Index i);
  // Drop every entry and restart the log after (index, term): a snapshot
  // that the log does not match replaced it.  Marks index + 1 dirty, so the
  // driver truncates whatever storage holds beyond it.
  void reset(Index index, Term term);

  // The lowest index appended or truncated since mark_persisted(), or 0 if
  // nothing changed: the driver writes from there to storage.
  Index dirty_from() const { return dirty_from_; }
  void mark_persisted() { dirty_from_ = 0; }

  // Bytes of payload held (for flow control and status).
  std::size_t payload_bytes() const { return payload_bytes_; }

 private:
  // Payloads live in fixed-size chunks and entry metadata in fixed-size
  // blocks: growing the log never reallocates or copies what it holds (at
  // millions of entries per second, doubling a vector means page faults
  // and copies that cost more than Raft itself).
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
  static constexpr std::size_t kBlockEntries = 4096;

  struct Meta {
    Term term;
    std::uint64_t id;
    std::uint32_t chunk;   // chunk id: chunks_[chunk - first_chunk_] (wraps harmlessly)
    std::uint32_t offset;  // within the chunk
    std::uint32_t len;
    EntryType type;
  };
  struct Chunk {
    std::unique_ptr<std::uint8_t[]> bytes;
    std::size_t capacity = 0;
    std::size_t used = 0;
  };

  const Meta& meta(Index i) const {
    const std::size_t k = head_ + (i - base_index_ - 1);
    return blocks_[k / kBlockEntries][k % kBlockEntries];
  }
  Chunk& chunk(std::uint32_t id) { return chunks_[static_cast<std::uint32_t>(id - first_chunk_)]; }
  const Chunk& chunk(std::uint32_t id) const {
    return chunks_[static_cast<std::uint32_t>(id - first_chunk_)];
  }
  // Keep a freed chunk for reuse (a bounded number of them).
  void recycle(Chunk&& c);
  // Where `len` payload bytes go: the current chunk if they fit, else a new
  // (or recycled) one; an entry larger than a chunk gets a chunk of its own.
  std::uint32_t chunk_for(std::size_t len);

  Index base_index_ = 0;
  Term base_term_ = 0;
  Index dirty_from_ = 0;
  std::size_t count_ = 0;  // entries held
  std::size_t head_ = 0;   // slot of the first entry in blocks_[0]
  std::vector<std::unique_ptr<Meta[]>> blocks_;
  std::vector<std::unique_ptr<Meta[]>> spare_blocks_;
  std::vector<Chunk> chunks_;
  std::uint32_t first_chunk_ = 0;    // id of chunks_[0]
  std::vector<Chunk> spare_chunks_;  // freed by truncation or compaction, reused
  std::size_t payload_bytes_ = 0;
};

}  // namespace raft::core
