// The driver's half of snapshots: saving the user's state machine into
// storage (in steps, so heartbeats keep flowing), compacting the log after
// it, storing a leader's snapshot as its chunks arrive, making it durable
// before the acknowledgement leaves, and loading it into the state machine
// -- on a follower that installs one, and on every restart.
#include <algorithm>

#include "common/error_text.hpp"
#include "node/node.hpp"
#include "wire/crc32c.hpp"
#include "wire/snapshot_meta.hpp"

namespace raft::node {

namespace {
unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }
constexpr std::size_t kDrainBytes = std::size_t{64} * 1024;
}  // namespace

// ---------------------------------------------------------------- restart

int Node::restore_snapshot(const storage::Loaded& loaded, std::string& why) {
  const SnapshotInfo& s = loaded.snapshot;
  if (s.index == 0) return RAFT_OK;
  if (cb_.snapshot_load == nullptr) {
    why = "storage holds snapshot " + std::to_string(s.index) +
          " but callbacks.snapshot_load is not set";
    return RAFT_ENOTSUP;
  }
  if (core_->voters() != s.voters) {
    why = "storage's snapshot " + std::to_string(s.index) +
          " records another cluster configuration than options.id and options.peers";
    return RAFT_EINVAL;
  }
  const int rc = load_snapshot(s, why);
  if (rc != RAFT_OK) return rc;
  if (loaded.log_conflicts_snapshot) {
    // A crash came between committing a leader's snapshot and discarding
    // the log it replaced: finish the job before anything is appended.
    // The truncation is synced before compaction deletes anything (see
    // compact_after_install).
    int src = RAFT_OK;
    if (loaded.stored_last > s.index) {
      src = storage_.truncate(storage_.ctx, s.index + 1);
      if (src == RAFT_OK) src = storage_.sync(storage_.ctx);
    }
    if (src == RAFT_OK) src = storage_.compact(storage_.ctx, s.index);
    if (src == RAFT_OK) src = storage_.sync(storage_.ctx);
    if (src != RAFT_OK) {
      why = "storage failed (" + std::string(error_text(src)) +
            ") while dropping the log a snapshot replaced";
      return src < 0 ? src : RAFT_EIO;
    }
  }
  return RAFT_OK;
}

// Streams the current snapshot into snapshot_load, then reads whatever the
// callback left unread so that the CRC covers every byte.
int Node::load_snapshot(const SnapshotInfo& info, std::string& why) {
  raft_snapshot_reader reader;
  reader.storage = &storage_;
  reader.size = info.size;
  reader.expected_crc = info.crc;
  const int rc = cb_.snapshot_load(&reader, info.index, user_);
  if (rc != RAFT_OK) {
    why = "callbacks.snapshot_load failed with " + std::to_string(rc) + " for snapshot " +
          std::to_string(info.index);
    return RAFT_ECALLBACK;
  }
  chunk_buf_.resize(kDrainBytes);
  std::int64_t got;
  do {
    got = snapshot_read(&reader, chunk_buf_.data(), chunk_buf_.size());
  } while (got > 0);
  if (got < 0) {
    why = "snapshot " + std::to_string(info.index) + ": " +
          (got == RAFT_ECORRUPT ? std::string("its bytes fail their checksum or size")
                                : "reading it failed: " + std::string(error_text(int(got))));
    return static_cast<int>(got);
  }
  return RAFT_OK;
}

// ---------------------------------------------------------------- saving

void Node::maybe_start_save() {
  const Index applied = core_->applied_index();
  const Index since = std::max(core_->snapshot().index, last_save_try_);
  if (limits_.snapshot_interval == 0 || storage_error_ != RAFT_OK ||
      applied - since < limits_.snapshot_interval)
    return;
  last_save_try_ = applied;
  const int rc = storage_.snapshot_begin(storage_.ctx);
  if (rc != RAFT_OK) {
    storage_failed("snapshot_begin", rc);
    return;
  }
  writer_ = raft_snapshot_writer{};
  writer_.storage = &storage_;
  save_index_ = applied;
  saving_ = true;
  core_->set_saving(true);
  logf(RAFT_LOG_INFO, "saving snapshot at %llu", ull(save_index_));
  continue_save();
}

// One step of the user's save; on completion commits the snapshot and
// compacts the log behind it.
int Node::continue_save() {
  const int rc = cb_.snapshot_save(&writer_, save_index_, user_);
  if (rc == RAFT_SNAPSHOT_MORE && writer_.error == RAFT_OK) return RAFT_OK;
  saving_ = false;
  core_->set_saving(false);
  if (rc != RAFT_OK || writer_.error != RAFT_OK) {
    // The old snapshot stays current; the next attempt comes one interval
    // later.  A storage error behind the writer is the storage's failure.
    if (writer_.error != RAFT_OK) return storage_failed("snapshot_write", writer_.error);
    logf(RAFT_LOG_WARN, "snapshot_save at %llu gave up (%d); keeping snapshot %llu",
         ull(save_index_), rc, ull(core_->snapshot().index));
    return RAFT_OK;
  }
  SnapshotInfo info;
  info.index = save_index_;
  info.term = core_->log().term_at(save_index_);
  info.size = writer_.size;
  info.crc = writer_.crc;
  info.voters = core_->voters();
  int src = commit_snapshot(info);
  if (src != RAFT_OK) return src;
  core_->snapshot_saved(info);
  logf(RAFT_LOG_INFO, "saved snapshot at %llu (%llu bytes)", ull(info.index), ull(info.size));
  const Index upto =
      info.index > limits_.snapshot_trailing ? info.index - limits_.snapshot_trailing : 0;
  if (upto > core_->log().base_index()) {
    core_->compact(upto);
    src = storage_.compact(storage_.ctx, upto);
    if (src != RAFT_OK) return storage_failed("compact", src);
  }
  return RAFT_OK;
}

