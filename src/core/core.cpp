#include "core/core.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace raft::core {

Core::Core(const Config& config, Effects& effects, std::uint64_t now_ms)
    : config_(config), fx_(effects), rng_(config.seed), now_(now_ms) {
  progress_.resize(config_.peers.size());
  for (std::size_t i = 0; i < progress_.size(); ++i) progress_[i].id = config_.peers[i];
  voters_ = config_.peers;
  voters_.push_back(config_.id);
  std::sort(voters_.begin(), voters_.end());
  arm_first_election();
}

void Core::restore(Term term, NodeId vote, const SnapshotInfo& snapshot,
                   const std::vector<EntryView>& entries) {
  term_ = term;
  voted_for_ = vote;
  if (snapshot.index != 0) {
    // The state machine already holds the snapshot: it counts as applied.
    snapshot_ = snapshot;
    log_.reset(snapshot.index, snapshot.term);
    commit_ = applied_ = snapshot.index;
  }
  for (const EntryView& e : entries) log_.append(e);
  log_.mark_persisted();
  // The commit index is not stored: the leader's next message tells it
  // again, and until then nothing here is applied twice or too early.
}

void Core::arm_first_election() {
  // A lone voter has nobody to disrupt: it campaigns at once.  Others wait a
  // random timeout first, so replicas booted together do not all campaign
  // at once (little_raft bug B15).
  if (config_.peers.empty()) {
    election_deadline_ = now_;
  } else {
    reset_election_timer();
  }
}

bool Core::mutant(Mutant m) const {
#ifdef RAFT_MUTANTS
  return (config_.mutants & m) != 0;
#else
  (void)m;
  return false;
#endif
}

