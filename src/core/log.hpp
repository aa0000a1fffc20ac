// The replicated log held in memory.  All index arithmetic lives here, in
// one place, so that an offset mistake (little_raft bugs B9-B11) cannot hide
// in the protocol code: callers speak only in Raft indexes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/page_memory.hpp"
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
  Term term_at(Index i) const {
    if (i == base_index_) return base_term_;
    if (i < base_index_ || i > last_index()) return 0;
    return term_of(i);
  }
  // Entry i, which must satisfy base_index() < i <= last_index().  The view
  // is valid until the log is next modified.  Inline: the leader and the
  // apply loop call these for every entry.
  EntryView at(Index i) const {
    const Slot s = slot(i);
    const std::uint32_t end_type = s.block->end_type[s.k];
    const std::uint32_t offset = offset_of(i, s);
    EntryView v;
    v.term = term_of(i);
    v.type = (end_type & kNoopBit) != 0 ? EntryType::kNoop : EntryType::kCommand;
    v.id = s.block->id[s.k];
    v.data = chunk(s.block->chunk[s.k]).bytes.get() + offset;
    v.len = (end_type & ~kNoopBit) - offset;
    return v;
  }

  // Reads entries in index order, from a starting index up: what the leader
  // sends, the driver persists and the state machine applies.  Unlike at(),
  // it finds each entry's payload from the one before, without looking up
  // the metadata of two entries per step.  Valid until the log is modified.
  class Reader;
  // A reader positioned at entry i (base_index() < i <= last_index()).
  Reader read_from(Index i) const;

  // Appends n entries in order, with the bookkeeping done once per batch (a
  // follower appends an AppendEntries' new entries, the leader a turn's
  // proposals).
  void append(const EntryView* entries, std::size_t n);
  void append(const EntryView& e) { append(&e, 1); }
  // Appends n commands of one term whose payloads lie in `base` (a turn's
  // proposals, straight from the driver's queue).
  void append(Term term, const std::uint8_t* base, const Proposal* items, std::size_t n);
  void append(Term term, EntryType type, std::uint64_t id, const std::uint8_t* data,
              std::size_t len) {
    const EntryView e{term, type, id, data, len};
    append(&e, 1);
  }
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
  // Changes whenever the log does (append, truncate, compact, reset): what
  // was read from it at one generation still holds while it is unchanged.
  std::uint64_t generation() const { return generation_; }

 private:
  // Payloads live in fixed-size chunks and entry metadata in fixed-size
  // blocks: growing the log never reallocates or copies what it holds (at
  // millions of entries per second, doubling a vector means page faults
  // and copies that cost more than Raft itself).
  static constexpr std::size_t kChunkBytes = std::size_t{1} << 20;
  static constexpr std::size_t kBlockEntries = 4096;

  // Entry metadata, a structure of arrays per block of entries: 14 bytes
  // an entry instead of the 32 of a padded struct (at 1M entries per node
  // that is the difference between meeting a memory budget or not).  The
  // term is not stored per entry: terms change rarely, so `runs_` holds the
  // first index of every term present.  Nor is the payload's offset:
  // entries are packed back to back in their chunk, so an entry starts where
  // the one before it ends (or at 0 in a new chunk).
  static constexpr std::uint32_t kNoopBit = 1u << 31;  // in end_type; ends < 2^31
  struct Block {
    std::uint64_t id[kBlockEntries];
    std::uint32_t end_type[kBlockEntries];  // payload's end in its chunk | kNoopBit
    std::uint16_t chunk[kBlockEntries];     // chunk id: chunks_[chunk - first_chunk_]
  };
  struct TermRun {
    Index first;  // entries first.. (up to the next run) have this term
    Term term;
  };
  struct Slot {
    const Block* block;
    std::size_t k;
  };
  struct Chunk {
    PageMemory bytes;
    std::size_t capacity = 0;
    std::size_t used = 0;
  };

  Slot slot(Index i) const {
    const std::size_t k = head_ + (i - base_index_ - 1);
    return Slot{blocks_[k / kBlockEntries].get(), k % kBlockEntries};
  }
  // Where entry i's payload starts in its chunk (s = slot(i)).
  std::uint32_t offset_of(Index i, Slot s) const {
    if (i == base_index_ + 1) return first_offset_;
    const Slot before = slot(i - 1);
    if (before.block->chunk[before.k] != s.block->chunk[s.k]) return 0;
    return before.block->end_type[before.k] & ~kNoopBit;
  }
  std::uint32_t len_of(Index i) const {
    const Slot s = slot(i);
    return (s.block->end_type[s.k] & ~kNoopBit) - offset_of(i, s);
  }
  // Term of an entry held (base_index() < i <= last_index()): almost always
  // the newest run; older ones by binary search.
  Term term_of(Index i) const {
    return i >= runs_.back().first ? runs_.back().term : older_term(i);
  }
  Term older_term(Index i) const;
  // Chunk ids are 16 bits and only their differences matter: the live
  // chunks (each at least 1 MiB) never number 65,536.
  Chunk& chunk(std::uint16_t id) { return chunks_[static_cast<std::uint16_t>(id - first_chunk_)]; }
  const Chunk& chunk(std::uint16_t id) const {
    return chunks_[static_cast<std::uint16_t>(id - first_chunk_)];
  }
  // Keep a freed chunk for reuse (a bounded number of them).
  void recycle(Chunk&& c);
  // A new (or recycled) chunk for an entry of `len` bytes that does not fit
  // the current one; an entry larger than a chunk gets a chunk of its own.
  void new_chunk(std::size_t len);
  // The next metadata block (a spare one if any).
  void add_block();
  // Both appends: entry_at(j) gives the j-th new entry (an EntryView).
  template <typename EntryAt>
  void append_each(std::size_t n, EntryAt entry_at);
  // chunks_ changed: re-point tail_.
  void refresh_tail() { tail_ = chunks_.empty() ? nullptr : &chunks_.back(); }

  Index base_index_ = 0;
  Term base_term_ = 0;
  Index dirty_from_ = 0;
  std::size_t count_ = 0;           // entries held
  std::size_t head_ = 0;            // slot of the first entry in blocks_[0]
  std::uint32_t first_offset_ = 0;  // where the first entry held starts in its chunk
  // Blocks live in page memory too (57 KiB each), hence the deleter.
  struct BlockFree {
    PageMemoryFree pages;
    void operator()(Block* b) const noexcept { pages(reinterpret_cast<std::uint8_t*>(b)); }
  };
  using BlockPtr = std::unique_ptr<Block, BlockFree>;
  std::vector<BlockPtr> blocks_;
  std::vector<BlockPtr> spare_blocks_;
  std::vector<TermRun> runs_;  // ascending; covers every entry held
  std::vector<Chunk> chunks_;
  std::uint16_t first_chunk_ = 0;    // id of chunks_[0]
  std::vector<Chunk> spare_chunks_;  // freed by truncation or compaction, reused
  Chunk* tail_ = nullptr;            // chunks_.back(): where appends go
  std::size_t payload_bytes_ = 0;
  std::uint64_t generation_ = 0;
};

