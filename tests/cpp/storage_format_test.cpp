// Segment format version 3: a run of entries of one term is one batch record
// (kEntries).  Batches round-trip across term changes and the size cut;
// segments of version 2 are still read and, reopened, continue in their own
// format; a malformed batch record is never accepted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "storage/record_format.hpp"
#include "storage/storage.hpp"
#include "temp_dir.hpp"
#include "wire/crc32c.hpp"
#include "wire/le.hpp"

namespace raft::test {
namespace {

namespace fs = std::filesystem;
namespace fmt = storage::format;

struct Entry {
  Term term;
  std::uint64_t id;
  std::uint32_t type;
  std::string data;
  bool operator==(const Entry& o) const {
    return term == o.term && id == o.id && type == o.type && data == o.data;
  }
};

std::vector<Entry> load_all(const std::string& dir, int* rc_out = nullptr) {
  std::vector<Entry> out;
  raft_storage st{};
  std::string why;
  int rc = storage::open_file_storage(dir.c_str(), 1, 7, st, why);
  if (rc == RAFT_OK) {
    storage::Loaded loaded;
    rc = storage::load(st, loaded, why);
    st.close(st.ctx);
    if (rc != RAFT_OK) loaded.entries.clear();  // views not set up
    for (const auto& e : loaded.entries)
      out.push_back(Entry{
          e.term, e.id, static_cast<std::uint32_t>(e.type),
          e.len == 0 ? std::string() : std::string(reinterpret_cast<const char*>(e.data), e.len)});
  }
  if (rc_out != nullptr) *rc_out = rc;
  EXPECT_TRUE(rc_out != nullptr || rc == RAFT_OK) << why;
  return out;
}

// Appends `entries` after `first - 1` in one call and syncs.
void append_sync(const std::string& dir, Index first, const std::vector<Entry>& entries) {
  raft_storage st{};
  std::string why;
  ASSERT_EQ(storage::open_file_storage(dir.c_str(), 1, 7, st, why), RAFT_OK) << why;
  storage::Loaded loaded;
  ASSERT_EQ(storage::load(st, loaded, why), RAFT_OK) << why;
  // No entry may have a term above the durable current term.
  Term term = loaded.term;
  for (const Entry& e : entries) term = std::max(term, e.term);
  if (term > loaded.term) {
    EXPECT_EQ(st.save_hard_state(st.ctx, term, 1), RAFT_OK);
  }
  std::vector<raft_entry> rs(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i)
    rs[i] = raft_entry{entries[i].term, entries[i].id, entries[i].type, entries[i].data.data(),
                       entries[i].data.size()};
  EXPECT_EQ(st.append(st.ctx, first, rs.data(), rs.size()), RAFT_OK);
  EXPECT_EQ(st.sync(st.ctx), RAFT_OK);
  st.close(st.ctx);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string segment_path(const std::string& dir, std::uint64_t seq) {
  char name[32];
  std::snprintf(name, sizeof name, "/log.%016llx", static_cast<unsigned long long>(seq));
  return dir + name;
}

// The record types of a segment, in order.
std::vector<fmt::RecordType> record_types(const std::string& bytes) {
  std::vector<fmt::RecordType> types;
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t at = fmt::kSegmentHeaderBytes;
  while (at < bytes.size()) {
    fmt::Record r;
    EXPECT_EQ(fmt::parse_record(p + at, bytes.size() - at, r), fmt::Parse::kOk) << at;
    if (r.size == 0) break;
    types.push_back(r.type);
    at += r.size;
  }
  return types;
}

TEST(StorageFormat, BatchesRoundTripAcrossTermChangesAndTheSizeCut) {
  TempDir d;
  std::vector<Entry> entries;
  for (std::uint64_t i = 0; i < 9; ++i)
    entries.push_back(Entry{1 + i / 4, 100 + i, i == 4 ? 2u : 1u, std::string(i * 3, 'a' + i)});
  // Three of 7 MiB: the third starts a new record (16 MiB of data each at most).
  for (std::uint64_t i = 0; i < 3; ++i)
    entries.push_back(Entry{3, 200 + i, 1, std::string(7u << 20, 'A' + i)});
  append_sync(d.path, 1, entries);
  EXPECT_EQ(load_all(d.path), entries);
  const std::string seg = read_file(segment_path(d.path, 1));
  EXPECT_EQ(static_cast<std::uint32_t>(
                wire::le::load32(reinterpret_cast<const std::uint8_t*>(seg.data()) + 8)),
            fmt::kFormatVersion);
  // start; hard state; terms 1 (4 entries), 2 (4), 3 (1 small + 2 big), 3 (the last big one).
  const std::vector<fmt::RecordType> want = {fmt::RecordType::kStart,   fmt::RecordType::kHardState,
                                             fmt::RecordType::kEntries, fmt::RecordType::kEntries,
                                             fmt::RecordType::kEntries, fmt::RecordType::kEntries};
  EXPECT_EQ(record_types(seg), want);
}

// Records are cut by their whole payload, metadata included: a run of
// millions of empty entries (13 bytes each) must not outgrow what replay
// accepts (found in review: cutting by data bytes alone allowed it).
TEST(StorageFormat, BatchesAreCutByTheirWholePayload) {
  const std::uint8_t byte = 'z';
  std::vector<EntryView> empty(50, EntryView{1, EntryType::kCommand, 1, nullptr, 0});
  // 20 fixed bytes, then 13 per empty entry: 6 fit in 100 bytes.
  EXPECT_EQ(fmt::entries_that_fit(empty.data(), empty.size(), 100), 6u);
  EXPECT_EQ(fmt::entries_that_fit(empty.data(), 3, 100), 3u);
  EXPECT_EQ(fmt::entries_that_fit(empty.data(), empty.size(), 20 + 13 * 7), 7u);
  // An entry larger than the limit goes alone, and is never dropped.
  std::vector<EntryView> big(3, EntryView{1, EntryType::kCommand, 1, &byte, 500});
  EXPECT_EQ(fmt::entries_that_fit(big.data(), big.size(), 100), 1u);
  // What fits is what put_entries writes and parse_record accepts.
  std::vector<std::uint8_t> rec;
  fmt::put_entries(rec, 1, 1, empty.data(), 6);
  EXPECT_LE(rec.size() - fmt::kRecordHeaderBytes, 100u);
  fmt::Record r;
  ASSERT_EQ(fmt::parse_record(rec.data(), rec.size(), r), fmt::Parse::kOk);
  EXPECT_EQ(r.count, 6u);
}

// A directory written by the previous release: one version-2 segment of
// single-entry records.  It loads; reopened, it is continued with records of
// its own version; a restart reads both.
TEST(StorageFormat, AVersion2SegmentIsReadAndContinuedInItsOwnFormat) {
  TempDir d;
  append_sync(d.path, 1, {Entry{1, 1, 1, "x"}});  // IDENTITY and a segment
  std::vector<std::uint8_t> seg;
  fmt::put_segment_header(seg, 1, 2);
  fmt::put_start(seg, 2, 1, 1);
  fmt::put_entry(seg, 1, 1, 11, 1, "one", 3);
  fmt::put_entry(seg, 2, 2, 12, 2, "", 0);
  std::ofstream(segment_path(d.path, 1), std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(seg.data()), static_cast<std::streamsize>(seg.size()));
  const std::vector<Entry> old = {Entry{1, 11, 1, "one"}, Entry{2, 12, 2, ""}};
  EXPECT_EQ(load_all(d.path), old);

  const std::vector<Entry> more = {Entry{2, 13, 1, "three"}, Entry{3, 14, 1, "four"}};
  append_sync(d.path, 3, more);
  std::vector<Entry> all = old;
  all.insert(all.end(), more.begin(), more.end());
  EXPECT_EQ(load_all(d.path), all);
  for (fmt::RecordType t : record_types(read_file(segment_path(d.path, 1))))
    EXPECT_NE(t, fmt::RecordType::kEntries);
}

TEST(StorageFormat, ABatchRecordInAVersion2SegmentIsCorruption) {
  TempDir d;
  append_sync(d.path, 1, {Entry{1, 1, 1, "x"}});
  std::vector<std::uint8_t> seg;
  fmt::put_segment_header(seg, 1, 2);
  fmt::put_start(seg, 1, 1, 1);
  const std::uint8_t byte = 'b';
  const EntryView e{1, EntryType::kCommand, 5, &byte, 1};
  fmt::put_entries(seg, 1, 1, &e, 1);
  fmt::put_entries(seg, 2, 1, &e, 1);  // a later record: not a torn tail
  std::ofstream(segment_path(d.path, 1), std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(seg.data()), static_cast<std::streamsize>(seg.size()));
  int rc = RAFT_OK;
  load_all(d.path, &rc);
  EXPECT_EQ(rc, RAFT_ECORRUPT);
}

// A kEntries record with a valid checksum around a body that breaks one rule.
std::vector<std::uint8_t> entries_record(
    Index index, std::uint32_t count,
    const std::vector<std::pair<std::uint8_t, std::uint32_t>>& type_len, std::size_t data_bytes) {
  std::vector<std::uint8_t> body(fmt::kEntriesFixedBytes + type_len.size() * fmt::kBatchEntryBytes +
                                 data_bytes);
  wire::le::store64(body.data(), index);
  wire::le::store64(body.data() + 8, 1);
  wire::le::store32(body.data() + 16, count);
  std::uint8_t* meta = body.data() + fmt::kEntriesFixedBytes;
  for (const auto& [type, len] : type_len) {
    wire::le::store64(meta, 9);
    meta[8] = type;
    wire::le::store32(meta + 9, len);
    meta += fmt::kBatchEntryBytes;
  }
  std::vector<std::uint8_t> rec(fmt::kRecordHeaderBytes + body.size());
  rec[4] = static_cast<std::uint8_t>(fmt::RecordType::kEntries);
  wire::le::store32(rec.data() + 8, static_cast<std::uint32_t>(body.size()));
  std::memcpy(rec.data() + fmt::kRecordHeaderBytes, body.data(), body.size());
  wire::le::store32(rec.data(), wire::crc32c(rec.data() + 4, rec.size() - 4));
  return rec;
}

TEST(StorageFormat, MalformedBatchRecordsAreInvalid) {
  auto parse = [](const std::vector<std::uint8_t>& rec) {
    fmt::Record r;
    return fmt::parse_record(rec.data(), rec.size(), r);
  };
  EXPECT_EQ(parse(entries_record(1, 2, {{1, 3}, {2, 0}}, 3)), fmt::Parse::kOk);
  EXPECT_EQ(parse(entries_record(0, 2, {{1, 3}, {2, 0}}, 3)), fmt::Parse::kInvalid);  // index 0
  EXPECT_EQ(parse(entries_record(1, 0, {}, 0)), fmt::Parse::kInvalid);                // no entry
  EXPECT_EQ(parse(entries_record(1, 3, {{1, 3}, {2, 0}}, 3)),
            fmt::Parse::kInvalid);  // count > room
  EXPECT_EQ(parse(entries_record(1, 2, {{1, 3}, {3, 0}}, 3)), fmt::Parse::kInvalid);  // bad type
  EXPECT_EQ(parse(entries_record(1, 2, {{1, 3}, {2, 0}}, 4)), fmt::Parse::kInvalid);  // extra byte
  EXPECT_EQ(parse(entries_record(1, 2, {{1, 4}, {2, 0}}, 3)), fmt::Parse::kInvalid);  // short data
  EXPECT_EQ(parse(entries_record(~Index{0}, 2, {{1, 3}, {2, 0}}, 3)),
            fmt::Parse::kInvalid);  // indexes wrap
}

}  // namespace
}  // namespace raft::test
