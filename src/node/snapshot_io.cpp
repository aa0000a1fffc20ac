#include "node/snapshot_io.hpp"

#include <algorithm>

#include "wire/crc32c.hpp"

namespace raft::node {

int snapshot_write(raft_snapshot_writer* w, const void* data, std::size_t len) {
  if (w == nullptr || (data == nullptr && len > 0)) return RAFT_EINVAL;
  if (w->error != RAFT_OK) return w->error;
  if (len == 0) return RAFT_OK;
  const int rc = w->storage->snapshot_write(w->storage->ctx, data, len);
  if (rc != RAFT_OK) {
    w->error = rc < 0 ? rc : RAFT_EIO;
    return w->error;
  }
  w->crc = wire::crc32c(data, len, w->crc);
  w->size += len;
  return RAFT_OK;
}

std::int64_t snapshot_read(raft_snapshot_reader* r, void* buf, std::size_t cap) {
  if (r == nullptr || (buf == nullptr && cap > 0)) return RAFT_EINVAL;
  if (r->error != RAFT_OK) return r->error;
  // Bounded so the byte count always fits the return type.
  const std::uint64_t want =
      std::min<std::uint64_t>({cap, r->size - r->offset, std::uint64_t{1} << 30});
  if (want == 0) {
    if (cap > 0 && r->crc != r->expected_crc) r->error = RAFT_ECORRUPT;
    return r->error != RAFT_OK ? r->error : 0;
  }
  std::size_t got = 0;
  const int rc = r->storage->snapshot_read(r->storage->ctx, r->offset, buf,
                                           static_cast<std::size_t>(want), &got);
  if (rc != RAFT_OK) {
    r->error = rc < 0 ? rc : RAFT_EIO;
    return r->error;
  }
  if (got != want) {
    // Shorter than its meta says: the file was cut or the storage is wrong.
    r->error = RAFT_ECORRUPT;
    return r->error;
  }
  r->crc = wire::crc32c(buf, got, r->crc);
  r->offset += got;
  return static_cast<std::int64_t>(got);
}

}  // namespace raft::node
