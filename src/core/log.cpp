#include "core/log.hpp"

#include <cstring>

namespace raft::core {

Term Log::term_at(Index i) const {
  if (i == base_index_) return base_term_;
  if (i < base_index_ || i > last_index()) return 0;
  return meta(i).term;
}

EntryView Log::at(Index i) const {
  const Meta& m = meta(i);
  EntryView v;
  v.term = m.term;
  v.type = m.type;
  v.id = m.id;
  v.data = bytes_.data() + m.offset;
  v.len = m.len;
  return v;
}

void Log::append(Term term, EntryType type, std::uint64_t id, const std::uint8_t* data,
                 std::size_t len) {
  if (dirty_from_ == 0) dirty_from_ = last_index() + 1;
  const std::uint64_t offset = bytes_.size();
  if (len > 0) {
    bytes_.resize(offset + len);
    std::memcpy(bytes_.data() + offset, data, len);
  }
  metas_.push_back(Meta{term, id, offset, static_cast<std::uint32_t>(len), type});
}

void Log::truncate_from(Index i) {
  if (i <= base_index_ || i > last_index()) return;
  if (dirty_from_ == 0 || i < dirty_from_) dirty_from_ = i;
  bytes_.resize(meta(i).offset);
  metas_.resize(i - base_index_ - 1);
}

}  // namespace raft::core
