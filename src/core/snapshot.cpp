// Snapshots in the core: compaction after the driver saved one, sending a
// snapshot to a follower that needs compacted entries, and installing a
// leader's snapshot.  The bytes never pass through the core: the driver
// stores incoming chunks and reads outgoing ones from storage; the core
// decides what is sent and acknowledged, and what the log becomes.
#include <algorithm>

#include "core/core.hpp"

namespace raft::core {

namespace {
unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }

// Snapshot chunks in flight per follower.  Chunks are large (a MiB by
// default); a few keep the link busy without queueing much memory.
constexpr std::size_t kSnapshotWindow = 4;
}  // namespace

// ---------------------------------------------------------------- local

void Core::snapshot_saved(const SnapshotInfo& info) {
  if (info.index <= snapshot_.index) return;
  snapshot_ = info;
  // A follower receiving an older snapshot starts again with this one: the
  // storage keeps only the current snapshot, so the old bytes are gone.
  for (auto& p : progress_) {
    if (p.mode == Progress::Mode::kSnapshot) p.become_snapshot(snapshot_.index);
  }
}

void Core::compact(Index index) {
  index = std::min({index, snapshot_.index, applied_});
  if (index <= log_.base_index()) return;
  log_.compact(index);
}

// ---------------------------------------------------------------- leader

// Sends chunks of the current snapshot while the window allows.  A
// transfer that made no progress for two heartbeats in a row is presumed to
// have lost something and goes back to the last confirmed byte (go-back-N);
// the resent chunk also serves as the heartbeat.  Two, not one, so that a
// link that needs a little over a heartbeat per chunk is not flooded with
// resends; max_snapshot_chunk_bytes should fit in a heartbeat's worth of
// bandwidth all the same.
bool Core::send_snapshot(Progress& p, bool heartbeat) {
  if (heartbeat) {
    p.snap_stalled = p.snap_acked == p.snap_acked_at_hb ? p.snap_stalled + 1 : 0;
    p.snap_acked_at_hb = p.snap_acked;
    if (p.snap_stalled >= 2) p.rewind_snapshot(p.snap_acked);
  }
  const std::size_t window = std::min<std::size_t>(kSnapshotWindow, config_.max_inflight);
  if (p.snap_all_sent || p.inflight.size() >= window) return false;
  const std::uint64_t left = snapshot_.size - p.snap_next;
  const std::uint64_t len = std::min<std::uint64_t>(left, config_.snapshot_chunk_bytes);
  Message& m = start_message(MsgType::kInstallSnapshot, p.id);
  m.snapshot = snapshot_;
  m.commit = commit_;
  m.offset = p.snap_next;
  m.chunk_len = static_cast<std::size_t>(len);
  p.snap_next += len;
  p.snap_all_sent = p.snap_next == snapshot_.size;
  p.inflight.push_back(p.snap_next);
  send(m);
  return true;
}

void Core::on_install_snapshot_response(const Message& m) {
  if (role_ != Role::kLeader) return;
  Progress* p = progress_of(m.from);
  if (p == nullptr) return;
  p->recent_active = true;
  if (p->mode != Progress::Mode::kSnapshot || m.snapshot.index != p->snap_index) return;
  if (m.success) {
    if (m.match_index > log_.last_index() || m.match_index < p->snap_index) {
      logf(LogLevel::kWarn, "term %llu: %llu installed snapshot %llu at %llu; ignored", ull(term_),
           ull(m.from), ull(m.snapshot.index), ull(m.match_index));
      return;
    }
    // Resume appends right after the snapshot, streaming at once: the
    // follower's position is known exactly (no probe round).
    logf(LogLevel::kInfo, "term %llu: %llu installed snapshot %llu", ull(term_), ull(m.from),
         ull(m.match_index));
    p->become_replicate(std::max(p->match, m.match_index));
    maybe_commit();
    return;
  }
  if (m.offset > snapshot_.size) return;
  if (m.rewind) {
    p->rewind_snapshot(m.offset);
    send_snapshot(*p, false);
    return;
  }
  if (m.offset > p->snap_acked) {
    p->snap_acked = m.offset;
    p->acknowledge(m.offset);
  }
}

// ---------------------------------------------------------------- follower

