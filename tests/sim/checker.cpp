#include "checker.hpp"

#include <cinttypes>
#include <cstdarg>
#include <cstring>

#include "payload.hpp"
#include "sim_storage.hpp"
#include "state_machine.hpp"
#include "wire/crc32c.hpp"
#include "wire/snapshot_meta.hpp"
#include "world.hpp"

namespace sim {

namespace {

using raft::EntryType;
using raft::MsgType;

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[512];
  std::va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

std::uint64_t hash_bytes(std::uint64_t h, const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001B3ULL;
  return h;
}

const char* role_name(int role) {
  switch (role) {
    case RAFT_FOLLOWER:
      return "follower";
    case RAFT_PRE_CANDIDATE:
      return "pre-candidate";
    case RAFT_CANDIDATE:
      return "candidate";
    case RAFT_LEADER:
      return "leader";
  }
  return "?";
}

const char* state_name(int s) {
  switch (s) {
    case RAFT_TRANSITION_QUEUED:
      return "QUEUED";
    case RAFT_TRANSITION_COMMITTED:
      return "COMMITTED";
    case RAFT_TRANSITION_APPLIED:
      return "APPLIED";
    case RAFT_TRANSITION_ABANDONED_NOT_LEADER:
      return "ABANDONED_NOT_LEADER";
    case RAFT_TRANSITION_ABANDONED_CONFLICT:
      return "ABANDONED_CONFLICT";
    case RAFT_TRANSITION_UNKNOWN:
      return "UNKNOWN";
  }
  return "?";
}

std::uint64_t vote_key(std::uint64_t term, int voter) {
  return (term << 3) | static_cast<std::uint64_t>(voter);
}

}  // namespace

Checker::Checker(World& world)
    : world_(world),
      n_(world.size()),
      shadows_(world.size()),
      staged_(static_cast<std::size_t>(world.size())),
      known_match_(static_cast<std::size_t>(world.size() * world.size())),
      unread_acks_(static_cast<std::size_t>(world.size())),
      max_sent_term_(static_cast<std::size_t>(world.size()), 0) {}

void Checker::on_crash(int i) {
  // Its transitions in flight are lost with the process: their clients
  // never hear back ("info"); the ids may still commit, which is allowed.
  Shadow& sh = shadows_[i];
  sh.queued.clear();
  sh.committed_unapplied.clear();
  sh.apply_calls.clear();
  sh.committed_reports.clear();
  sh.applied_reports.clear();
  sh.restored = 0;
  unread_acks_[i].clear();
}

void Checker::on_restart(int i) {
  const raft::core::Core& core = world_.core(i);
  Shadow& sh = shadows_[i];
  const std::uint64_t me = static_cast<std::uint64_t>(i) + 1;
  // Everything the node said before the crash was durable first [2b, 8]:
  // its term cannot go back below a term it used, nor its vote change.
  if (core.term() < max_sent_term_[i]) {
    fail(format("durability: node %" PRIu64 " restarted at term %" PRIu64
                " but had sent messages of term %" PRIu64,
                me, core.term(), max_sent_term_[i]));
  }
  auto it = votes_.find(vote_key(core.term(), i));
  if (it != votes_.end() && core.voted_for() != it->second) {
    fail(format("vote durability: node %" PRIu64 " voted for %" PRIu64 " in term %" PRIu64
                " but restarted with vote %" PRIu64,
                me, it->second, core.term(), core.voted_for()));
  }
  if (core.voted_for() != 0) register_vote(i, core.term(), core.voted_for(), "restored vote");
  sh.role = RAFT_FOLLOWER;
  sh.term = core.term();
  sh.voted_for = core.voted_for();
  sh.leader = 0;
  // The state machine starts empty, or as the snapshot on disk left it:
  // everything after that is applied again.
  const SimStorage& disk = world_.storage(i);
  if (sh.restored != disk.snapshot_index()) {
    fail(format("snapshot restore: node %" PRIu64 " restarted with snapshot %" PRIu64
                " on its disk but loaded %" PRIu64,
                me, disk.snapshot_index(), sh.restored));
  }
  if (core.applied_index() != sh.restored || core.commit_index() < sh.restored) {
    fail(format("snapshot restore: node %" PRIu64 " restarted from snapshot %" PRIu64
                " with applied index %" PRIu64 " and commit index %" PRIu64,
                me, sh.restored, core.applied_index(), core.commit_index()));
  }
  sh.commit = core.commit_index();
  sh.applied = core.applied_index();
  sh.last_apply_index = sh.applied;
  sh.snapshot = 0;
  sh.changed_at = world_.now();
  // The restored log must agree with every entry ever seen (log matching);
  // what a snapshot covers is the committed prefix.
  sh.log.clear();
  const raft::core::Log& log = core.log();
  const std::uint64_t base = log.base_index();
  if (!fill_shadow(i, base)) return;
  if (base > 0 && sh.log[base - 1].term != log.base_term()) {
    fail(format("snapshot restore: node %" PRIu64 " restarted with its log based on %" PRIu64
                " term %" PRIu64 " but the entry committed there has term %" PRIu64,
                me, base, log.base_term(), sh.log[base - 1].term));
  }
  for (std::uint64_t j = base + 1; j <= log.last_index(); ++j) {
    const EntryKey k = key_of(log.at(j));
    const std::uint64_t prev_term = j > 1 ? sh.log[j - 2].term : 0;
    auto f = facts_.find(LogPos{j, k.term});
    if (f == facts_.end() || f->second.digest != k.digest || f->second.prev_term != prev_term) {
      fail(format("durability: node %" PRIu64 " restarted with an entry at %" PRIu64
                  " term %" PRIu64 " that no node ever held",
                  me, j, k.term));
    }
    sh.log.push_back(k);
  }
  staged_[i].clear();
  check_claims();
}

void Checker::on_deliver(int from, int to, const MsgInfo& m) {
  if (m.type != MsgType::kAppendEntriesResponse) return;
  if (m.success) {
    unread_acks_[to].push_back(Unread{from, m.term, m.index});
  } else if (m.index_term == 0 && m.hint > 0) {
    // A rejection saying the follower's log ends at hint - 1 lets the leader
    // replicate from there again even below a match it was told (libraft
    // takes repeated ones as lost storage; a false alarm costs a resend, not
    // safety).  Applied at once, since the leader acts on it in this poll,
    // and again in delivery order after the poll, so that an older
    // acknowledgement read before it in the same poll does not undo it.
    Known& k = known_match_[to * n_ + from];
    if (m.term == k.term && m.hint - 1 < k.match) k.match = m.hint - 1;
    unread_acks_[to].push_back(Unread{from, m.term, m.hint - 1, true});
  }
}

void Checker::fail(const std::string& what) {
  if (failure_.empty()) {
    failure_ = what;
    world_.trace().note(world_.now(), Rec::kNote, 0, "VIOLATION");
  }
}

std::uint64_t Checker::quorum() const { return static_cast<std::uint64_t>(n_ / 2 + 1); }

int Checker::last_state(std::uint64_t id) const {
  auto it = proposals_.find(id);
  return it == proposals_.end() ? 0 : it->second.last;
}

std::string Checker::acked_once(std::uint64_t* acked) const {
  std::map<std::uint64_t, std::uint64_t> times;  // id -> occurrences in G
  for (const EntryKey& k : committed_)
    if (k.type == raft::EntryType::kCommand) ++times[k.id];
  std::map<std::uint64_t, int> acks;  // ordered: the same message on every library
  for (const auto& p : proposals_)
    if (p.second.last == RAFT_TRANSITION_COMMITTED || p.second.last == RAFT_TRANSITION_APPLIED)
      acks[p.first] = p.second.last;
  *acked = acks.size();
  for (const auto& a : acks) {
    const auto it = times.find(a.first);
    const std::uint64_t n = it == times.end() ? 0 : it->second;
    if (n != 1)
      return "acknowledged id " + std::to_string(a.first) + " is in the committed log " +
             std::to_string(n) + " times";
  }
  return "";
}

Checker::EntryKey Checker::key_of(const raft::EntryView& e) const {
  return key_of(e.term, e.id, e.type, e.data, e.len);
}

Checker::EntryKey Checker::key_of(std::uint64_t term, std::uint64_t id, raft::EntryType type,
                                  const void* data, std::size_t len) const {
  EntryKey k;
  k.term = term;
  k.id = id;
  k.len = static_cast<std::uint32_t>(len);
  k.type = type;
  std::uint64_t h = 0xCBF29CE484222325ULL ^ (term * 0x9E3779B97F4A7C15ULL);
  h ^= id + (static_cast<std::uint64_t>(type) << 56) + (static_cast<std::uint64_t>(len) << 20);
  k.digest = hash_bytes(h * 0x100000001B3ULL, static_cast<const std::uint8_t*>(data), len);
  return k;
}

bool Checker::same_shape(const EntryKey& k, const raft::EntryView& e) const {
  return k.term == e.term && k.id == e.id && k.len == e.len && k.type == e.type;
}

void Checker::register_leader(std::uint64_t term, std::uint64_t id, const char* how) {
  auto ins = leaders_.emplace(term, id);
  if (!ins.second && ins.first->second != id) {
    fail(format("election safety: term %" PRIu64 " has two leaders, %" PRIu64 " and %" PRIu64
                " (%s)",
                term, ins.first->second, id, how));
  }
}

void Checker::register_vote(int voter, std::uint64_t term, std::uint64_t candidate,
                            const char* how) {
  auto ins = votes_.emplace(vote_key(term, voter), candidate);
  if (!ins.second && ins.first->second != candidate) {
    fail(format("one vote per term: node %d voted for %" PRIu64 " and for %" PRIu64
                " in term %" PRIu64 " (%s)",
                voter + 1, ins.first->second, candidate, term, how));
  }
}

// ---------------------------------------------------------------- messages

void Checker::on_send(int from, const raft::Message& m) {
  const raft::core::Core& core = world_.core(from);
  const std::uint64_t me = static_cast<std::uint64_t>(from) + 1;
  if (m.from != me) {
    fail(format("message hygiene: node %" PRIu64 " sent a frame claiming to be from %" PRIu64, me,
                m.from));
    return;
  }
  if (m.to == 0 || m.to > static_cast<std::uint64_t>(n_) || m.to == me) {
    fail(format("message hygiene: node %" PRIu64 " sent a frame to %" PRIu64, me, m.to));
    return;
  }
  const bool pre =
      m.pre_vote && (m.type == MsgType::kRequestVote || m.type == MsgType::kRequestVoteResponse);
  // A pre-vote request names the term the sender would campaign in; a
  // granted pre-vote echoes the requester's term.  Everything else carries
  // at most the sender's current term.
  if (!pre && m.term > core.term()) {
    fail(format("message hygiene: node %" PRIu64 " at term %" PRIu64 " sent %s with term %" PRIu64,
                me, core.term(), m.type == MsgType::kAppendEntries ? "AppendEntries" : "a message",
                m.term));
  }
  if (pre && m.type == MsgType::kRequestVote && m.term > core.term() + 1) {
    fail(format("message hygiene: node %" PRIu64 " at term %" PRIu64
                " asked a pre-vote for term %" PRIu64,
                me, core.term(), m.term));
  }
  if (pre && m.type == MsgType::kRequestVoteResponse && !m.granted && m.term > core.term()) {
    fail(format("message hygiene: node %" PRIu64 " denied a pre-vote with a future term", me));
  }
  if (m.term > max_term_) max_term_ = m.term;
  // Nothing leaves before what it depends on is durable [2b, 8].  (If the
  // node moved to a later term in this same turn, the message is stale and
  // the disk rightly holds the newer state.)
  const SimStorage& disk = world_.storage(from);
  if (!pre) {
    if (m.term > max_sent_term_[from]) max_sent_term_[from] = m.term;
    if (m.term > disk.durable_term()) {
      fail(format("durability: node %" PRIu64 " sent term %" PRIu64
                  " while its disk holds term %" PRIu64,
                  me, m.term, disk.durable_term()));
    }
  }
  if (core.term() == m.term) {
    if (m.type == MsgType::kRequestVoteResponse && m.granted && !m.pre_vote &&
        (disk.durable_term() != m.term || disk.durable_vote() != m.to)) {
      fail(format("vote durability: node %" PRIu64 " granted %" PRIu64 " in term %" PRIu64
                  " before its disk recorded the vote",
                  me, m.to, m.term));
    }
    // (An index a durable snapshot covers is held for good.)
    if ((m.type == MsgType::kAppendEntriesResponse ||
         m.type == MsgType::kInstallSnapshotResponse) &&
        m.success && !disk.durable_covered(m.match_index) &&
        (disk.durable_last() < m.match_index ||
         disk.durable_term_at(m.match_index) != core.log().term_at(m.match_index))) {
      fail(format("durability: node %" PRIu64 " acknowledged index %" PRIu64
                  " before its disk held it (disk has %" PRIu64 " entries, snapshot %" PRIu64 ")",
                  me, m.match_index, disk.durable_last(), disk.snapshot_index()));
    }
  }

  switch (m.type) {
    case MsgType::kAppendEntries: {
      // Only the leader of a term sends AppendEntries in it.
      register_leader(m.term, me, "sent AppendEntries");
      const Known& k = known_match_[from * n_ + static_cast<int>(m.to - 1)];
      if (k.term == m.term && m.prev_log_index < k.match) {
        fail(format("replication progress: leader %" PRIu64 " of term %" PRIu64 " was told %" PRIu64
                    " matches up to %" PRIu64 " but sent it AppendEntries from %" PRIu64,
                    me, m.term, m.to, k.match, m.prev_log_index));
      }
      if (m.prev_log_term > m.term) {
        fail(format("message hygiene: AppendEntries t%" PRIu64 " from %" PRIu64
                    " has prev_log_term %" PRIu64,
                    m.term, me, m.prev_log_term));
      }
      for (const auto& e : m.entries) {
        if (e.term > m.term) {
          fail(format("message hygiene: AppendEntries t%" PRIu64 " from %" PRIu64
                      " carries an entry of term %" PRIu64,
                      m.term, me, e.term));
          break;
        }
      }
      break;
    }
    case MsgType::kRequestVote:
      // A candidate votes for itself in the term it campaigns in.
      if (!m.pre_vote) register_vote(from, m.term, me, "campaigned");
      break;
    case MsgType::kRequestVoteResponse:
      if (!m.pre_vote && m.granted) {
        register_vote(from, m.term, m.to, "granted a vote");
        // The vote must be recorded before the grant leaves [2b].
        if (core.term() == m.term && core.voted_for() != m.to) {
          fail(format("vote durability: node %" PRIu64 " granted %" PRIu64 " in term %" PRIu64
                      " but records a vote for %" PRIu64,
                      me, m.to, m.term, core.voted_for()));
        }
      }
      break;
    case MsgType::kAppendEntriesResponse:
    case MsgType::kInstallSnapshotResponse:
      break;
    case MsgType::kInstallSnapshot: {
      register_leader(m.term, me, "sent InstallSnapshot");
      if (m.snapshot.term > m.term) {
        fail(format("message hygiene: InstallSnapshot t%" PRIu64 " from %" PRIu64
                    " carries a snapshot of term %" PRIu64,
                    m.term, me, m.snapshot.term));
      }
      bool voters_ok = m.snapshot.voters.size() == static_cast<std::size_t>(n_);
      for (std::size_t v = 0; voters_ok && v < m.snapshot.voters.size(); ++v)
        voters_ok = m.snapshot.voters[v] == v + 1;
      if (!voters_ok) {
        fail(format("snapshot: InstallSnapshot from %" PRIu64 " at %" PRIu64
                    " does not carry the %d voters of the cluster (%zu)",
                    me, m.snapshot.index, n_, m.snapshot.voters.size()));
      }
      claim(Claim{from, m.snapshot.index, m.snapshot.term, false, 0, 0, "sent"});
      // The chunk is a piece of the sender's current snapshot.
      if (disk.snapshot_index() == m.snapshot.index) {
        const auto& bytes = disk.snapshot_data();
        if (m.snapshot.size != bytes.size() || m.offset + m.chunk_len > bytes.size() ||
            (m.chunk_len > 0 && std::memcmp(bytes.data() + m.offset, m.chunk, m.chunk_len) != 0)) {
          fail(format("snapshot: InstallSnapshot from %" PRIu64 " at %" PRIu64 " offset %" PRIu64
                      " (%zu bytes of %" PRIu64 ") differs from the snapshot it stored (%zu bytes)",
                      me, m.snapshot.index, m.offset, m.chunk_len, m.snapshot.size, bytes.size()));
        }
      }
      break;
    }
  }
}

// ---------------------------------------------------------------- callbacks

void Checker::on_propose(int node, std::uint64_t id) {
  auto ins = proposals_.emplace(id, Proposal{});
  if (!ins.second) {
    fail(format("harness: transition id %" PRIu64 " proposed twice", id));
    return;
  }
  ins.first->second.node = node;
}

void Checker::on_apply(int node, std::uint64_t id, const void* data, std::size_t len) {
  const raft::core::Core& core = world_.core(node);
  const std::uint64_t index = core.applied_index() + 1;
  if (index > core.commit_index() || index > core.log().last_index()) {
    fail(format("apply: node %d applied index %" PRIu64 " beyond its commit index %" PRIu64,
                node + 1, index, core.commit_index()));
    return;
  }
  if (index <= core.log().base_index()) {
    fail(format("apply: node %d applied index %" PRIu64 ", which its log compacted (base %" PRIu64
                ")",
                node + 1, index, core.log().base_index()));
    return;
  }
  const raft::EntryView e = core.log().at(index);
  if (e.type != EntryType::kCommand || e.id != id || e.len != len ||
      (len > 0 && std::memcmp(e.data, data, len) != 0)) {
    fail(format("apply: node %d applied id %" PRIu64 " but log index %" PRIu64 " holds id %" PRIu64,
                node + 1, id, index, e.id));
    return;
  }
  payload_for(id, expected_);
  if (expected_.size() != len || (len > 0 && std::memcmp(expected_.data(), data, len) != 0)) {
    fail(format("apply: node %d applied id %" PRIu64 " with a corrupted payload", node + 1, id));
    return;
  }
  shadows_[node].apply_calls.push_back(ApplyCall{index, id, false});
  TraceRec r;
  r.time_us = world_.now();
  r.kind = Rec::kApply;
  r.a = static_cast<std::uint32_t>(node + 1);
  r.x = index;
  r.y = id;
  world_.trace().add(r);
}

void Checker::on_transition(int node, std::uint64_t id, raft_transition_state s) {
  TraceRec r;
  r.time_us = world_.now();
  r.kind = Rec::kTransition;
  r.a = static_cast<std::uint32_t>(node + 1);
  r.x = id;
  std::snprintf(r.note, sizeof r.note, "%s", state_name(s));
  world_.trace().add(r);

  auto it = proposals_.find(id);
  if (it == proposals_.end()) {
    fail(format("transition contract: node %d reported %s for unknown id %" PRIu64, node + 1,
                state_name(s), id));
    return;
  }
  Proposal& p = it->second;
  if (p.node != node) {
    fail(format("transition contract: id %" PRIu64 " proposed on %d but reported on %d", id,
                p.node + 1, node + 1));
    return;
  }
  bool order_ok = false;
  switch (s) {
    case RAFT_TRANSITION_QUEUED:
    case RAFT_TRANSITION_ABANDONED_NOT_LEADER:
      order_ok = p.last == 0;
      break;
    case RAFT_TRANSITION_COMMITTED:
    case RAFT_TRANSITION_ABANDONED_CONFLICT:
    case RAFT_TRANSITION_UNKNOWN:
      order_ok = p.last == RAFT_TRANSITION_QUEUED;
      break;
    case RAFT_TRANSITION_APPLIED:
      order_ok = p.last == RAFT_TRANSITION_COMMITTED;
      break;
  }
  if (!order_ok) {
    fail(format("transition contract: id %" PRIu64 " on node %d went %s -> %s", id, node + 1,
                p.last ? state_name(p.last) : "(nothing)", state_name(s)));
    return;
  }
  p.last = s;
  Shadow& sh = shadows_[node];
  switch (s) {
    case RAFT_TRANSITION_QUEUED: {
      // This turn's proposals were just appended: find ours near the end.
      const raft::core::Log& log = world_.core(node).log();
      std::uint64_t j = log.last_index();
      const std::uint64_t stop =
          std::max<std::uint64_t>(j > 100000 ? j - 100000 : 0, log.base_index());
      while (j > stop && log.at(j).id != id) --j;
      if (j == stop || log.at(j).type != EntryType::kCommand) {
        fail(format("transition contract: node %d reported id %" PRIu64
                    " QUEUED but its log does not hold it",
                    node + 1, id));
        return;
      }
      p.index = j;
      sh.queued.emplace(j, id);
      break;
    }
    case RAFT_TRANSITION_COMMITTED:
      erase_pending(sh.queued, p.index, id);
      sh.committed_unapplied.emplace(p.index, id);
      sh.committed_reports.push_back(id);
      break;
    case RAFT_TRANSITION_APPLIED:
      erase_pending(sh.committed_unapplied, p.index, id);
      sh.applied_reports.push_back(id);
      break;
    case RAFT_TRANSITION_UNKNOWN:
      // The node's log was replaced by a snapshot before it could tell:
      // the id may or may not be committed (both are fine).
      erase_pending(sh.queued, p.index, id);
      break;
    case RAFT_TRANSITION_ABANDONED_CONFLICT:
      erase_pending(sh.queued, p.index, id);
      [[fallthrough]];
    case RAFT_TRANSITION_ABANDONED_NOT_LEADER:
      abandoned_.insert(id);
      if (committed_ids_.count(id) != 0) {
        fail(format("transition contract: id %" PRIu64
                    " reported %s but it is committed at %" PRIu64,
                    id, state_name(s), committed_ids_[id]));
      }
      break;
  }
}

// ---------------------------------------------------------------- after a poll

void Checker::after_poll(int i) {
  for (const Unread& u : unread_acks_[i]) {
    Known& k = known_match_[i * n_ + u.from];
    if (u.term > k.term) k = Known{u.term, 0};
    if (u.term != k.term) continue;
    if (u.lowers ? u.match < k.match : u.match > k.match) k.match = u.match;
  }
  unread_acks_[i].clear();
  check_role_and_votes(i);
  check_log(i);
  check_commit(i);
  check_applies(i);
  check_reports(i);
  check_leader(i);
  check_snapshot_status(i);
  check_claims();
  staged_[i].clear();
}

void Checker::check_role_and_votes(int i) {
  const raft::core::Core& core = world_.core(i);
  Shadow& sh = shadows_[i];
  const std::uint64_t term = core.term();
  if (term < sh.term) {
    fail(format("term monotonic: node %d went from term %" PRIu64 " to %" PRIu64, i + 1, sh.term,
                term));
    return;
  }
  if (term == sh.term && sh.voted_for != 0 && core.voted_for() != sh.voted_for) {
    fail(format("one vote per term: node %d changed its vote in term %" PRIu64 " from %" PRIu64
                " to %" PRIu64,
                i + 1, term, sh.voted_for, core.voted_for()));
  }
  if (core.voted_for() != 0) register_vote(i, term, core.voted_for(), "recorded vote");
  if (term > max_term_) max_term_ = term;

  const int role = static_cast<int>(core.role());
  const bool leadership = (role == RAFT_LEADER) != (sh.role == RAFT_LEADER);
  if (term != sh.term || leadership) sh.changed_at = world_.now();
  if (role != sh.role || term != sh.term) {
    TraceRec r;
    r.time_us = world_.now();
    r.kind = Rec::kRole;
    r.a = static_cast<std::uint32_t>(i + 1);
    r.x = term;
    std::snprintf(r.note, sizeof r.note, "%s", role_name(role));
    world_.trace().add(r);
  }
}

void Checker::check_log(int i) {
  const raft::core::Core& core = world_.core(i);
  const raft::core::Log& log = core.log();
  Shadow& sh = shadows_[i];
  // The shadow keeps the whole log from index 1: entries at or below the
  // log's base were compacted into a snapshot, so they are committed.
  const std::uint64_t base = log.base_index();
  const std::uint64_t last = log.last_index();
  std::uint64_t same = std::min<std::uint64_t>(last, sh.log.size());
  while (same > base && !same_shape(sh.log[same - 1], log.at(same))) --same;
  if (same <= base && base > 0 &&
      (sh.log.size() < base || sh.log[base - 1].term != log.base_term())) {
    // A leader's snapshot replaced the log: what survives of the shadow is
    // the part that agrees with the committed sequence.
    std::uint64_t keep =
        std::min<std::uint64_t>(std::min<std::uint64_t>(same, base), committed_.size());
    while (keep > 0 && (sh.log[keep - 1].term != committed_[keep - 1].term ||
                        sh.log[keep - 1].digest != committed_[keep - 1].digest))
      --keep;
    same = keep;
  }

  const bool was_leader_same_term =
      sh.role == RAFT_LEADER && core.role() == raft::core::Role::kLeader && sh.term == core.term();
  if (same < sh.log.size()) {
    if (was_leader_same_term) {
      fail(format("leader append-only: leader %d of term %" PRIu64 " removed entries %" PRIu64
                  "..%zu",
                  i + 1, core.term(), same + 1, sh.log.size()));
    }
    if (same < sh.commit) {
      fail(format("committed truncation: node %d dropped entries from %" PRIu64
                  " but its commit index is %" PRIu64,
                  i + 1, same + 1, sh.commit));
    }
  }
  sh.log.resize(same);
  if (!fill_shadow(i, base)) return;
  if (base > 0 && sh.log[base - 1].term != log.base_term()) {
    fail(format("snapshot: node %d's log is based on %" PRIu64 " term %" PRIu64
                " but the entry committed there has term %" PRIu64,
                i + 1, base, log.base_term(), sh.log[base - 1].term));
    return;
  }
  sh.log.resize(last);
  for (std::uint64_t j = std::max(same, base) + 1; j <= last; ++j) {
    const raft::EntryView e = log.at(j);
    const EntryKey k = key_of(e);
    sh.log[j - 1] = k;
    const std::uint64_t prev_term = j > 1 ? sh.log[j - 2].term : 0;
    if (k.term < prev_term) {
      fail(format("log: node %d has term %" PRIu64 " at %" PRIu64 " after term %" PRIu64, i + 1,
                  k.term, j, prev_term));
    }
    if (was_leader_same_term && k.term != core.term()) {
      fail(format("leader append-only: leader %d of term %" PRIu64 " appended a term-%" PRIu64
                  " entry at %" PRIu64,
                  i + 1, core.term(), k.term, j));
    }
    auto ins = facts_.emplace(LogPos{j, k.term}, LogFact{k.digest, prev_term});
    if (!ins.second &&
        (ins.first->second.digest != k.digest || ins.first->second.prev_term != prev_term)) {
      fail(format("log matching: node %d holds a different entry at index %" PRIu64 " term %" PRIu64
                  " (or a different predecessor term)",
                  i + 1, j, k.term));
    }
  }
}

void Checker::check_commit(int i, bool durable_only) {
  const raft::core::Core& core = world_.core(i);
  Shadow& sh = shadows_[i];
  std::uint64_t commit = core.commit_index();
  if (durable_only) {
    const SimStorage& d = world_.storage(i);
    commit = std::min(commit, std::max(d.durable_last(), d.snapshot_index()));
    commit = std::max(commit, sh.commit);
  }
  if (commit < sh.commit) {
    fail(format("commit monotonic: node %d commit index went from %" PRIu64 " to %" PRIu64, i + 1,
                sh.commit, commit));
    return;
  }
  if (commit > sh.log.size()) {
    fail(format("commit: node %d commit index %" PRIu64 " beyond its last index %zu", i + 1, commit,
                sh.log.size()));
    return;
  }
  for (std::uint64_t j = sh.commit + 1; j <= commit; ++j) {
    const EntryKey& k = sh.log[j - 1];
    if (j <= committed_.size()) {
      const EntryKey& g = committed_[j - 1];
      if (g.term != k.term || g.digest != k.digest) {
        fail(format("state machine safety: node %d committed term %" PRIu64 " id %" PRIu64
                    " at index %" PRIu64 " but term %" PRIu64 " id %" PRIu64 " was committed there",
                    i + 1, k.term, k.id, j, g.term, g.id));
        return;
      }
      continue;
    }
    committed_.push_back(k);
    Ref r = ref_.empty() ? Ref{} : ref_.back();
    if (k.type == EntryType::kCommand) {
      ++r.count;
      r.digest = StateMachine::fold(r.digest, k.id, k.len);
    }
    ref_.push_back(r);
    if (k.type == EntryType::kCommand) {
      auto ins = committed_ids_.emplace(k.id, j);
      if (!ins.second) {
        fail(format("state machine safety: id %" PRIu64 " committed twice, at %" PRIu64
                    " and %" PRIu64,
                    k.id, ins.first->second, j));
      }
      if (abandoned_.count(k.id) != 0) {
        fail(format("transition contract: id %" PRIu64
                    " was reported abandoned but committed at %" PRIu64,
                    k.id, j));
      }
    }
  }

  // The current-term commit rule [6]: a leader advances its commit index
  // only over an entry of its own term that a quorum really holds.
  if (!durable_only && commit > sh.commit && core.role() == raft::core::Role::kLeader &&
      sh.role == RAFT_LEADER && sh.term == core.term()) {
    const std::uint64_t term = core.term();
    std::uint64_t m = commit;
    while (m <= sh.log.size() && sh.log[m - 1].term != term) ++m;
    if (m > sh.log.size()) {
      fail(format("current-term commit rule: leader %d of term %" PRIu64 " committed up to %" PRIu64
                  " with no entry of its term at or after it",
                  i + 1, term, commit));
    } else {
      // Held on disk, by live and crashed nodes alike [7].
      std::uint64_t holders = 0;
      for (int k = 0; k < n_; ++k) {
        const SimStorage& d = world_.storage(k);
        if (d.durable_term_at(m) == term || d.durable_covered(m)) ++holders;
      }
      if (holders < quorum()) {
        fail(format("current-term commit rule: leader %d of term %" PRIu64 " committed %" PRIu64
                    " but only %" PRIu64 " of %d disks hold index %" PRIu64 " of its term",
                    i + 1, term, commit, holders, n_, m));
      }
    }
  }
  if (commit > 0) {
    std::uint64_t& c = committed_by_term_[core.term()];
    if (commit > c) c = commit;
  }
  sh.commit = commit;
}

void Checker::check_applies(int i) {
  const raft::core::Core& core = world_.core(i);
  Shadow& sh = shadows_[i];
  for (const ApplyCall& call : sh.apply_calls) {
    const std::uint64_t index = call.index;
    if (call.snapshot) {
      // Loading a snapshot replaces the state: it must be newer than what
      // was applied (a stale or duplicate snapshot is ignored), and apply
      // resumes right after it.
      if (index <= sh.last_apply_index) {
        fail(format("snapshot: node %d installed a snapshot at %" PRIu64
                    " after applying up to %" PRIu64 " (stale or duplicate snapshot)",
                    i + 1, index, sh.last_apply_index));
        return;
      }
      sh.last_apply_index = index;
      continue;
    }
    if (index <= sh.last_apply_index) {
      fail(format("apply: node %d applied index %" PRIu64 " after %" PRIu64, i + 1, index,
                  sh.last_apply_index));
      return;
    }
    if (index > committed_.size() || committed_[index - 1].id != call.id ||
        committed_[index - 1].type != EntryType::kCommand) {
      fail(format("state machine safety: node %d applied id %" PRIu64 " at %" PRIu64
                  " which is not the committed entry there",
                  i + 1, call.id, index));
      return;
    }
    for (std::uint64_t j = sh.last_apply_index + 1; j < index; ++j) {
      if (committed_[j - 1].type == EntryType::kCommand) {
        fail(format("apply: node %d skipped committed id %" PRIu64 " at %" PRIu64, i + 1,
                    committed_[j - 1].id, j));
        return;
      }
    }
    sh.last_apply_index = index;
  }
  sh.apply_calls.clear();
  const std::uint64_t applied = core.applied_index();
  if (applied < sh.applied || applied > core.commit_index()) {
    fail(format("apply: node %d applied index moved from %" PRIu64 " to %" PRIu64
                " (commit %" PRIu64 ")",
                i + 1, sh.applied, applied, core.commit_index()));
    return;
  }
  // Everything up to the applied index went through apply() unless no-op.
  for (std::uint64_t j = std::max(sh.applied, sh.last_apply_index) + 1; j <= applied; ++j) {
    if (committed_[j - 1].type == EntryType::kCommand) {
      fail(format("apply: node %d marked id %" PRIu64 " at %" PRIu64
                  " applied without calling apply()",
                  i + 1, committed_[j - 1].id, j));
      return;
    }
  }
  if (sh.last_apply_index < applied) sh.last_apply_index = applied;
  sh.applied = applied;
}

void Checker::erase_pending(std::multimap<std::uint64_t, std::uint64_t>& m, std::uint64_t index,
                            std::uint64_t id) {
  auto range = m.equal_range(index);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == id) {
      m.erase(it);
      return;
    }
  }
}

