// The on-disk format of the built-in storage's log segments
// (docs/storage-format.md describes every byte).  Pure functions: encoding
// into a buffer, and validating one record at a given offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/message.hpp"

namespace raft::storage::format {

inline constexpr char kSegmentMagic[8] = {'L', 'R', 'F', 'T', 'L', 'O', 'G', '1'};
// Version 3 segments store a run of entries as one batch record; version 2
// segments begin with a start record (so do version 3's); version 1 segments
// (written before log compaction existed) are still read.
inline constexpr std::uint32_t kFormatVersion = 3;
inline constexpr std::uint32_t kOldestFormatVersion = 1;
inline constexpr std::size_t kSegmentHeaderBytes = 32;
inline constexpr std::size_t kRecordHeaderBytes = 12;
inline constexpr std::size_t kEntryFixedBytes = 28;  // index, term, id, type
inline constexpr std::uint32_t kMaxRecordPayload = (1u << 30) + 64;
inline constexpr std::size_t kStartRecordBytes = kRecordHeaderBytes + 24;
// kEntries: first index, term, count; then per entry id, type, len; then the
// payloads back to back.
inline constexpr std::size_t kEntriesFixedBytes = 20;
inline constexpr std::size_t kBatchEntryBytes = 13;

// kStart opens every version-2 segment: the durable hard state and the index
// the next entry has, so that the segments before it can be deleted.
// kEntries (version 3) holds consecutive entries of one term: 13 bytes of
// metadata each instead of kEntry's 40, and one checksum for the batch.
enum class RecordType : std::uint8_t {
  kEntry = 1,
  kHardState = 2,
  kTruncate = 3,
  kStart = 4,
  kEntries = 5
};

// One decoded record; `data` points into the buffer that was parsed.
struct Record {
  RecordType type = RecordType::kEntry;
  std::size_t size = 0;  // header + payload bytes
  // kEntry
  Index index = 0;
  EntryView entry;
  // kHardState, kStart
  Term term = 0;
  NodeId vote = 0;
  // kTruncate
  Index from = 0;
  // kStart
  Index next = 0;
  // kEntries: entries index .. index + count - 1 of `term`; batch points at
  // the first entry's metadata (walk them with BatchReader).
  std::uint32_t count = 0;
  const std::uint8_t* batch = nullptr;
};

// The entries of a kEntries record that parse_record accepted, in order.
class BatchReader {
 public:
  explicit BatchReader(const Record& r);
  // The next entry (the caller reads at most r.count).
  EntryView next();

 private:
  const std::uint8_t* meta_;
  const std::uint8_t* data_;
  Term term_;
};

void put_segment_header(std::vector<std::uint8_t>& out, std::uint64_t sequence,
                        std::uint32_t version = kFormatVersion);
// The format version of a valid header for the given sequence number, or 0
// when buf does not hold one (or holds a version this library does not know).
std::uint32_t segment_header_version(const std::uint8_t* buf, std::size_t len,
                                     std::uint64_t sequence);
inline bool check_segment_header(const std::uint8_t* buf, std::size_t len, std::uint64_t sequence) {
  return segment_header_version(buf, len, sequence) != 0;
}

void put_entry(std::vector<std::uint8_t>& out, Index index, Term term, std::uint64_t id,
               std::uint32_t type, const void* data, std::size_t len);
// How many of entries[0..n) (at least 1) one kEntries record takes without
// its payload passing max_payload bytes (metadata included): n is then cut
// into several records.  One entry larger than that gets a record alone.
std::size_t entries_that_fit(const EntryView* entries, std::size_t n, std::size_t max_payload);
// Entries index .. index + n - 1, all of `term` (one kEntries record; its
// payload must stay within kMaxRecordPayload: see entries_that_fit).
void put_entries(std::vector<std::uint8_t>& out, Index index, Term term, const EntryView* entries,
                 std::size_t n);
void put_hard_state(std::vector<std::uint8_t>& out, Term term, NodeId vote);
void put_truncate(std::vector<std::uint8_t>& out, Index from);
void put_start(std::vector<std::uint8_t>& out, Term term, NodeId vote, Index next);

enum class Parse { kOk, kIncomplete, kInvalid };
// Parses the record at buf[0..len).  kIncomplete: the bytes end inside it;
// kInvalid: checksum or contents are wrong.
Parse parse_record(const std::uint8_t* buf, std::size_t len, Record& out);

}  // namespace raft::storage::format