void Core::on_install_snapshot(const Message& m) {
  // Here m.term == term_.
  if (role_ == Role::kLeader) {
    logf(LogLevel::kError, "term %llu: InstallSnapshot from %llu in our own term; ignored",
         ull(term_), ull(m.from));
    return;
  }
  if (role_ != Role::kFollower || leader_ != m.from) become_follower(term_, m.from);
  last_leader_contact_ = now_;
  reset_election_timer();

  const SnapshotInfo& s = m.snapshot;
  Message& r = start_message(MsgType::kInstallSnapshotResponse, m.from);
  r.snapshot.index = s.index;
  if (s.index <= commit_) {
    // We hold all of it already (committed entries match every leader's):
    // a duplicate, a delayed chunk, or a transfer overtaken by appends.
    if (incoming_.index == s.index) incoming_ = Incoming{};
    r.success = true;
    r.match_index = s.index;
    send(r);
    return;
  }
  if (!config_.can_install_snapshots) {
    logf(LogLevel::kError,
         "term %llu: leader %llu sent a snapshot but this replica cannot "
         "store or load one (no snapshot callbacks or storage functions)",
         ull(term_), ull(m.from));
    return;
  }
  if (s.voters != voters_) {
    logf(LogLevel::kError,
         "term %llu: leader %llu's snapshot %llu has another configuration; "
         "ignored",
         ull(term_), ull(m.from), ull(s.index));
    return;
  }
  if (saving_) {
    // Our own save holds the storage's pending snapshot; the leader's
    // heartbeat retry brings this chunk again.
    r.offset = 0;
    send(r);
    return;
  }
  const bool same = incoming_.index == s.index && incoming_.snap_term == s.term &&
                    incoming_.from == m.from && incoming_.term == term_ &&
                    incoming_.size == s.size && incoming_.crc == s.crc;
  if (!same) {
    if (m.offset != 0) {
      r.offset = 0;
      r.rewind = true;
      send(r);
      return;
    }
    incoming_ = Incoming{m.from, term_, s.index, s.term, s.size, s.crc, 0};
  }
  if (m.offset != incoming_.received) {
    // Ahead of what we have: something was lost, resend from our end.
    // Behind it: a duplicate; just say where we are.
    r.offset = incoming_.received;
    r.rewind = m.offset > incoming_.received;
    send(r);
    return;
  }
  if (!fx_.snapshot_chunk(s, m.offset, m.chunk, m.chunk_len)) {
    incoming_ = Incoming{};
    return;
  }
  incoming_.received += m.chunk_len;
  if (incoming_.received < s.size) {
    r.offset = incoming_.received;
    send(r);
    return;
  }
  incoming_ = Incoming{};
  if (!fx_.snapshot_complete(s)) {
    logf(LogLevel::kWarn, "term %llu: snapshot %llu from %llu failed its checksum; restarting",
         ull(term_), ull(s.index), ull(m.from));
    r.offset = 0;
    r.rewind = true;
    send(r);
    return;
  }
  install_snapshot(s);
  Message& ok = start_message(MsgType::kInstallSnapshotResponse, m.from);
  ok.snapshot.index = s.index;
  ok.success = true;
  ok.match_index = s.index;
  send(ok);
}

// Here s.index > commit_ >= applied_: the snapshot moves both forward.
void Core::install_snapshot(const SnapshotInfo& s) {
  const bool matches = log_.has(s.index) && log_.term_at(s.index) == s.term;
  if (matches) {
    // Log Matching: our entries up to s.index are the snapshot's, so they
    // are committed; our proposals among them are decided while the log
    // still holds their terms.  Entries after s.index stay.
    set_commit(s.index);
    applied(s.index);
    log_.compact(s.index);
  } else {
    logf(LogLevel::kInfo, "term %llu: snapshot %llu replaces our log (last %llu)", ull(term_),
         ull(s.index), ull(log_.last_index()));
    displace_pending_from(s.index + 1);
    // What was at or below s.index in our log may or may not be in the
    // snapshot: nothing tells which.
    for (const Pending& p : pending_) fx_.transition(p.id, Transition::kUnknown);
    pending_.clear();
    while (!displaced_.empty() && displaced_.front().index <= s.index) {
      fx_.transition(displaced_.front().id, Transition::kUnknown);
      displaced_.pop_front();
    }
    log_.reset(s.index, s.term);
    commit_ = s.index;
    applied_ = s.index;
  }
  snapshot_ = s;
  fx_.snapshot_installed(s, matches);
}

}  // namespace raft::core
