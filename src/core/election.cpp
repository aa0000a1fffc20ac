// Elections: pre-vote, RequestVote and counting votes.
#include <algorithm>

#include "core/core.hpp"

namespace raft::core {

void Core::campaign() {
  if (config_.pre_vote) {
    become_pre_candidate();
    if (votes_granted_.size() >= quorum()) {
      become_candidate();
    } else {
      request_votes(true);
      return;
    }
  } else {
    become_candidate();
  }
  if (votes_granted_.size() >= quorum()) {
    become_leader();
  } else {
    request_votes(false);
  }
}

void Core::request_votes(bool pre_vote) {
  for (NodeId peer : config_.peers) {
    Message& m = start_message(MsgType::kRequestVote, peer);
    // A pre-vote asks "would you vote for me in the next term?" without
    // changing anybody's term, so a node that cannot win cannot disrupt.
    m.term = pre_vote ? term_ + 1 : term_;
    m.pre_vote = pre_vote;
    m.last_log_index = log_.last_index();
    m.last_log_term = log_.last_term();
    send(m);
  }
}

// Raft 5.4.1: the later last term wins; on equal terms the longer log.
bool Core::log_is_up_to_date(Index last_index, Term last_term) const {
  if (last_term != log_.last_term()) return last_term > log_.last_term();
  return last_index >= log_.last_index();
}

void Core::on_request_vote(const Message& m) {
  // Here m.term == term_, or m is a pre-vote for a later term.
  bool grant;
  if (m.pre_vote) {
    // A pre-vote is granted only to a future term, with an up-to-date log,
    // and only if this replica also believes the leader is gone.
    const bool term_ok = m.term > term_ || (voted_for_ == 0 && leader_ == 0);
    grant = term_ok && !heard_from_leader_recently() &&
            log_is_up_to_date(m.last_log_index, m.last_log_term);
  } else {
    const bool can_vote = voted_for_ == 0 || voted_for_ == m.from;
    grant =
        can_vote && role_ != Role::kLeader && log_is_up_to_date(m.last_log_index, m.last_log_term);
    if (grant) {
      // The vote is recorded before the response leaves: the driver persists
      // state changes of a turn before it sends that turn's messages.
      voted_for_ = m.from;
      reset_election_timer();
    }
  }
  Message& r = start_message(MsgType::kRequestVoteResponse, m.from);
  r.term = (m.pre_vote && grant) ? m.term : term_;
  r.pre_vote = m.pre_vote;
  r.granted = grant;
  send(r);
}

void Core::on_vote_response(const Message& m) {
  const bool expecting = m.pre_vote ? role_ == Role::kPreCandidate : role_ == Role::kCandidate;
  if (!expecting) return;
  // A pre-vote grant names the term the candidate asked for; anything else
  // is a leftover from an earlier round.
  if (m.pre_vote && m.granted && m.term != term_ + 1) return;
  // Duplicates count once: votes are sets of voters.
  auto counted = [&](const std::vector<NodeId>& v) {
    return std::find(v.begin(), v.end(), m.from) != v.end();
  };
  if (counted(votes_granted_) || counted(votes_rejected_)) return;
  (m.granted ? votes_granted_ : votes_rejected_).push_back(m.from);

  if (votes_granted_.size() >= quorum()) {
    if (m.pre_vote) {
      become_candidate();
      if (votes_granted_.size() >= quorum()) {
        become_leader();
      } else {
        request_votes(false);
      }
    } else {
      become_leader();
    }
  } else if (votes_rejected_.size() >= quorum()) {
    // This campaign cannot win; wait for a leader or the next timeout.
    become_follower(term_, 0);
  }
}

}  // namespace raft::core
