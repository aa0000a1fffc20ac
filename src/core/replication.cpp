// Log replication: proposals, AppendEntries on both sides, the commit rule.
#include <algorithm>

#include "core/core.hpp"

namespace raft::core {

namespace {
unsigned long long ull(std::uint64_t v) { return static_cast<unsigned long long>(v); }

// Rejections in a row showing a follower's log below its match before the
// leader believes it lost its storage (see on_append_response).
constexpr std::uint32_t kLossRejections = 3;
}  // namespace

// ---------------------------------------------------------------- leader

bool Core::propose(std::uint64_t id, const std::uint8_t* data, std::size_t len) {
  if (role_ != Role::kLeader) {
    if (config_.track_transitions) fx_.transition(id, Transition::kAbandonedNotLeader);
    return false;
  }
  if (config_.track_transitions) {
    // Registered before appending: a lone voter commits inside append_local,
    // and the commit must find the proposal to report it.
    pending_.push_back(Pending{log_.last_index() + 1, term_, id, false});
    fx_.transition(id, Transition::kQueued);
  }
  append_local(EntryType::kCommand, id, data, len);
  return true;
}

void Core::propose(const std::uint8_t* base, const Proposal* items, std::size_t n) {
  if (role_ != Role::kLeader || config_.track_transitions) {
    for (std::size_t j = 0; j < n; ++j) propose(items[j].id, base + items[j].offset, items[j].len);
    return;
  }
  log_.append(term_, base, items, n);
  if (progress_.empty()) maybe_commit();
}

void Core::append_local(EntryType type, std::uint64_t id, const std::uint8_t* data,
                        std::size_t len) {
  log_.append(term_, type, id, data, len);
  // A lone voter commits by itself.
  if (progress_.empty()) maybe_commit();
}

void Core::flush() {
  if (role_ != Role::kLeader) return;
  // Fill each follower's window: several batches per turn when pipelining.
  // A follower that got nothing but is behind on the commit index hears it
  // now rather than at the next heartbeat, so it applies without delay.
  for (auto& p : progress_) {
    bool sent = false;
    while (send_append(p, false)) sent = true;
    if (!sent && p.mode != Progress::Mode::kSnapshot && p.commit_sent < commit_ &&
        p.match > p.commit_sent)
      send_append(p, true);
  }
}

void Core::broadcast_heartbeat() {
  for (auto& p : progress_) {
    // A heartbeat also re-probes a follower whose last probe went unanswered.
    if (p.mode == Progress::Mode::kProbe) p.probe_sent = false;
    if (p.mode == Progress::Mode::kSnapshot) {
      send_snapshot(p, true);
    } else {
      send_append(p, true);
    }
  }
}

// Sends entries from p.next when the flow-control window allows; with
// allow_empty, sends an entry-less AppendEntries (a heartbeat) otherwise.
// Returns true if it sent entries.
// A heartbeat names prev = next - 1, so a follower that missed a batch
// rejects it and the leader falls back to probing: loss is repaired without
// a separate retransmission timer.
bool Core::send_append(Progress& p, bool allow_empty) {
  if (p.mode != Progress::Mode::kSnapshot && p.next <= log_.base_index()) {
    // The entry before p.next was compacted away: its term is unknown, so
    // no AppendEntries can be checked against it.  Send the snapshot.
    logf(LogLevel::kInfo, "term %llu: %llu needs index %llu, compacted; sending snapshot %llu",
         ull(term_), ull(p.id), ull(p.next), ull(snapshot_.index));
    p.become_snapshot(snapshot_.index);
  }
  if (p.mode == Progress::Mode::kSnapshot) return send_snapshot(p, false);
  const bool window_open =
      p.mode == Progress::Mode::kProbe ? !p.probe_sent : p.inflight.size() < config_.max_inflight;
  const bool has_entries = p.next <= log_.last_index();
  const bool with_entries = window_open && has_entries;
  if (!with_entries && !allow_empty) return false;

  Message& m = start_message(MsgType::kAppendEntries, p.id);
  m.prev_log_index = p.next - 1;
  m.prev_log_term = log_.term_at(m.prev_log_index);
  m.commit = commit_;
  p.commit_sent = commit_;
  if (!with_entries) {
    send(m);
    return false;
  }
  // A batch from the same index of the same log is the same batch: the
  // driver may hold it encoded already (followers at one position).
  std::size_t count = 0;
  const BuiltBatch* built = built_batch(p.next);
  m.from = config_.id;
  m.term = term_;
  if (built != nullptr && fx_.send_again(m, built->count, log_.at(p.next).data)) {
    count = built->count;
  } else {
    std::size_t payload = 0;
    count = log_.batch_extent(p.next, config_.max_batch_bytes, &payload);
    if (built == nullptr) remember_batch(p.next, count);
    if (!fx_.send_from_log(m, log_, count, payload)) {
      log_.collect(p.next, count, m.entries);
      send(m);
    }
  }
  const Index last = m.prev_log_index + count;
  if (p.mode == Progress::Mode::kReplicate) {
    p.inflight.push_back(last);
    p.next = last + 1;  // optimistic: pipeline the next batch
  } else {
    p.probe_sent = true;
  }
  return true;
}

const Core::BuiltBatch* Core::built_batch(Index first) {
  if (built_generation_ != log_.generation()) {
    built_batches_.clear();
    built_generation_ = log_.generation();
    return nullptr;
  }
  const std::size_t n = built_batches_.size();
  const std::size_t stop = n > built_batches_window() ? n - built_batches_window() : 0;
  for (std::size_t k = n; k > stop; --k) {
    if (built_batches_[k - 1].first == first) return &built_batches_[k - 1];
  }
  return nullptr;
}

void Core::remember_batch(Index first, std::size_t count) {
  // Only the newest window is ever looked up; an idle leader catching a
  // follower up builds batches for a long time without its log changing.
  const std::size_t window = built_batches_window();
  if (built_batches_.size() >= 2 * window) {
    built_batches_.erase(built_batches_.begin(),
                         built_batches_.begin() + static_cast<std::ptrdiff_t>(window));
  }
  built_batches_.push_back(BuiltBatch{first, count});
}

void Core::on_append_response(const Message& m) {
  if (role_ != Role::kLeader) return;
  Progress* p = progress_of(m.from);
  if (p == nullptr) return;
  p->recent_active = true;

  if (p->mode == Progress::Mode::kSnapshot) {
    // Only an acknowledgement that lets appends resume ends a transfer
    // early (it was sent before the transfer began, or crossed it).
    if (m.success && m.match_index > p->match && m.match_index >= log_.base_index() &&
        m.match_index <= log_.last_index()) {
      p->become_replicate(m.match_index);
      maybe_commit();
    }
    return;
  }

  if (m.success) {
    p->loss_rejections = 0;
    if (m.match_index > log_.last_index()) {
      logf(LogLevel::kWarn, "term %llu: %llu acknowledged %llu beyond our log end %llu; ignored",
           ull(term_), ull(m.from), ull(m.match_index), ull(log_.last_index()));
      return;
    }
    // Responses may arrive late, duplicated or out of order: the match
    // index only moves forward (little_raft B12).
    if (m.match_index <= p->match && !mutant(kMutantStaleAppendResp)) return;
    p->match = m.match_index;
    p->next = std::max(p->next, p->match + 1);
    p->acknowledge(p->match);
    if (p->mode == Progress::Mode::kProbe) {
      p->mode = Progress::Mode::kReplicate;
      p->next = p->match + 1;
      p->inflight.clear();
    }
    maybe_commit();
    return;
  }

  // A rejection of a position at or below what is already known to match
  // is a leftover from an earlier exchange (a heartbeat that crossed a
  // batch, say) -- unless rejections keep saying that the follower's log now
  // ends below what it acknowledged, with no acknowledgement in between:
  // then it lost its storage (a wiped replica restarted), and ignoring it
  // would ignore that follower until the next election.  Three in a row rule
  // out the crossings; a false alarm would cost a resend, never safety (the
  // commit index does not move back).
  if (m.reject_index <= p->match) {
    const bool shows_loss =
        m.hint_term == 0 && m.hint_index <= p->match && m.reject_index + 1 == p->next;
    if (!shows_loss || ++p->loss_rejections < kLossRejections) return;
    logf(LogLevel::kWarn,
         "term %llu: %llu's log ends at %llu, below the %llu it acknowledged (storage lost?); "
         "replicating to it again from there",
         ull(term_), ull(m.from), ull(m.hint_index - 1), ull(p->match));
    p->match = m.hint_index - 1;
    p->loss_rejections = 0;
    p->become_probe(m.hint_index);
    send_append(*p, false);
    return;
  }
  Index next;
  if (m.hint_term == 0) {
    next = m.hint_index;  // the follower's log ends before the probe
  } else {
    // Skip the follower's whole conflicting term at once; if we hold entries
    // of that term, resume just after our last one.
    Index i = std::min(m.reject_index, log_.last_index());
    while (i > log_.base_index() && log_.term_at(i) > m.hint_term) --i;
    next = log_.term_at(i) == m.hint_term ? i + 1 : m.hint_index;
  }
  // Move back, never forward, and never past what we hold.
  next = std::clamp<Index>(next, p->match + 1, std::min(m.reject_index, log_.last_index() + 1));
  p->become_probe(next);
  send_append(*p, false);
}

// Raft 5.4.2 (Figure 8): only an entry of the leader's own term is committed
// by counting replicas; earlier entries commit with it.
void Core::maybe_commit() {
  std::vector<Index>& matches = match_scratch_;
  matches.clear();
  matches.push_back(log_.last_index());
  for (const auto& p : progress_) matches.push_back(p.match);
  std::nth_element(matches.begin(), matches.begin() + (quorum() - 1), matches.end(),
                   std::greater<Index>());
  const Index candidate = matches[quorum() - 1];
  if (candidate <= commit_) return;
  if (log_.term_at(candidate) != term_ && !mutant(kMutantCommitOldTerm)) return;
  set_commit(candidate);
}

void Core::set_commit(Index index) {
  commit_ = index;
  resolve_displaced();
  for (auto& pending : pending_) {
    if (pending.index > commit_) break;
    if (!pending.committed) {
      pending.committed = true;
      fx_.transition(pending.id, Transition::kCommitted);
    }
  }
}

// A displaced proposal's fate is known once its index commits: the entry
// there is the proposal itself if it has the same term (Log Matching: index
// and term identify an entry), and otherwise proves it can never commit.
void Core::resolve_displaced() {
  while (!displaced_.empty() && displaced_.front().index <= commit_) {
    Pending d = displaced_.front();
    displaced_.pop_front();
    if (log_.term_at(d.index) != d.term) {
      fx_.transition(d.id, Transition::kAbandonedConflict);
      continue;
    }
    // It survived on other replicas and a later leader committed it: track it
    // again so that it reports COMMITTED now and APPLIED when applied.
    auto at = std::lower_bound(pending_.begin(), pending_.end(), d.index,
                               [](const Pending& p, Index i) { return p.index < i; });
    pending_.insert(at, d);
  }
}

void Core::applied(Index index) {
  applied_ = index;
  while (!pending_.empty() && pending_.front().index <= applied_) {
    const Pending done = pending_.front();
    pending_.pop_front();
    fx_.transition(done.id, Transition::kApplied);
  }
}

// ---------------------------------------------------------------- follower

void Core::reject_append(const Message& m) {
  Message& r = start_message(MsgType::kAppendEntriesResponse, m.from);
  r.success = false;
  r.reject_index = m.prev_log_index;
  r.hint_index = log_.last_index() + 1;
  send(r);
}

void Core::on_append_entries(const Message& m) {
  // Here m.term == term_.
  if (role_ == Role::kLeader) {
    logf(LogLevel::kError, "term %llu: AppendEntries from %llu in our own term; ignored",
         ull(term_), ull(m.from));
    return;
  }
  if (role_ != Role::kFollower || leader_ != m.from) become_follower(term_, m.from);
  last_leader_contact_ = now_;
  reset_election_timer();

  // Entries at or below our log's base are in our snapshot, which holds
  // only committed entries: they match the leader's.  Skip them.
  std::size_t skip = 0;
  if (m.prev_log_index < log_.base_index()) {
    skip = static_cast<std::size_t>(
        std::min<Index>(log_.base_index() - m.prev_log_index, m.entries.size()));
  }
  Message& r = start_message(MsgType::kAppendEntriesResponse, m.from);
  if (m.prev_log_index > log_.last_index()) {
    r.reject_index = m.prev_log_index;
    r.hint_index = log_.last_index() + 1;
    send(r);
    return;
  }
  if (m.prev_log_index >= log_.base_index() && log_.term_at(m.prev_log_index) != m.prev_log_term) {
    // Report the conflicting term and where it starts in our log, so the
    // leader can skip it in one round trip.  Entries up to the commit index
    // match every leader's, so the search stops there.
    const Term conflict = log_.term_at(m.prev_log_index);
    const Index floor = std::max(commit_, log_.base_index());
    Index first = m.prev_log_index;
    while (first > floor + 1 && log_.term_at(first - 1) == conflict) --first;
    r.reject_index = m.prev_log_index;
    r.hint_index = first;
    r.hint_term = conflict;
    send(r);
    return;
  }

  // Append what is new; drop our suffix only from the first real conflict.
  // Entries we already hold with the same term are the same entries (Log
  // Matching), so a late or duplicated request never truncates.
  Index index = m.prev_log_index + skip;
  for (std::size_t k = skip; k < m.entries.size(); ++k) {
    ++index;
    if (index <= log_.last_index()) {
      if (log_.term_at(index) == m.entries[k].term) continue;
      if (index <= commit_) {
        logf(LogLevel::kError,
             "term %llu: leader %llu conflicts with committed entry %llu; ignored", ull(term_),
             ull(m.from), ull(index));
        return;
      }
      truncate_from(index);
    }
    // From the first entry we lack, the rest is appended as it is.
    log_.append(m.entries.data() + k, m.entries.size() - k);
    break;
  }
  // Acknowledge exactly what this request verified, never our whole log:
  // a suffix beyond it may be stale (little_raft B8, B9).
  const Index verified = m.prev_log_index + m.entries.size();
  // A late, shorter request must not move the commit index backwards.
  const Index commit = std::min(m.commit, verified);
  if (commit > commit_) set_commit(commit);
  Message& ok = start_message(MsgType::kAppendEntriesResponse, m.from);
  ok.success = true;
  ok.match_index = verified;
  send(ok);
}

void Core::truncate_from(Index index) {
  logf(LogLevel::kInfo, "term %llu: dropping entries %llu..%llu that conflict with the leader",
       ull(term_), ull(index), ull(log_.last_index()));
  log_.truncate_from(index);
  displace_pending_from(index);
}

// Our own proposals in a dropped range are not lost yet: other replicas may
// hold them and a later leader may still commit them (in clusters of five
// or more).  They are decided when their index commits.
void Core::displace_pending_from(Index from) {
  std::deque<Pending> dropped;
  while (!pending_.empty() && pending_.back().index >= from) {
    dropped.push_front(pending_.back());
    pending_.pop_back();
  }
  for (const Pending& d : dropped) {
    auto at = std::lower_bound(displaced_.begin(), displaced_.end(), d.index,
                               [](const Pending& p, Index i) { return p.index < i; });
    displaced_.insert(at, d);
  }
}

}  // namespace raft::core