void Checker::check_reports(int i) {
  Shadow& sh = shadows_[i];
  const raft::core::Core& core = world_.core(i);
  for (std::uint64_t id : sh.committed_reports) {
    auto it = committed_ids_.find(id);
    if (it == committed_ids_.end() || it->second > core.commit_index()) {
      fail(format("transition contract: node %d reported id %" PRIu64
                  " COMMITTED but it is not in the committed sequence",
                  i + 1, id));
    } else if (it->second != proposals_[id].index) {
      fail(format("transition contract: node %d reported id %" PRIu64
                  " COMMITTED; it was queued at %" PRIu64 " but committed at %" PRIu64,
                  i + 1, id, proposals_[id].index, it->second));
    }
  }
  // Once the commit index covers a QUEUED transition the node knows its fate
  // (committed there, or another entry won the index) and must say so.
  if (!sh.queued.empty() && sh.queued.begin()->first <= core.commit_index()) {
    fail(format("transition contract: node %d committed up to %" PRIu64 " but id %" PRIu64
                " queued at %" PRIu64 " is neither COMMITTED nor ABANDONED",
                i + 1, core.commit_index(), sh.queued.begin()->second, sh.queued.begin()->first));
  }
  if (!sh.committed_unapplied.empty() &&
      sh.committed_unapplied.begin()->first <= core.applied_index()) {
    fail(format("transition contract: node %d applied up to %" PRIu64 " but id %" PRIu64
                " at %" PRIu64 " was not reported APPLIED",
                i + 1, core.applied_index(), sh.committed_unapplied.begin()->second,
                sh.committed_unapplied.begin()->first));
  }
  for (std::uint64_t id : sh.applied_reports) {
    auto it = committed_ids_.find(id);
    if (it == committed_ids_.end() || it->second > sh.last_apply_index) {
      fail(format("transition contract: node %d reported id %" PRIu64 " APPLIED before applying it",
                  i + 1, id));
    }
  }
  sh.committed_reports.clear();
  sh.applied_reports.clear();
}