Progress* Core::progress_of(NodeId id) {
  for (auto& p : progress_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

void Core::logf(LogLevel level, const char* fmt, ...) {
  if (!fx_.log_enabled(level)) return;
  char text[256];
  std::va_list args;
  va_start(args, fmt);
  std::vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  fx_.log(level, text);
}

Message& Core::start_message(MsgType type, NodeId to) {
  // Keep the entries vector's capacity: no allocation per message.
  std::vector<EntryView> entries = std::move(out_.entries);
  entries.clear();
  out_ = Message{};
  out_.entries = std::move(entries);
  out_.type = type;
  out_.to = to;
  return out_;
}

void Core::send(Message& m) {
  m.from = config_.id;
  m.term = m.term ? m.term : term_;
  fx_.send(m);
}

// ---------------------------------------------------------------- timers

void Core::reset_election_timer() {
  election_deadline_ = now_ + rng_.between(config_.election_min_ms, config_.election_max_ms);
}

bool Core::heard_from_leader_recently() const {
  if (role_ == Role::kLeader) return true;
  return leader_ != 0 && now_ < last_leader_contact_ + config_.election_min_ms;
}

std::uint64_t Core::next_deadline() const {
  if (role_ != Role::kLeader) return election_deadline_;
  std::uint64_t d = heartbeat_deadline_;
  if (config_.check_quorum) d = std::min(d, quorum_check_deadline_);
  return d;
}

void Core::set_time(std::uint64_t now_ms) {
  if (!started_) {
    // The driver's clock may start anywhere: timers count from the first call.
    started_ = true;
    now_ = now_ms;
    arm_first_election();
  }
  now_ = std::max(now_, now_ms);
}

void Core::tick(std::uint64_t now_ms) {
  set_time(now_ms);
  if (role_ == Role::kLeader) {
    if (config_.check_quorum && now_ >= quorum_check_deadline_) {
      check_quorum();
      if (role_ != Role::kLeader) return;
    }
    if (now_ >= heartbeat_deadline_) {
      broadcast_heartbeat();
      heartbeat_deadline_ = now_ + config_.heartbeat_ms;
    }
    return;
  }
  if (now_ >= election_deadline_) campaign();
}

// A leader that cannot hear a majority may be on the minority side of a
// partition; stepping down lets clients find the real leader and stops it
// from serving stale reads.
void Core::check_quorum() {
  std::size_t active = 1;  // itself
  for (auto& p : progress_) {
    if (p.recent_active) ++active;
    p.recent_active = false;
  }
  quorum_check_deadline_ = now_ + config_.election_min_ms;
  if (active < quorum()) {
    logf(LogLevel::kWarn, "term %llu: heard from %zu of %zu voters; stepping down",
         static_cast<unsigned long long>(term_), active, config_.peers.size() + 1);
    become_follower(term_, 0);
  }
}

// ---------------------------------------------------------------- roles

void Core::become_follower(Term term, NodeId leader, bool reset_timer) {
  // The vote is forgotten only when the term changes: clearing it within a
  // term would let this replica vote twice in that term (little_raft B3).
  if (term > term_ || mutant(kMutantForgetVote)) {
    if (term > term_) term_ = term;
    voted_for_ = 0;
  }
  role_ = Role::kFollower;
  leader_ = leader;
  if (leader != 0) last_leader_contact_ = now_;
  progress_.clear();
  progress_.resize(config_.peers.size());
  for (std::size_t i = 0; i < progress_.size(); ++i) progress_[i].id = config_.peers[i];
  if (reset_timer) reset_election_timer();
}

void Core::become_pre_candidate() {
  role_ = Role::kPreCandidate;
  leader_ = 0;
  votes_granted_.assign(1, config_.id);
  votes_rejected_.clear();
  reset_election_timer();
  logf(LogLevel::kDebug, "term %llu: pre-vote for term %llu",
       static_cast<unsigned long long>(term_), static_cast<unsigned long long>(term_) + 1);
}

void Core::become_candidate() {
  role_ = Role::kCandidate;
  ++term_;
  voted_for_ = config_.id;
  leader_ = 0;
  votes_granted_.assign(1, config_.id);
  votes_rejected_.clear();
  ++elections_started_;
  reset_election_timer();
  logf(LogLevel::kInfo, "term %llu: campaigning", static_cast<unsigned long long>(term_));
}

void Core::become_leader() {
  role_ = Role::kLeader;
  leader_ = config_.id;
  for (auto& p : progress_) p.reset(log_.last_index());
  heartbeat_deadline_ = now_;  // announce leadership at once
  quorum_check_deadline_ = now_ + config_.election_min_ms;
  logf(LogLevel::kInfo, "term %llu: elected leader", static_cast<unsigned long long>(term_));
  // Entries from earlier terms can only be committed through an entry of the
  // leader's own term (Raft 5.4.2); the no-op provides one without waiting
  // for a client.  It is internal and never reaches apply().
  if (!mutant(kMutantSkipNoop)) append_local(EntryType::kNoop, 0, nullptr, 0);
  broadcast_heartbeat();
  heartbeat_deadline_ = now_ + config_.heartbeat_ms;
}

// ---------------------------------------------------------------- inputs

void Core::step(const Message& m) {
  // No honest cluster gets near 2^62 terms; a larger one is hostile or
  // corrupt, and adopting it would let the next campaign overflow the term.
  if (m.term > kMaxTerm) {
    logf(LogLevel::kWarn, "dropped a message from %llu with impossible term %llu",
         static_cast<unsigned long long>(m.from), static_cast<unsigned long long>(m.term));
    return;
  }
  const bool is_vote_request = m.type == MsgType::kRequestVote;
  const bool is_pre_vote_msg =
      m.pre_vote && (is_vote_request || m.type == MsgType::kRequestVoteResponse);

  if (m.term > term_) {
    if (is_vote_request && !m.pre_vote && config_.check_quorum && heard_from_leader_recently()) {
      // Leader stickiness: a replica that hears a live leader ignores a
      // campaign, so a node that was partitioned away cannot depose it.
      logf(LogLevel::kDebug, "term %llu: ignoring campaign of %llu (leader is alive)",
           static_cast<unsigned long long>(term_), static_cast<unsigned long long>(m.from));
      return;
    }
    // A pre-vote request does not change our term; a granted pre-vote
    // response carries the term the candidate would use, not the voter's.
    const bool keeps_term = is_pre_vote_msg && (is_vote_request || m.granted);
    if (!keeps_term) {
      // Only a leader's message (or a granted vote, in on_request_vote)
      // restarts the election timer (Raft 5.2).  Learning a higher term from
      // a campaign we may deny must not: a node with a stale log that keeps
      // campaigning would otherwise hold back the nodes that could win.  A
      // leader's own election deadline is stale, so it gets a fresh one.
      const bool from_leader =
          m.type == MsgType::kAppendEntries || m.type == MsgType::kInstallSnapshot;
      become_follower(m.term, from_leader ? m.from : 0, from_leader || role_ == Role::kLeader);
    }
  } else if (m.term < term_) {
    // A stale sender learns the current term from the answer; stale
    // responses are dropped.  Nothing from an old term changes our state.
    if (m.type == MsgType::kAppendEntries) {
      reject_append(m);
    } else if (m.type == MsgType::kInstallSnapshot) {
      Message& r = start_message(MsgType::kInstallSnapshotResponse, m.from);
      r.snapshot.index = m.snapshot.index;
      send(r);
    } else if (is_vote_request) {
      Message& r = start_message(MsgType::kRequestVoteResponse, m.from);
      r.pre_vote = m.pre_vote;
      r.granted = false;
      send(r);
    } else if (m.type == MsgType::kRequestVoteResponse && mutant(kMutantCountStaleVotes)) {
      on_vote_response(m);
    } else if (m.type == MsgType::kAppendEntriesResponse && mutant(kMutantStaleAppendResp)) {
      on_append_response(m);
    }
    return;
  }

  switch (m.type) {
    case MsgType::kRequestVote:
      on_request_vote(m);
      break;
    case MsgType::kRequestVoteResponse:
      on_vote_response(m);
      break;
    case MsgType::kAppendEntries:
      on_append_entries(m);
      break;
    case MsgType::kAppendEntriesResponse:
      on_append_response(m);
      break;
    case MsgType::kInstallSnapshot:
      on_install_snapshot(m);
      break;
    case MsgType::kInstallSnapshotResponse:
      on_install_snapshot_response(m);
      break;
  }
}

}  // namespace raft::core