// ---------------------------------------------------------------- sending

// Attaches the chunk's bytes, read from the current snapshot, to a copy of
// the core's InstallSnapshot.
bool Node::read_chunk(const Message& m) {
  chunk_msg_ = m;
  chunk_buf_.resize(m.chunk_len);
  std::size_t got = 0;
  if (m.chunk_len > 0) {
    const int rc =
        storage_.snapshot_read(storage_.ctx, m.offset, chunk_buf_.data(), m.chunk_len, &got);
    if (rc != RAFT_OK) {
      storage_failed("snapshot_read", rc);
      return false;
    }
    if (got != m.chunk_len) {
      halt_for_good(RAFT_ECORRUPT, "snapshot " + std::to_string(m.snapshot.index) +
                                       " in storage is shorter than its meta says");
      return false;
    }
  }
  chunk_msg_.chunk = chunk_buf_.data();
  return true;
}

// ---------------------------------------------------------------- receiving

bool Node::snapshot_chunk(const SnapshotInfo& info, std::uint64_t offset, const std::uint8_t* data,
                          std::size_t len) {
  (void)info;
  if (offset == 0) {
    const int rc = storage_.snapshot_begin(storage_.ctx);
    if (rc != RAFT_OK) {
      storage_failed("snapshot_begin", rc);
      return false;
    }
    incoming_crc_ = 0;
    incoming_bytes_ = 0;
  }
  if (len > 0) {
    const int rc = storage_.snapshot_write(storage_.ctx, data, len);
    if (rc != RAFT_OK) {
      storage_failed("snapshot_write", rc);
      return false;
    }
  }
  incoming_crc_ = wire::crc32c(data, len, incoming_crc_);
  incoming_bytes_ += len;
  return true;
}

// The last chunk arrived.  The snapshot is made durable here, at once: a
// later chunk in the same turn may start another transfer, which would
// overwrite the storage's pending snapshot.  The hard state goes first (the
// loader refuses a snapshot whose term is above the stored term).  The
// storage's log is compacted later, in persist(), once the core has decided
// what of it stays (compact_after_install).
bool Node::snapshot_complete(const SnapshotInfo& info) {
  if (incoming_bytes_ != info.size || incoming_crc_ != info.crc) return false;
  if (core_->term() != persisted_term_ || core_->voted_for() != persisted_vote_) {
    int rc = storage_.save_hard_state(storage_.ctx, core_->term(), core_->voted_for());
    if (rc == RAFT_OK) rc = storage_.sync(storage_.ctx);
    if (rc != RAFT_OK) {
      storage_failed("save_hard_state", rc);
      return false;
    }
    persisted_term_ = core_->term();
    persisted_vote_ = core_->voted_for();
  }
  if (commit_snapshot(info) != RAFT_OK) return false;
  install_compact_ = info.index;
  return true;
}

// Makes the snapshot written since snapshot_begin the current one, with
// `info` as its meta; RAFT_OK or the storage's failure (the node stops).
int Node::commit_snapshot(const SnapshotInfo& info) {
  meta_buf_.clear();
  wire::encode_snapshot_meta(info, meta_buf_);
  const int rc =
      storage_.snapshot_commit(storage_.ctx, info.index, meta_buf_.data(), meta_buf_.size());
  return rc == RAFT_OK ? rc : storage_failed("snapshot_commit", rc);
}

// In persist(), before the turn's own log writes.  The stale suffix the core
// marked (a log that conflicts with the snapshot, or an unwritten
// truncation) is removed and synced *before* compaction deletes anything: a
// crash in between must not leave a log that starts right after the
// snapshot with entries that do not follow it -- the loader would take them
// for the snapshot's successors (Log Matching broken).  While the entry at
// the snapshot's index survives, the loader detects the conflict itself.
int Node::compact_after_install() {
  const Index index = install_compact_;
  install_compact_ = 0;
  const Index dirty = core_->log().dirty_from();
  if (dirty != 0 && dirty <= persisted_last_) {
    int rc = storage_.truncate(storage_.ctx, dirty);
    if (rc != RAFT_OK) return storage_failed("truncate", rc);
    rc = storage_.sync(storage_.ctx);
    if (rc != RAFT_OK) return storage_failed("sync", rc);
    persisted_last_ = dirty - 1;
  }
  const int rc = storage_.compact(storage_.ctx, index);
  if (rc != RAFT_OK) return storage_failed("compact", rc);
  persisted_last_ = std::max(persisted_last_, index);
  return RAFT_OK;
}

void Node::snapshot_installed(const SnapshotInfo& info, bool kept_suffix) {
  logf(RAFT_LOG_INFO, "installed the leader's snapshot at %llu (%llu bytes; log %s)",
       ull(info.index), ull(info.size), kept_suffix ? "suffix kept" : "replaced");
  install_ = info;
  install_to_load_ = true;
}

int Node::load_installed() {
  if (!install_to_load_) return RAFT_OK;
  install_to_load_ = false;
  std::string why;
  const int rc = load_snapshot(install_, why);
  if (rc != RAFT_OK) return halt_for_good(rc, why);
  return RAFT_OK;
}

}  // namespace raft::node