void Checker::check_leader(int i) {
  const raft::core::Core& core = world_.core(i);
  Shadow& sh = shadows_[i];
  const std::uint64_t term = core.term();
  const std::uint64_t me = static_cast<std::uint64_t>(i) + 1;
  const bool leader = core.role() == raft::core::Role::kLeader;
  if (leader) {
    register_leader(term, me, "role");
    const bool newly = sh.role != RAFT_LEADER || sh.term != term;
    if (newly) {
      // A leader was elected by a quorum of real (not pre-) votes of its
      // term, its own included [1].
      std::uint64_t votes = 0;
      for (int v = 0; v < n_; ++v) {
        auto it = votes_.find(vote_key(term, v));
        if (it != votes_.end() && it->second == me) ++votes;
      }
      if (votes < quorum()) {
        fail(format("election: node %d became leader of term %" PRIu64 " with %" PRIu64
                    " votes granted in that term; a quorum is %" PRIu64,
                    i + 1, term, votes, quorum()));
      }
      // Leader completeness [9]: it holds every entry committed in an
      // earlier term.
      std::uint64_t g = 0;
      for (auto c = committed_by_term_.begin(); c != committed_by_term_.end() && c->first < term;
           ++c)
        g = std::max(g, c->second);
      if (g > 0 && (sh.log.size() < g || sh.log[g - 1].term != committed_[g - 1].term ||
                    sh.log[g - 1].digest != committed_[g - 1].digest)) {
        fail(format("leader completeness: node %d became leader of term %" PRIu64
                    " without entry %" PRIu64 ", committed in an earlier term",
                    i + 1, term, g));
      }
    }
  } else if (core.leader() != 0 && core.leader() != me) {
    register_leader(term, core.leader(), "a follower's leader");
  }
  sh.role = static_cast<int>(core.role());
  sh.term = term;
  sh.voted_for = core.voted_for();
  sh.leader = core.leader();
}

}  // namespace sim