class Log::Reader {
 public:
  // The next entry; the caller keeps within last_index().
  EntryView next() {
    const std::uint32_t end_type = block_->end_type[k_];
    const std::uint16_t chunk_id = block_->chunk[k_];
    if (chunk_id != chunk_id_) {
      chunk_id_ = chunk_id;
      bytes_ = log_->chunk(chunk_id).bytes.get();
      offset_ = 0;
    }
    const std::uint32_t end = end_type & ~kNoopBit;
    EntryView v;
    v.term = log_->term_of(index_);
    v.type = (end_type & kNoopBit) != 0 ? EntryType::kNoop : EntryType::kCommand;
    v.id = block_->id[k_];
    v.data = bytes_ + offset_;
    v.len = end - offset_;
    offset_ = end;
    ++index_;
    if (++k_ == kBlockEntries && index_ <= log_->last_index()) {
      const Slot s = log_->slot(index_);
      block_ = s.block;
      k_ = s.k;
    }
    return v;
  }

 private:
  friend class Log;
  const Log* log_ = nullptr;
  Index index_ = 0;  // of the entry next() returns
  const Block* block_ = nullptr;
  std::size_t k_ = 0;
  std::uint16_t chunk_id_ = 0;
  const std::uint8_t* bytes_ = nullptr;
  std::uint32_t offset_ = 0;  // where entry index_'s payload starts in its chunk
};

inline Log::Reader Log::read_from(Index i) const {
  const Slot s = slot(i);
  Reader r;
  r.log_ = this;
  r.index_ = i;
  r.block_ = s.block;
  r.k_ = s.k;
  r.chunk_id_ = s.block->chunk[s.k];
  r.bytes_ = chunk(r.chunk_id_).bytes.get();
  r.offset_ = offset_of(i, s);
  return r;
}

}  // namespace raft::core
