// A test bench for one consensus core: it records what the core sends and
// reports, and builds the messages a test feeds in.  Tests talk to the core
// directly, exactly as the driver does.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/core.hpp"

namespace raft::test {

// A stored copy of a message (the core's entry views are borrowed).
struct Sent {
  Message m;
  std::vector<std::string> payloads;  // owns the bytes behind m.entries
};

class Bench : public core::Effects {
 public:
  explicit Bench(NodeId id, std::vector<NodeId> peers, bool pre_vote = false,
                 bool check_quorum = false) {
    config.id = id;
    config.peers = std::move(peers);
    config.pre_vote = pre_vote;
    config.check_quorum = check_quorum;
    config.seed = 42 + id;
  }

  core::Core& make() {
    core = std::make_unique<core::Core>(config, *this, 0);
    core->tick(0);
    return *core;
  }

  // Effects
  void send(const Message& m) override {
    Sent s;
    s.m = m;
    s.payloads.reserve(m.entries.size());
    for (auto& e : s.m.entries) {
      s.payloads.emplace_back(reinterpret_cast<const char*>(e.data), e.len);
      e.data = reinterpret_cast<const std::uint8_t*>(s.payloads.back().data());
    }
    sent.push_back(std::move(s));
  }
  bool send_again(const Message& m, std::size_t count, const std::uint8_t* first_data) override {
    again.push_back(Again{m.to, m.prev_log_index, m.commit, count, first_data});
    return again_answer;
  }
  void transition(std::uint64_t id, core::Transition state) override {
    transitions.emplace_back(id, state);
  }
  bool snapshot_chunk(const SnapshotInfo& info, std::uint64_t offset, const std::uint8_t* data,
                      std::size_t len) override {
    if (offset == 0) received.clear();
    EXPECT_EQ(offset, received.size()) << "chunks must arrive in order";
    received.append(reinterpret_cast<const char*>(data), len);
    chunk_infos.push_back(info.index);
    return chunk_ok;
  }
  bool snapshot_complete(const SnapshotInfo& info) override {
    return received.size() == info.size && complete_ok;
  }
  void snapshot_installed(const SnapshotInfo& info, bool kept_suffix) override {
    installed.emplace_back(info.index, kept_suffix);
  }
  bool log_enabled(core::LogLevel) const override { return true; }
  void log(core::LogLevel, const char* text) override { logs.emplace_back(text); }

  // Messages sent since the last call, of one type (all when type is 0).
  std::vector<Message> take(MsgType type) {
    std::vector<Message> out;
    std::vector<Sent> rest;
    for (auto& s : sent) {
      if (s.m.type == type) {
        out.push_back(s.m);
        kept.push_back(std::move(s));  // keep payloads alive
      } else {
        rest.push_back(std::move(s));
      }
    }
    sent = std::move(rest);
    return out;
  }

  // Fires the election timer and answers the campaign with grants from
  // `voters`, so the core becomes leader of the next term.
  void elect(const std::vector<NodeId>& voters) {
    core->tick(now += 1000);
    for (const Message& rv : take(MsgType::kRequestVote)) {
      if (std::find(voters.begin(), voters.end(), rv.to) == voters.end()) continue;
      core->step(vote_response(rv.to, rv.term, true, rv.pre_vote));
    }
    if (core->role() == core::Role::kCandidate) {
      for (const Message& rv : take(MsgType::kRequestVote)) {
        if (std::find(voters.begin(), voters.end(), rv.to) == voters.end()) continue;
        core->step(vote_response(rv.to, rv.term, true, false));
      }
    }
  }

  Message vote_request(NodeId from, Term term, Index last_index, Term last_term,
                       bool pre_vote = false) const {
    Message m;
    m.type = MsgType::kRequestVote;
    m.from = from;
    m.to = config.id;
    m.term = term;
    m.last_log_index = last_index;
    m.last_log_term = last_term;
    m.pre_vote = pre_vote;
    return m;
  }
  Message vote_response(NodeId from, Term term, bool granted, bool pre_vote = false) const {
    Message m;
    m.type = MsgType::kRequestVoteResponse;
    m.from = from;
    m.to = config.id;
    m.term = term;
    m.granted = granted;
    m.pre_vote = pre_vote;
    return m;
  }
  // AppendEntries whose entries have the given terms (ids = index).
  Message append(NodeId from, Term term, Index prev, Term prev_term, std::vector<Term> terms,
                 Index commit = 0) {
    Message m;
    m.type = MsgType::kAppendEntries;
    m.from = from;
    m.to = config.id;
    m.term = term;
    m.prev_log_index = prev;
    m.prev_log_term = prev_term;
    m.commit = commit;
    Index i = prev;
    for (Term t : terms) {
      EntryView e;
      e.term = t;
      e.type = EntryType::kCommand;
      e.id = ++i;
      m.entries.push_back(e);
    }
    return m;
  }
  Message append_ok(NodeId from, Term term, Index match) const {
    Message m;
    m.type = MsgType::kAppendEntriesResponse;
    m.from = from;
    m.to = config.id;
    m.term = term;
    m.success = true;
    m.match_index = match;
    return m;
  }

  // Terms of the core's log, index 1 first.
  std::vector<Term> log_terms() const {
    std::vector<Term> t;
    for (Index i = 1; i <= core->log().last_index(); ++i) t.push_back(core->log().term_at(i));
    return t;
  }

  core::Config config;
  std::unique_ptr<core::Core> core;
  std::vector<Sent> sent, kept;
  // Effects::send_again: what the core offered, and the driver's answer
  // (false: it holds no frame, the core builds and sends the batch).
  struct Again {
    NodeId to;
    Index prev_log_index;
    Index commit;
    std::size_t count;
    const std::uint8_t* first_data;
  };
  std::vector<Again> again;
  bool again_answer = false;
  std::vector<std::pair<std::uint64_t, core::Transition>> transitions;
  std::vector<std::string> logs;
  std::uint64_t now = 0;
  // Snapshot transfer as the driver would see it.
  std::string received;                           // bytes of the snapshot being received
  std::vector<Index> chunk_infos;                 // snapshot index of every chunk stored
  std::vector<std::pair<Index, bool>> installed;  // (index, kept_suffix)
  bool chunk_ok = true;
  bool complete_ok = true;
};

}  // namespace raft::test
