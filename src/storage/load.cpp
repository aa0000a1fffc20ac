// Loading through any raft_storage, with the checks a user storage's answers
// need before the core may trust them.
#include <cstring>

#include "common/error_text.hpp"
#include "storage/storage.hpp"

namespace raft::storage {

namespace {

struct Collector {
  Loaded* out;
  std::vector<std::size_t> offsets;  // payload offsets; views are made at the end
  std::string problem;
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
  if (e->len > 0xFFFFFFFFu) {
    c->problem = "load returned an entry larger than 4 GiB";
    return 1;
  }
  if (!c->out->entries.empty() && e->term < c->out->entries.back().term) {
    c->problem = "load returned entry terms that go backwards";
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

}  // namespace

int load(const raft_storage& storage, Loaded& out, std::string& why) {
  out = Loaded{};
  Collector c{&out, {}, {}};
  std::uint64_t term = 0, first = 1;
  raft_id vote = RAFT_NO_ID;
  const int rc = storage.load(storage.ctx, &term, &vote, &first, collect, &c);
  if (!c.problem.empty()) {
    why = "storage: " + c.problem;
    return RAFT_ECORRUPT;
  }
  if (rc != RAFT_OK) {
    if (why.empty()) why = "storage.load failed: " + std::string(error_text(rc));
    return rc < 0 ? rc : RAFT_ECALLBACK;
  }
  if (first != 1) {
    why = "storage: the log starts at index " + std::to_string(first) +
          "; log compaction is not supported in this release";
    return RAFT_ECORRUPT;
  }
  if (!out.entries.empty() && out.entries.back().term > term) {
    why = "storage: a log entry has a term above the stored current term";
    return RAFT_ECORRUPT;
  }
  out.term = term;
  out.vote = vote;
  out.first_index = first;
  for (std::size_t i = 0; i < out.entries.size(); ++i)
    out.entries[i].data = out.bytes.data() + c.offsets[i];
  return RAFT_OK;
}

}  // namespace raft::storage
