// Loading through any raft_storage, with the checks a user storage's answers
// need before the core may trust them, and the reconciliation of the log
// with the current snapshot.
#include <cstring>

#include "common/error_text.hpp"
#include "storage/storage.hpp"
#include "wire/snapshot_meta.hpp"

namespace raft::storage {

namespace {

struct Collector {
  Loaded* out;
  const std::uint64_t* first;  // the storage's *first_index, read at the first entry
  Index snapshot_index = 0;
  Term snapshot_term = 0;
  std::vector<std::size_t> offsets;  // payload offsets; views are made at the end
  std::string problem;
  bool started = false;
  Index first_seen = 0;  // *first_index when the first entry arrived
  Index next = 0;        // index of the next entry
  Term last_term = 0;
  bool conflict = false;  // the snapshot's index is held with another term
};

int collect(void* arg, const raft_entry* e) {
  auto* c = static_cast<Collector*>(arg);
  if (e == nullptr) {
    c->problem = "load returned a NULL entry";
    return 1;
  }
  if (e->type != RAFT_ENTRY_COMMAND && e->type != RAFT_ENTRY_NOOP) {
    c->problem = "load returned an entry of unknown type " + std::to_string(e->type);
    return 1;
  }
  if (e->len > 0 && e->data == nullptr) {
    c->problem = "load returned an entry with NULL data";
    return 1;
  }
  if (e->len > 0x7FFFFFFFu) {  // the in-memory log stores lengths in 31 bits
    c->problem = "load returned an entry of 2 GiB or more";
    return 1;
  }
  if (!c->started) {
    // The contract sets *first_index before the entries; load() checks
    // that it did not change afterwards.
    c->started = true;
    c->first_seen = c->next = *c->first;
  }
  if (c->next > c->first_seen && e->term < c->last_term) {
    c->problem = "load returned entry terms that go backwards";
    return 1;
  }
  const Index index = c->next++;
  c->last_term = e->term;
  // Entries the snapshot covers are only looked at, never copied: after a
  // long run they are most of what a lazily compacting storage holds.
  if (index < c->snapshot_index) return 0;
  if (index == c->snapshot_index) {
    c->conflict = e->term != c->snapshot_term;
    return 0;
  }
  if (c->conflict) return 0;
  if (index == c->snapshot_index + 1 && c->snapshot_index != 0 && e->term < c->snapshot_term) {
    c->problem = "load returned an entry after the snapshot with a term below the snapshot's";
    return 1;
  }
  EntryView v;
  v.term = e->term;
  v.type = static_cast<EntryType>(e->type);
  v.id = e->id;
  v.len = e->len;
  c->offsets.push_back(c->out->bytes.size());
  if (e->len > 0) {
    const auto* p = static_cast<const std::uint8_t*>(e->data);
    c->out->bytes.insert(c->out->bytes.end(), p, p + e->len);
  }
  c->out->entries.push_back(v);
  return 0;
}

bool has_snapshots(const raft_storage& s) {
  return s.snapshot_begin != nullptr && s.snapshot_write != nullptr &&
         s.snapshot_commit != nullptr && s.snapshot_meta != nullptr && s.snapshot_read != nullptr &&
         s.compact != nullptr;
}

int load_snapshot_meta(const raft_storage& storage, SnapshotInfo& info, std::string& why) {
  std::vector<std::uint8_t> buf(RAFT_SNAPSHOT_META_MAX);
  std::size_t len = 0;
  const int rc = storage.snapshot_meta(storage.ctx, buf.data(), buf.size(), &len);
  if (rc != RAFT_OK) {
    if (why.empty()) why = "storage.snapshot_meta failed: " + std::string(error_text(rc));
    return rc < 0 ? rc : RAFT_ECALLBACK;
  }
  if (len > buf.size()) {
    why = "storage: snapshot_meta reported " + std::to_string(len) + " bytes, more than " +
          std::to_string(RAFT_SNAPSHOT_META_MAX);
    return RAFT_ECORRUPT;
  }
  if (len == 0) return RAFT_OK;
  if (!wire::decode_snapshot_meta(buf.data(), len, info)) {
    why = "storage: the current snapshot's meta (" + std::to_string(len) +
          " bytes) does not decode as a libraft snapshot meta";
    return RAFT_ECORRUPT;
  }
  return RAFT_OK;
}

}  // namespace

int load(const raft_storage& storage, Loaded& out, std::string& why) {
  out = Loaded{};
  if (has_snapshots(storage)) {
    // Before load(), so that entries covered by the snapshot need not be
    // copied.
    const int rc = load_snapshot_meta(storage, out.snapshot, why);
    if (rc != RAFT_OK) return rc;
  }
  const SnapshotInfo& snap = out.snapshot;
  std::uint64_t term = 0, first = 1;
  raft_id vote = RAFT_NO_ID;
  Collector c{&out, &first, snap.index, snap.term, {}, {}};
  const int rc = storage.load(storage.ctx, &term, &vote, &first, collect, &c);
  if (!c.problem.empty()) {
    why = "storage: " + c.problem;
    return RAFT_ECORRUPT;
  }
  if (rc != RAFT_OK) {
    if (why.empty()) why = "storage.load failed: " + std::string(error_text(rc));
    return rc < 0 ? rc : RAFT_ECALLBACK;
  }
  if (c.started && first != c.first_seen) {
    why = "storage: load changed *first_index after reporting entries";
    return RAFT_ECORRUPT;
  }
  if (first == 0) {
    why = "storage: load reported first index 0";
    return RAFT_ECORRUPT;
  }
  if (snap.index == 0 && first != 1) {
    why = "storage: the log starts at index " + std::to_string(first) +
          " but there is no snapshot: entries 1 to " + std::to_string(first - 1) + " are missing";
    return RAFT_ECORRUPT;
  }
  if (snap.index != 0 && first > snap.index + 1) {
    why = "storage: the log starts at index " + std::to_string(first) +
          ", leaving a gap after the snapshot at index " + std::to_string(snap.index);
    return RAFT_ECORRUPT;
  }
  if (c.started && c.last_term > term) {
    why = "storage: a log entry has a term above the stored current term";
    return RAFT_ECORRUPT;
  }
  if (snap.term > term) {
    why = "storage: the snapshot's term " + std::to_string(snap.term) +
          " is above the stored current term " + std::to_string(term);
    return RAFT_ECORRUPT;
  }
  out.term = term;
  out.vote = vote;
  out.stored_last = c.started ? c.next - 1 : first - 1;
  if (snap.index != 0) {
    out.first_index = snap.index + 1;
    // The suffix is kept when the log holds the snapshot's last entry with
    // its term, or starts right after it; otherwise (another term there, or
    // the log ends before it) the log is not a continuation of the snapshot.
    const bool matches = first == snap.index + 1 || (out.stored_last >= snap.index && !c.conflict);
    if (!matches) {
      out.log_conflicts_snapshot = true;
      out.entries.clear();
      std::vector<std::uint8_t>().swap(out.bytes);
      return RAFT_OK;
    }
  }
  for (std::size_t i = 0; i < out.entries.size(); ++i)
    out.entries[i].data = out.bytes.data() + c.offsets[i];
  return RAFT_OK;
}

}  // namespace raft::storage