namespace sim {

// ---------------------------------------------------------------- snapshots

bool Checker::fill_shadow(int i, std::uint64_t upto) {
  Shadow& sh = shadows_[i];
  while (sh.log.size() < upto) {
    const std::uint64_t j = sh.log.size() + 1;
    if (j <= committed_.size()) {
      sh.log.push_back(committed_[j - 1]);
      continue;
    }
    // Not committed as far as the checker knows: only a node that appended
    // and compacted it within one poll (a lone voter) may lack it.
    auto it = staged_[i].find(j);
    if (it == staged_[i].end()) {
      fail(format("snapshot: node %d compacted its log up to %" PRIu64 " but entry %" PRIu64
                  " was never committed (committed up to %zu)",
                  i + 1, upto, j, committed_.size()));
      return false;
    }
    const std::uint64_t prev_term = j > 1 ? sh.log[j - 2].term : 0;
    auto ins = facts_.emplace(LogPos{j, it->second.term}, LogFact{it->second.digest, prev_term});
    if (!ins.second &&
        (ins.first->second.digest != it->second.digest || ins.first->second.prev_term != prev_term))
      fail(format("log matching: node %d held a different entry at index %" PRIu64, i + 1, j));
    sh.log.push_back(it->second);
  }
  return true;
}

void Checker::on_disk_append(int node, std::uint64_t first_index, const raft_entry* entries,
                             std::size_t n) {
  for (std::size_t k = 0; k < n; ++k) {
    const raft_entry& e = entries[k];
    staged_[node][first_index + k] =
        key_of(e.term, e.id, static_cast<EntryType>(e.type), e.data, e.len);
  }
}

void Checker::on_disk_snapshot(int node, std::uint64_t index, const std::vector<std::uint8_t>& meta,
                               const std::vector<std::uint8_t>& data) {
  raft::SnapshotInfo info;
  if (!raft::wire::decode_snapshot_meta(meta.data(), meta.size(), info)) {
    fail(format("snapshot: node %d stored a snapshot at %" PRIu64 " whose meta does not decode",
                node + 1, index));
    return;
  }
  bool voters_ok = info.voters.size() == static_cast<std::size_t>(n_);
  for (std::size_t v = 0; voters_ok && v < info.voters.size(); ++v)
    voters_ok = info.voters[v] == v + 1;
  if (info.index != index || info.size != data.size() ||
      info.crc != raft::wire::crc32c(data.data(), data.size()) || !voters_ok) {
    fail(format("snapshot: node %d stored snapshot %" PRIu64 " with meta index %" PRIu64
                " size %" PRIu64 " (bytes %zu), crc %s, %zu voters (cluster %d)",
                node + 1, index, info.index, info.size, data.size(),
                info.crc == raft::wire::crc32c(data.data(), data.size()) ? "ok" : "WRONG",
                info.voters.size(), n_));
    return;
  }
  std::uint64_t at = 0, count = 0, digest = 0;
  std::string why;
  if (!StateMachine::parse(data, &at, &count, &digest, &why) || at != index) {
    fail(format("snapshot: node %d stored snapshot %" PRIu64 " whose bytes are not what a state "
                "machine saved at that index (%s, saved at %" PRIu64 ")",
                node + 1, index, why.c_str(), at));
    return;
  }
  claim(Claim{node, index, info.term, true, count, digest, "stored"});
}

void Checker::on_snapshot_save(int node, std::uint64_t index, std::uint64_t count,
                               std::uint64_t digest) {
  claim(Claim{node, index, 0, true, count, digest, "saved"});
}

void Checker::on_snapshot_load(int node, std::uint64_t index, std::uint64_t count,
                               std::uint64_t digest, bool creating) {
  claim(Claim{node, index, 0, true, count, digest, creating ? "restored" : "installed"});
  if (creating) {
    shadows_[node].restored = index;
  } else {
    shadows_[node].apply_calls.push_back(ApplyCall{index, 0, true});
  }
}

// Every snapshot, wherever it is seen, must be the state of the committed
// prefix it claims to cover: the state after installing equals the state of
// a replica that applied the same prefix.
void Checker::check_claims() {
  for (const Claim& c : claims_) {
    if (c.index == 0 || c.index > committed_.size()) {
      fail(format("snapshot: node %d %s a snapshot at %" PRIu64
                  " beyond the committed sequence (%zu entries)",
                  c.node + 1, c.what, c.index, committed_.size()));
      break;
    }
    const Ref& r = ref_[c.index - 1];
    if (c.has_state && (r.count != c.count || r.digest != c.digest)) {
      fail(format("snapshot: node %d %s a snapshot at %" PRIu64 " holding %" PRIu64
                  " commands (digest %016" PRIx64 ") but the committed prefix has %" PRIu64
                  " (digest %016" PRIx64 ")",
                  c.node + 1, c.what, c.index, c.count, c.digest, r.count, r.digest));
      break;
    }
    if (c.term != 0 && committed_[c.index - 1].term != c.term) {
      fail(format("snapshot: node %d %s a snapshot at %" PRIu64 " of term %" PRIu64
                  " but the entry committed there has term %" PRIu64,
                  c.node + 1, c.what, c.index, c.term, committed_[c.index - 1].term));
      break;
    }
  }
  claims_.clear();
}

void Checker::check_snapshot_status(int i) {
  Shadow& sh = shadows_[i];
  raft_status st;
  raft_status_init(&st);
  if (raft_node_status(world_.handle(i), &st) != RAFT_OK) {
    fail(format("harness: raft_node_status failed on node %d", i + 1));
    return;
  }
  const SimStorage& disk = world_.storage(i);
  const std::uint64_t base = world_.core(i).log().base_index();
  if (st.snapshot_index > st.commit_index) {
    fail(format("snapshot: node %d has a snapshot at %" PRIu64 " beyond its commit index %" PRIu64,
                i + 1, st.snapshot_index, st.commit_index));
  } else if (st.snapshot_index < sh.snapshot) {
    fail(format("snapshot: node %d's snapshot index went from %" PRIu64 " to %" PRIu64, i + 1,
                sh.snapshot, st.snapshot_index));
  } else if (st.snapshot_index > disk.snapshot_index()) {
    fail(format("snapshot durability: node %d reports snapshot %" PRIu64
                " but its disk holds snapshot %" PRIu64,
                i + 1, st.snapshot_index, disk.snapshot_index()));
  } else if (base > disk.snapshot_index()) {
    fail(format("snapshot durability: node %d dropped its log up to %" PRIu64
                " but its disk's snapshot covers only up to %" PRIu64,
                i + 1, base, disk.snapshot_index()));
  }
  sh.snapshot = st.snapshot_index;
}

}  // namespace sim
