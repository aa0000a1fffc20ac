#include "storage/record_format.hpp"

#include <cstring>

#include "wire/crc32c.hpp"
#include "wire/le.hpp"

namespace raft::storage::format {

namespace {

// Writes a record header for a payload of `len` bytes that the caller has
// already appended after it, then fills in the checksum.
std::size_t begin_record(std::vector<std::uint8_t>& out, RecordType type, std::size_t len) {
  const std::size_t at = out.size();
  out.resize(at + kRecordHeaderBytes + len);
  std::uint8_t* p = out.data() + at;
  p[4] = static_cast<std::uint8_t>(type);
  p[5] = p[6] = p[7] = 0;
  wire::le::store32(p + 8, static_cast<std::uint32_t>(len));
  return at;
}

void seal_record(std::vector<std::uint8_t>& out, std::size_t at) {
  std::uint8_t* p = out.data() + at;
  const std::size_t len = wire::le::load32(p + 8);
  wire::le::store32(p, wire::crc32c(p + 4, kRecordHeaderBytes - 4 + len));
}

}  // namespace

void put_segment_header(std::vector<std::uint8_t>& out, std::uint64_t sequence,
                        std::uint32_t version) {
  const std::size_t at = out.size();
  out.resize(at + kSegmentHeaderBytes, 0);
  std::uint8_t* p = out.data() + at;
  std::memcpy(p, kSegmentMagic, 8);
  wire::le::store32(p + 8, version);
  wire::le::store64(p + 16, sequence);
  wire::le::store32(p + 24, wire::crc32c(p, 24));
}

std::uint32_t segment_header_version(const std::uint8_t* buf, std::size_t len,
                                     std::uint64_t sequence) {
  if (len < kSegmentHeaderBytes) return 0;
  const std::uint32_t version = wire::le::load32(buf + 8);
  const bool ok = std::memcmp(buf, kSegmentMagic, 8) == 0 && version >= kOldestFormatVersion &&
                  version <= kFormatVersion && wire::le::load32(buf + 12) == 0 &&
                  wire::le::load64(buf + 16) == sequence &&
                  wire::le::load32(buf + 24) == wire::crc32c(buf, 24) &&
                  wire::le::load32(buf + 28) == 0;
  return ok ? version : 0;
}

void put_entry(std::vector<std::uint8_t>& out, Index index, Term term, std::uint64_t id,
               std::uint32_t type, const void* data, std::size_t len) {
  const std::size_t at = begin_record(out, RecordType::kEntry, kEntryFixedBytes + len);
  std::uint8_t* p = out.data() + at + kRecordHeaderBytes;
  wire::le::store64(p, index);
  wire::le::store64(p + 8, term);
  wire::le::store64(p + 16, id);
  wire::le::store32(p + 24, type);
  if (len > 0) std::memcpy(p + kEntryFixedBytes, data, len);
  seal_record(out, at);
}

std::size_t entries_that_fit(const EntryView* entries, std::size_t n, std::size_t max_payload) {
  std::size_t bytes = kEntriesFixedBytes, k = 0;
  for (; k < n; ++k) {
    const std::size_t cost = kBatchEntryBytes + entries[k].len;
    if (k > 0 && bytes + cost > max_payload) break;
    bytes += cost;
  }
  return k;
}

void put_entries(std::vector<std::uint8_t>& out, Index index, Term term, const EntryView* entries,
                 std::size_t n) {
  std::size_t data = 0;
  for (std::size_t i = 0; i < n; ++i) data += entries[i].len;
  const std::size_t at =
      begin_record(out, RecordType::kEntries, kEntriesFixedBytes + n * kBatchEntryBytes + data);
  std::uint8_t* p = out.data() + at + kRecordHeaderBytes;
  wire::le::store64(p, index);
  wire::le::store64(p + 8, term);
  wire::le::store32(p + 16, static_cast<std::uint32_t>(n));
  std::uint8_t* meta = p + kEntriesFixedBytes;
  std::uint8_t* payload = meta + n * kBatchEntryBytes;
  for (std::size_t i = 0; i < n; ++i) {
    const EntryView& e = entries[i];
    wire::le::store64(meta, e.id);
    meta[8] = static_cast<std::uint8_t>(e.type);
    wire::le::store32(meta + 9, static_cast<std::uint32_t>(e.len));
    meta += kBatchEntryBytes;
    if (e.len > 0) std::memcpy(payload, e.data, e.len);
    payload += e.len;
  }
  seal_record(out, at);
}

BatchReader::BatchReader(const Record& r)
    : meta_(r.batch), data_(r.batch + std::size_t{r.count} * kBatchEntryBytes), term_(r.term) {}

EntryView BatchReader::next() {
  EntryView e;
  e.term = term_;
  e.id = wire::le::load64(meta_);
  e.type = static_cast<EntryType>(meta_[8]);
  e.len = wire::le::load32(meta_ + 9);
  e.data = data_;
  meta_ += kBatchEntryBytes;
  data_ += e.len;
  return e;
}

void put_hard_state(std::vector<std::uint8_t>& out, Term term, NodeId vote) {
  const std::size_t at = begin_record(out, RecordType::kHardState, 16);
  std::uint8_t* p = out.data() + at + kRecordHeaderBytes;
  wire::le::store64(p, term);
  wire::le::store64(p + 8, vote);
  seal_record(out, at);
}

void put_truncate(std::vector<std::uint8_t>& out, Index from) {
  const std::size_t at = begin_record(out, RecordType::kTruncate, 8);
  wire::le::store64(out.data() + at + kRecordHeaderBytes, from);
  seal_record(out, at);
}

void put_start(std::vector<std::uint8_t>& out, Term term, NodeId vote, Index next) {
  const std::size_t at = begin_record(out, RecordType::kStart, 24);
  std::uint8_t* p = out.data() + at + kRecordHeaderBytes;
  wire::le::store64(p, term);
  wire::le::store64(p + 8, vote);
  wire::le::store64(p + 16, next);
  seal_record(out, at);
}

namespace {

bool valid_entry_type(std::uint32_t t) {
  return t == static_cast<std::uint32_t>(EntryType::kCommand) ||
         t == static_cast<std::uint32_t>(EntryType::kNoop);
}

// The body of a kEntries record: every entry's metadata is checked here, so
// that BatchReader needs no checks.
Parse parse_entries(const std::uint8_t* p, std::size_t payload, Record& out) {
  if (payload < kEntriesFixedBytes) return Parse::kInvalid;
  out.index = wire::le::load64(p);
  out.term = wire::le::load64(p + 8);
  out.count = wire::le::load32(p + 16);
  const std::size_t room = payload - kEntriesFixedBytes;
  if (out.index == 0 || out.count == 0 || out.count > room / kBatchEntryBytes ||
      out.index + out.count < out.index)
    return Parse::kInvalid;
  out.batch = p + kEntriesFixedBytes;
  std::size_t data = 0;
  const std::uint8_t* meta = out.batch;
  for (std::uint32_t i = 0; i < out.count; ++i, meta += kBatchEntryBytes) {
    if (!valid_entry_type(meta[8])) return Parse::kInvalid;
    data += wire::le::load32(meta + 9);  // at most count * 2^32: no overflow
  }
  return data == room - std::size_t{out.count} * kBatchEntryBytes ? Parse::kOk : Parse::kInvalid;
}

}  // namespace

Parse parse_record(const std::uint8_t* buf, std::size_t len, Record& out) {
  if (len < kRecordHeaderBytes) return Parse::kIncomplete;
  const std::uint8_t type = buf[4];
  if (type < 1 || type > 5 || buf[5] != 0 || buf[6] != 0 || buf[7] != 0) return Parse::kInvalid;
  const std::uint32_t payload = wire::le::load32(buf + 8);
  if (payload > kMaxRecordPayload) return Parse::kInvalid;
  if (len - kRecordHeaderBytes < payload) return Parse::kIncomplete;
  if (wire::le::load32(buf) != wire::crc32c(buf + 4, kRecordHeaderBytes - 4 + payload))
    return Parse::kInvalid;
  const std::uint8_t* p = buf + kRecordHeaderBytes;
  out = Record{};
  out.type = static_cast<RecordType>(type);
  out.size = kRecordHeaderBytes + payload;
  switch (out.type) {
    case RecordType::kEntry: {
      if (payload < kEntryFixedBytes) return Parse::kInvalid;
      out.index = wire::le::load64(p);
      out.entry.term = wire::le::load64(p + 8);
      out.entry.id = wire::le::load64(p + 16);
      const std::uint32_t etype = wire::le::load32(p + 24);
      if (!valid_entry_type(etype)) return Parse::kInvalid;
      out.entry.type = static_cast<EntryType>(etype);
      out.entry.data = p + kEntryFixedBytes;
      out.entry.len = payload - kEntryFixedBytes;
      if (out.index == 0) return Parse::kInvalid;
      return Parse::kOk;
    }
    case RecordType::kHardState:
      if (payload != 16) return Parse::kInvalid;
      out.term = wire::le::load64(p);
      out.vote = wire::le::load64(p + 8);
      return Parse::kOk;
    case RecordType::kTruncate:
      if (payload != 8) return Parse::kInvalid;
      out.from = wire::le::load64(p);
      if (out.from == 0) return Parse::kInvalid;
      return Parse::kOk;
    case RecordType::kEntries:
      return parse_entries(p, payload, out);
    case RecordType::kStart:
      if (payload != 24) return Parse::kInvalid;
      out.term = wire::le::load64(p);
      out.vote = wire::le::load64(p + 8);
      out.next = wire::le::load64(p + 16);
      if (out.next == 0) return Parse::kInvalid;
      return Parse::kOk;
  }
  return Parse::kInvalid;
}

}  // namespace raft::storage::format
