#include "scenario.hpp"

#include <cctype>
#include <cinttypes>
#include <cstdarg>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "checker.hpp"
#include "mutants.hpp"
#include "payload.hpp"
#include "world.hpp"

namespace sim {

namespace {

using Tokens = std::vector<std::string>;

struct Filter {
  int type = 0;  // 0 any, else one of the kType* below
  bool heartbeat = false;
  std::int64_t term = -1;
  std::int64_t index = -1;  // last_log_index, prev_log_index or match/reject index
  int granted = -1, success = -1;
  std::size_t limit = SIZE_MAX;
  bool from_end = false;
};

enum { kReqVote = 1, kReqPreVote, kVoteResp, kPreVoteResp, kAppend, kAppendResp };

bool type_matches(int type, const MsgInfo& m) {
  using raft::MsgType;
  switch (type) {
    case 0:
      return true;
    case kReqVote:
      return m.type == MsgType::kRequestVote && !m.pre_vote;
    case kReqPreVote:
      return m.type == MsgType::kRequestVote && m.pre_vote;
    case kVoteResp:
      return m.type == MsgType::kRequestVoteResponse && !m.pre_vote;
    case kPreVoteResp:
      return m.type == MsgType::kRequestVoteResponse && m.pre_vote;
    case kAppend:
      return m.type == MsgType::kAppendEntries;
    case kAppendResp:
      return m.type == MsgType::kAppendEntriesResponse;
  }
  return false;
}

bool matches(const Filter& f, const MsgInfo& m) {
  if (!type_matches(f.type, m)) return false;
  if (f.heartbeat && m.entries != 0) return false;
  if (f.term >= 0 && m.term != static_cast<std::uint64_t>(f.term)) return false;
  if (f.index >= 0 && m.index != static_cast<std::uint64_t>(f.index)) return false;
  if (f.granted >= 0 && m.granted != (f.granted == 1)) return false;
  if (f.success >= 0 && m.success != (f.success == 1)) return false;
  return true;
}

const char* role_word(raft::core::Role r) {
  switch (r) {
    case raft::core::Role::kFollower:
      return "follower";
    case raft::core::Role::kPreCandidate:
      return "precandidate";
    case raft::core::Role::kCandidate:
      return "candidate";
    case raft::core::Role::kLeader:
      return "leader";
  }
  return "?";
}

int state_code(const std::string& s) {
  if (s == "none") return 0;
  if (s == "queued") return RAFT_TRANSITION_QUEUED;
  if (s == "committed") return RAFT_TRANSITION_COMMITTED;
  if (s == "applied") return RAFT_TRANSITION_APPLIED;
  if (s == "abandoned-not-leader") return RAFT_TRANSITION_ABANDONED_NOT_LEADER;
  if (s == "abandoned-conflict") return RAFT_TRANSITION_ABANDONED_CONFLICT;
  return -1;
}

constexpr std::uint32_t kHistory = 1024;  // sent frames kept for `replay`

class Script {
 public:
  Script(const std::string& path, FILE* trace, FILE* report)
      : path_(path), report_(report), trace_(60) {
    if (trace != nullptr) trace_.set_verbose(trace);
  }

  ScenarioResult run();

 private:
  bool error(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
  bool exec(const Tokens& t);
  bool setup(const Tokens& t);
  bool start();
  bool expect(const Tokens& t);
  bool node_arg(const std::string& s, int* i);
  bool node_list(const Tokens& t, std::size_t from, std::vector<int>* out);
  int leader_count(int* leader) const;
  bool link_arg(const std::string& s, int* a, int* b);
  bool number(const std::string& s, std::uint64_t* v);
  bool filters(const Tokens& t, std::size_t from, Filter* f, bool* drop, bool* dup,
               std::uint64_t* count);
  bool fire_timer(int i);
  void deliver(int a, int b, const Filter& f, bool drop, bool dup);
  void stabilize();
  void drop_blocked();
  void run_for(std::uint64_t ms);
  void dump(FILE* out);
  bool violated() const { return checker_ && checker_->failed(); }

  std::string path_;
  FILE* report_;
  Trace trace_;
  int line_ = 0;
  std::string err_;
  int n_ = 0;
  std::vector<NodeSettings> settings_;
  std::uint64_t seed_ = 1;
  std::uint32_t mutants_ = 0;
  std::string expect_violation_;
  std::uint64_t latency_us_ = 1000, jitter_us_ = 0;
  std::unique_ptr<World> world_;
  std::unique_ptr<Checker> checker_;
  std::vector<std::uint64_t> mark_terms_;
  std::vector<std::uint64_t> mark_deadlines_;
  Prng crash_rng_{1, "script-crash"};
  std::string xfail_;
};

bool Script::error(const char* fmt, ...) {
  char buf[400];
  std::va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  err_ = path_ + ":" + std::to_string(line_) + ": " + buf;
  return false;
}

bool Script::number(const std::string& s, std::uint64_t* v) {
  if (s.empty()) return error("expected a number");
  char* end = nullptr;
  *v = std::strtoull(s.c_str(), &end, 10);
  if (*end != '\0') return error("'%s' is not a number", s.c_str());
  return true;
}

bool Script::node_arg(const std::string& s, int* i) {
  std::uint64_t v = 0;
  if (!number(s, &v)) return false;
  if (v < 1 || v > static_cast<std::uint64_t>(n_)) return error("no node %s", s.c_str());
  *i = static_cast<int>(v) - 1;
  return true;
}

bool Script::link_arg(const std::string& s, int* a, int* b) {
  const std::size_t arrow = s.find("->");
  if (arrow == std::string::npos) return error("expected A->B, got '%s'", s.c_str());
  return node_arg(s.substr(0, arrow), a) && node_arg(s.substr(arrow + 2), b);
}

bool Script::filters(const Tokens& t, std::size_t from, Filter* f, bool* drop, bool* dup,
                     std::uint64_t* count) {
  for (std::size_t k = from; k < t.size(); ++k) {
    const std::string& w = t[k];
    const std::size_t eq = w.find('=');
    const std::string key = eq == std::string::npos ? w : w.substr(0, eq);
    const std::string val = eq == std::string::npos ? "" : w.substr(eq + 1);
    std::uint64_t v = 0;
    if (w == "drop" && drop) {
      *drop = true;
    } else if (w == "dup" && dup) {
      *dup = true;
    } else if (w == "first") {
      f->limit = 1;
    } else if (w == "last") {
      f->limit = 1;
      f->from_end = true;
    } else if (key == "type") {
      static const char* const kNames[] = {
          "", "req-vote", "req-prevote", "vote-resp", "prevote-resp", "append", "append-resp"};
      f->type = -1;
      for (int i = 1; i <= kAppendResp; ++i) {
        if (val == kNames[i]) f->type = i;
      }
      if (val == "heartbeat") {
        f->type = kAppend;
        f->heartbeat = true;
      }
      if (f->type < 0) return error("unknown message type '%s'", val.c_str());
    } else if (key == "n") {
      if (!number(val, &v)) return false;
      f->limit = v;
    } else if (key == "index") {
      if (!number(val, &v)) return false;
      f->index = static_cast<std::int64_t>(v);
    } else if (key == "term") {
      if (!number(val, &v)) return false;
      f->term = static_cast<std::int64_t>(v);
    } else if (key == "granted" || key == "success") {
      if (!number(val, &v) || v > 1) return error("%s must be 0 or 1", key.c_str());
      (key == "granted" ? f->granted : f->success) = static_cast<int>(v);
    } else if (key == "count" && count) {
      if (!number(val, count)) return false;
    } else {
      return error("unknown word '%s'", w.c_str());
    }
  }
  return true;
}

bool Script::setup(const Tokens& t) {
  // option [NODE] NAME VALUE...
  std::size_t k = 1;
  int only = -1;
  if (t.size() > 2 && std::isdigit(static_cast<unsigned char>(t[1][0]))) {
    if (!node_arg(t[1], &only)) return false;
    k = 2;
  }
  if (t.size() < k + 2) return error("option NAME VALUE");
  const std::string& name = t[k];
  const std::string& val = t[k + 1];
  std::uint64_t v = 0, v2 = 0;
  const bool is_bool = val == "on" || val == "off";
  if (name == "latency") return number(val, &latency_us_);
  if (name == "jitter") return number(val, &jitter_us_);
  if (!is_bool && !number(val, &v)) return false;
  if (name == "election" && (t.size() < k + 3 || !number(t[k + 2], &v2)))
    return error("option election MIN MAX");
  for (int i = 0; i < n_; ++i) {
    if (only >= 0 && i != only) continue;
    NodeSettings& s = settings_[i];
    if (name == "pre_vote" && is_bool) {
      s.pre_vote = val == "on";
    } else if (name == "check_quorum" && is_bool) {
      s.check_quorum = val == "on";
    } else if (name == "heartbeat") {
      s.heartbeat_ms = static_cast<std::uint32_t>(v);
    } else if (name == "election") {
      s.election_min_ms = static_cast<std::uint32_t>(v);
      s.election_max_ms = static_cast<std::uint32_t>(v2);
    } else if (name == "max_inflight") {
      s.max_inflight = static_cast<std::uint32_t>(v);
    } else if (name == "max_batch") {
      s.max_batch_bytes = static_cast<std::uint32_t>(v);
    } else if (name == "max_queue") {
      s.max_queue_bytes = v;
    } else {
      return error("unknown option '%s %s'", name.c_str(), val.c_str());
    }
  }
  return true;
}

bool Script::start() {
  if (world_) return true;
  if (n_ == 0) return error("'nodes N' must come first");
  world_ = std::make_unique<World>(seed_, settings_, mutants_, trace_);
  crash_rng_ = Prng(seed_, "script-crash");
  if (!world_->ok()) return error("%s", world_->error().c_str());
  checker_ = std::make_unique<Checker>(*world_);
  world_->attach(checker_.get());
  world_->set_manual(true);
  world_->net.replay_keep = kHistory;
  for (int i = 0; i < n_; ++i) world_->poll(i);
  return true;
}

// Jump node i's clock to the deadline it asked for, then poll it: its next
// timer (election or heartbeat) fires, and nothing else moves.
bool Script::fire_timer(int i) {
  const std::uint64_t deadline = world_->reported_deadline(i);
  const std::uint64_t now = world_->local_ms(i);
  if (deadline > now) world_->clock_jump(i, (deadline - now) * 1000);
  world_->poll(i);
  return true;
}

void Script::deliver(int a, int b, const Filter& f, bool drop, bool dup) {
  std::vector<World::Parked> all = world_->parked(a, b);
  std::vector<std::uint32_t> chosen;
  if (f.from_end) {
    for (auto it = all.rbegin(); it != all.rend() && chosen.size() < f.limit; ++it)
      if (matches(f, *it->info)) chosen.push_back(it->slot);
  } else {
    for (const auto& p : all)
      if (chosen.size() < f.limit && matches(f, *p.info)) chosen.push_back(p.slot);
  }
  for (std::uint32_t s : chosen) world_->deliver_parked(a, b, s, drop, dup);
  if (!drop && !chosen.empty()) world_->poll(b);
}

void Script::stabilize() {
  for (int round = 0; round < 10000; ++round) {
    std::vector<bool> dirty(static_cast<std::size_t>(n_), false);
    bool any = false;
    for (int a = 0; a < n_; ++a) {
      for (int b = 0; b < n_; ++b) {
        if (a == b) continue;
        for (const auto& p : world_->parked(a, b)) {
          world_->deliver_parked(a, b, p.slot, false, false);
          dirty[b] = true;
          any = true;
        }
      }
    }
    if (!any) return;
    for (int b = 0; b < n_; ++b) {
      if (dirty[b]) world_->poll(b);
    }
    if (violated()) return;
  }
}

void Script::drop_blocked() {
  for (int a = 0; a < n_; ++a)
    for (int b = 0; b < n_; ++b)
      if (a != b && world_->blocked(a, b))
        for (const auto& p : world_->parked(a, b))
          world_->deliver_parked(a, b, p.slot, true, false);
}

void Script::run_for(std::uint64_t ms) {
  NetParams net;
  net.replay_keep = kHistory;
  net.delay_min_us = latency_us_;
  net.delay_mean_us = jitter_us_;
  world_->net = net;
  world_->set_manual(false);
  world_->release_parked();
  for (int i = 0; i < n_; ++i) world_->wake(i, world_->now());
  const std::uint64_t end = world_->now() + ms * 1000;
  while (!violated() && world_->next_time() <= end) world_->step();
  world_->advance_to(end);
  world_->set_manual(true);
  world_->park_in_flight();
}

void Script::dump(FILE* out) {
  for (int i = 0; i < n_; ++i) {
    if (world_->down(i)) {
      std::fprintf(out, "  node %d: down (disk: term %" PRIu64 ", %" PRIu64 " entries)\n", i + 1,
                   world_->storage(i).durable_term(), world_->storage(i).durable_last());
      continue;
    }
    const auto& c = world_->core(i);
    std::fprintf(out,
                 "  node %d: %-12s term=%" PRIu64 " leader=%" PRIu64 " vote=%" PRIu64
                 " commit=%" PRIu64 " applied=%" PRIu64 " log=[",
                 i + 1, role_word(c.role()), c.term(), c.leader(), c.voted_for(), c.commit_index(),
                 c.applied_index());
    const std::uint64_t last = c.log().last_index();
    for (std::uint64_t j = last > 20 ? last - 19 : 1; j <= last; ++j) {
      const auto e = c.log().at(j);
      std::fprintf(out, "%s%" PRIu64 ":t%" PRIu64 "%s", j > 1 && j != last - 19 ? " " : "", j,
                   e.term, e.type == raft::EntryType::kNoop ? "n" : "");
    }
    std::fprintf(out, "]\n");
  }
}

// "1,2,3" or "all" (or nothing) -> node indexes.
bool Script::node_list(const Tokens& t, std::size_t from, std::vector<int>* out) {
  out->clear();
  if (from >= t.size() || t[from] == "all") {
    for (int k = 0; k < n_; ++k) out->push_back(k);
    return true;
  }
  for (std::size_t w = from; w < t.size(); ++w) {
    std::string num;
    for (char ch : t[w] + ",") {
      if (ch != ',') {
        num += ch;
        continue;
      }
      if (num.empty()) continue;
      int x = 0;
      if (!node_arg(num, &x)) return false;
      out->push_back(x);
      num.clear();
    }
  }
  return true;
}

int Script::leader_count(int* leader) const {
  int count = 0;
  for (int k = 0; k < n_; ++k) {
    if (!world_->down(k) && world_->core(k).role() == raft::core::Role::kLeader) {
      ++count;
      *leader = k;
    }
  }
  return count;
}

bool Script::expect(const Tokens& t) {
  if (t.size() < 2) return error("expect WHAT");
  const std::string& what = t[1];
  std::uint64_t v = 0, v2 = 0;
  int i = 0;
  std::vector<int> list;
  if (what == "leaders") {
    if (t.size() != 3 || !number(t[2], &v)) return error("expect leaders K");
    const int got = leader_count(&i);
    if (got != static_cast<int>(v)) return error("%d nodes are leaders, expected %" PRIu64, got, v);
    return true;
  }
  if (what == "leader-in") {
    if (!node_list(t, 2, &list)) return false;
    if (leader_count(&i) != 1) return error("expected exactly one leader");
    for (int k : list)
      if (k == i) return true;
    return error("the leader is node %d, not one of the listed nodes", i + 1);
  }
  if (what == "agree") {
    // One leader; every listed node in its term, following it, with the
    // same log end and commit index.
    if (!node_list(t, 2, &list)) return false;
    if (leader_count(&i) != 1) return error("expected exactly one leader");
    const auto& l = world_->core(i);
    for (int k : list) {
      if (world_->down(k)) return error("node %d is down", k + 1);
      const auto& c = world_->core(k);
      if (c.term() != l.term() || c.leader() != static_cast<std::uint64_t>(i) + 1 ||
          c.log().last_index() != l.log().last_index() ||
          c.log().last_term() != l.log().last_term() || c.commit_index() != l.commit_index())
        return error("node %d (term %" PRIu64 " leader %" PRIu64 " last %" PRIu64 " commit %" PRIu64
                     ") does not agree with leader %d (term %" PRIu64 " last %" PRIu64
                     " commit %" PRIu64 ")",
                     k + 1, c.term(), c.leader(), c.log().last_index(), c.commit_index(), i + 1,
                     l.term(), l.log().last_index(), l.commit_index());
    }
    return true;
  }
  if (what == "deadline-unchanged") {
    // The node's next timer (as it reported at its last poll) did not move.
    if (mark_deadlines_.empty()) return error("expect deadline-unchanged needs a mark first");
    if (!node_list(t, 2, &list)) return false;
    for (int k : list)
      if (world_->reported_deadline(k) != mark_deadlines_[k])
        return error("node %d's next deadline moved from %" PRIu64 " to %" PRIu64 " (local ms)",
                     k + 1, mark_deadlines_[k], world_->reported_deadline(k));
    return true;
  }
  if (what == "changed") {
    if (mark_terms_.empty()) return error("expect changed needs a mark first");
    if (!node_list(t, 2, &list)) return false;
    for (int k : list)
      if (!world_->down(k) && world_->core(k).term() == mark_terms_[k])
        return error("node %d is still in term %" PRIu64, k + 1, mark_terms_[k]);
    return true;
  }
  if (what == "no-leader") {
    for (int k = 0; k < n_; ++k)
      if (!world_->down(k) && world_->core(k).role() == raft::core::Role::kLeader)
        return error("expected no leader, node %d is leader of term %" PRIu64, k + 1,
                     world_->core(k).term());
    return true;
  }
  if (what == "unchanged") {
    // Terms unchanged since `mark`, for the listed nodes (or all).
    if (mark_terms_.empty()) return error("expect unchanged needs a mark first");
    if (!node_list(t, 2, &list)) return false;
    for (int k : list) {
      if (!world_->down(k) && world_->core(k).term() != mark_terms_[k])
        return error("node %d term changed from %" PRIu64 " to %" PRIu64 " since mark", k + 1,
                     mark_terms_[k], world_->core(k).term());
    }
    return true;
  }
  if (what == "max-term") {
    if (t.size() != 3 || !number(t[2], &v)) return error("expect max-term T");
    for (int k = 0; k < n_; ++k)
      if (!world_->down(k) && world_->core(k).term() > v)
        return error("node %d is at term %" PRIu64 " > %" PRIu64, k + 1, world_->core(k).term(), v);
    return true;
  }
  if (what == "state") {
    if (t.size() != 4 || !number(t[2], &v)) return error("expect state ID STATE");
    const int want = state_code(t[3]);
    if (want < 0) return error("unknown state '%s'", t[3].c_str());
    const int got = checker_->last_state(v);
    if (got != want)
      return error("id %" PRIu64 ": expected state %s, got %d", v, t[3].c_str(), got);
    return true;
  }
  if (what == "committed-id" || what == "not-committed-id") {
    if (t.size() != 3 || !number(t[2], &v)) return error("expect %s ID", what.c_str());
    if (checker_->is_committed(v) != (what == "committed-id"))
      return error("id %" PRIu64 " is%s committed", v, checker_->is_committed(v) ? "" : " not");
    return true;
  }
  if (what == "parked") {
    int a = 0, b = 0;
    if (t.size() < 4 || !link_arg(t[2], &a, &b)) return error("expect parked A->B ... count=K");
    Filter f;
    std::uint64_t count = UINT64_MAX;
    if (!filters(t, 3, &f, nullptr, nullptr, &count)) return false;
    if (count == UINT64_MAX) return error("expect parked needs count=K");
    std::uint64_t got = 0;
    for (const auto& p : world_->parked(a, b)) got += matches(f, *p.info) ? 1 : 0;
    if (got != count)
      return error("%d->%d: expected %" PRIu64 " matching frames, found %" PRIu64, a + 1, b + 1,
                   count, got);
    return true;
  }
  if (t.size() < 3 || !node_arg(t[2], &i)) return error("expect %s NODE ...", what.c_str());
  if (what == "down" || what == "up") {
    if (world_->down(i) != (what == "down"))
      return error("node %d is %s", i + 1, world_->down(i) ? "down" : "up");
    return true;
  }
  if (world_->down(i)) return error("node %d is down", i + 1);
  const auto& c = world_->core(i);
  if (what == "leader") {
    if (c.role() != raft::core::Role::kLeader)
      return error("expected node %d to be leader, it is %s in term %" PRIu64, i + 1,
                   role_word(c.role()), c.term());
    if (t.size() == 5 && t[3] == "term") {
      if (!number(t[4], &v)) return false;
      if (c.term() != v)
        return error("leader %d is in term %" PRIu64 ", expected %" PRIu64, i + 1, c.term(), v);
    } else if (t.size() != 3) {
      return error("expect leader N [term T]");
    }
    return true;
  }
  if (what == "role") {
    if (t.size() != 4) return error("expect role N ROLE");
    if (t[3] != role_word(c.role()))
      return error("node %d is %s (term %" PRIu64 "), expected %s", i + 1, role_word(c.role()),
                   c.term(), t[3].c_str());
    return true;
  }
  if (t.size() < 4 || !number(t[3], &v)) return error("expect %s N VALUE", what.c_str());
  std::uint64_t got = 0;
  if (what == "term") {
    got = c.term();
  } else if (what == "vote") {
    got = c.voted_for();
  } else if (what == "commit") {
    got = c.commit_index();
  } else if (what == "applied") {
    got = c.applied_index();
  } else if (what == "last") {
    got = c.log().last_index();
  } else if (what == "known-leader") {
    got = c.leader();
  } else if (what == "log") {
    // expect log N INDEX TERM
    if (t.size() != 5 || !number(t[4], &v2)) return error("expect log N INDEX TERM");
    got = c.log().term_at(v);
    if (got != v2)
      return error("node %d index %" PRIu64 " has term %" PRIu64 ", expected %" PRIu64, i + 1, v,
                   got, v2);
    return true;
  } else {
    return error("unknown expectation '%s'", what.c_str());
  }
  if (got != v)
    return error("node %d %s is %" PRIu64 ", expected %" PRIu64, i + 1, what.c_str(), got, v);
  return true;
}

bool Script::exec(const Tokens& t) {
  const std::string& cmd = t[0];
  if (cmd == "nodes") {
    std::uint64_t v = 0;
    if (world_ || n_ != 0) return error("nodes must come first, once");
    if (t.size() != 2 || !number(t[1], &v) || v < 1 || v > 7) return error("nodes 1..7");
    n_ = static_cast<int>(v);
    settings_.assign(static_cast<std::size_t>(n_), NodeSettings{});
    return true;
  }
  if (cmd == "option" || cmd == "seed" || cmd == "mutant") {
    if (world_) return error("%s must come before the first command", cmd.c_str());
    if (cmd == "seed") return t.size() == 2 && number(t[1], &seed_);
    if (cmd == "mutant") {
      if (t.size() != 2 || mutant_mask(t[1].c_str()) == 0) return error("unknown mutant");
      mutants_ |= mutant_mask(t[1].c_str());
      return true;
    }
    return setup(t);
  }
  if (cmd == "xfail") {
    // A known, reported library bug: the scenario states the correct
    // behaviour and is expected to fail until the bug is fixed.
    for (std::size_t k = 1; k < t.size(); ++k) xfail_ += (k > 1 ? " " : "") + t[k];
    if (xfail_.empty()) return error("xfail needs a reason");
    return true;
  }
  if (cmd == "expect-violation") {
    std::string text;
    for (std::size_t k = 1; k < t.size(); ++k) text += (k > 1 ? " " : "") + t[k];
    expect_violation_ = text;
    return true;
  }
  if (!start()) return false;
  int i = 0, a = 0, b = 0;
  std::uint64_t v = 0;
  if (cmd == "start") return true;
  if ((cmd == "campaign" || cmd == "tick" || cmd == "propose") && t.size() >= 2 &&
      t[1] != "leader" && node_arg(t[1], &i) && world_->down(i))
    return error("%s %d: the node is down", cmd.c_str(), i + 1);
  if (cmd == "campaign") {
    if (t.size() != 2 || !node_arg(t[1], &i)) return error("campaign N");
    if (world_->core(i).role() == raft::core::Role::kLeader)
      return error("campaign %d: it is already leader", i + 1);
    fire_timer(i);
    const auto r = world_->core(i).role();
    if (r == raft::core::Role::kFollower)
      return error("campaign %d: its timer fired but it did not campaign", i + 1);
    return true;
  }
  if (cmd == "tick") {
    if (t.size() != 2 || !node_arg(t[1], &i)) return error("tick N");
    return fire_timer(i);
  }
  if (cmd == "advance") {
    if (t.size() != 3 || !number(t[2], &v)) return error("advance N|all MS");
    for (int k = 0; k < n_; ++k) {
      if (t[1] != "all") {
        if (!node_arg(t[1], &i)) return false;
        if (k != i) continue;
      }
      world_->clock_jump(k, v * 1000);
      world_->poll(k);  // (nothing if it is down)
    }
    return true;
  }
  if (cmd == "deliver" || cmd == "drop") {
    if (t.size() < 2 || !link_arg(t[1], &a, &b)) return error("%s A->B [filters]", cmd.c_str());
    Filter f;
    bool drop = cmd == "drop", dup = false;
    if (!filters(t, 2, &f, &drop, &dup, nullptr)) return false;
    deliver(a, b, f, drop, dup);
    return true;
  }
  if (cmd == "replay") {
    // replay A->B [filters]: a late duplicate of the newest matching frame.
    if (t.size() < 2 || !link_arg(t[1], &a, &b)) return error("replay A->B [filters]");
    Filter f;
    if (!filters(t, 2, &f, nullptr, nullptr, nullptr)) return false;
    if (!world_->redeliver_latest(a, b, [&f](const MsgInfo& m) { return matches(f, m); }))
      return error("replay: no matching frame was ever sent on %d->%d", a + 1, b + 1);
    world_->poll(b);
    return true;
  }
  if (cmd == "stabilize") {
    stabilize();
    return true;
  }
  if (cmd == "partition") {
    // partition {1,2}|{3,4,5}: links between different groups fail.
    std::string spec;
    for (std::size_t k = 1; k < t.size(); ++k) spec += t[k];
    std::vector<int> group(static_cast<std::size_t>(n_), -1);
    int g = 0;
    std::string num;
    for (char ch : spec + "|") {
      if (std::isdigit(static_cast<unsigned char>(ch))) {
        num += ch;
        continue;
      }
      if (!num.empty()) {
        if (!node_arg(num, &i)) return false;
        group[i] = g;
        num.clear();
      }
      if (ch == '|') ++g;
    }
    for (int x = 0; x < n_; ++x) {
      if (group[x] < 0) return error("partition: node %d is in no group", x + 1);
      for (int y = 0; y < n_; ++y)
        if (x != y) world_->block(x, y, group[x] != group[y]);
    }
    drop_blocked();
    return true;
  }
  if (cmd == "isolate") {
    if (t.size() != 2 || !node_arg(t[1], &i)) return error("isolate N");
    for (int k = 0; k < n_; ++k) {
      if (k == i) continue;
      world_->block(i, k, true);
      world_->block(k, i, true);
    }
    drop_blocked();
    return true;
  }
  if (cmd == "crash") {
    // crash N: the process dies; its disk keeps what was synced (and, of
    // unsynced writes, an in-order prefix the seed picks).
    if (t.size() != 2 || !node_arg(t[1], &i)) return error("crash N");
    if (world_->down(i)) return error("crash %d: it is already down", i + 1);
    world_->crash(i, crash_rng_);
    return true;
  }
  if (cmd == "restart") {
    if (t.size() != 2 || !node_arg(t[1], &i)) return error("restart N");
    if (!world_->down(i)) return error("restart %d: it is running", i + 1);
    if (!world_->restart(i)) return error("restart %d failed: %s", i + 1, world_->error().c_str());
    world_->poll(i);
    return true;
  }
  if (cmd == "disk-fault") {
    // disk-fault N K: node N's K-th storage call from now fails (RAFT_EIO)
    // and its disk dies there; the next poll that hits it crashes the node.
    if (t.size() != 3 || !node_arg(t[1], &i) || !number(t[2], &v) || v == 0)
      return error("disk-fault N K");
    world_->storage(i).arm_fault(static_cast<std::uint32_t>(v));
    return true;
  }
  if (cmd == "heal") {
    world_->heal_all();
    return true;
  }
  if (cmd == "block" || cmd == "unblock") {
    if (t.size() != 2 || !link_arg(t[1], &a, &b)) return error("%s A->B", cmd.c_str());
    world_->block(a, b, cmd == "block");
    drop_blocked();
    return true;
  }
  if (cmd == "propose") {
    // propose N ID [nopoll] [expect=busy|ok]
    if (t.size() < 3) return error("propose N|leader ID");
    if (t[1] == "leader") {
      if (leader_count(&i) != 1) return error("propose leader: there is no single leader");
    } else if (!node_arg(t[1], &i)) {
      return false;
    }
    if (!number(t[2], &v)) return false;
    bool poll = true;
    int want = RAFT_OK;
    std::uint64_t count = 1;
    for (std::size_t k = 3; k < t.size(); ++k) {
      if (t[k].compare(0, 6, "count=") == 0) {
        if (!number(t[k].substr(6), &count)) return false;
      } else if (t[k] == "nopoll") {
        poll = false;
      } else if (t[k] == "expect=busy") {
        want = RAFT_EBUSY;
      } else {
        return error("propose: unknown word '%s'", t[k].c_str());
      }
    }
    // count=K proposes ids ID..ID+K-1, one poll each (one batch each).
    for (std::uint64_t id = v; id < v + count; ++id) {
      std::vector<std::uint8_t> data;
      payload_for(id, data);
      int rc = 0;
      world_->propose(i, id, data, &rc);
      if (rc != want) return error("propose %" PRIu64 " returned %s", id, raft_strerror(rc));
      if (poll) world_->poll(i);
    }
    return true;
  }
  if (cmd == "run") {
    if (t.size() != 2 || !number(t[1], &v)) return error("run MS");
    run_for(v);
    return true;
  }
  if (cmd == "mark") {
    mark_terms_.clear();
    mark_deadlines_.clear();
    for (int k = 0; k < n_; ++k) {
      mark_terms_.push_back(world_->down(k) ? 0 : world_->core(k).term());
      mark_deadlines_.push_back(world_->reported_deadline(k));
    }
    return true;
  }
  if (cmd == "dump") {
    dump(report_ ? report_ : stdout);
    return true;
  }
  if (cmd == "expect") return expect(t);
  return error("unknown command '%s'", cmd.c_str());
}

ScenarioResult Script::run() {
  ScenarioResult res;
  std::ifstream in(path_);
  if (!in) {
    res.message = path_ + ": cannot open";
    return res;
  }
  std::string line;
  bool ok = true;
  while (ok && std::getline(in, line)) {
    ++line_;
    const std::size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    Tokens t;
    for (std::string w; words >> w;) t.push_back(w);
    if (t.empty()) continue;
    std::uint64_t repeat = 1;
    if (t.size() > 1 && t.back().size() > 1 && t.back()[0] == 'x' &&
        std::isdigit(static_cast<unsigned char>(t.back()[1]))) {
      if (!number(t.back().substr(1), &repeat)) break;
      t.pop_back();
    }
    for (std::uint64_t r = 0; ok && r < repeat; ++r) {
      ok = exec(t);
      if (violated()) break;
    }
    if (violated()) break;
  }
  if (!err_.empty()) {
    res.message = err_;
  } else if (violated()) {
    const std::string& what = checker_->failure();
    if (!expect_violation_.empty() && what.find(expect_violation_) != std::string::npos) {
      res.ok = true;
      res.message = "expected violation: " + what;
    } else {
      res.message = path_ + ":" + std::to_string(line_) + ": invariant violated: " + what;
    }
  } else if (!expect_violation_.empty()) {
    res.message =
        path_ + ": expected a violation containing '" + expect_violation_ + "', none happened";
  } else {
    res.ok = true;
  }
  if (!xfail_.empty()) {
    // Invert: the failure is the known bug; a pass means it was fixed.
    if (res.ok) {
      res.ok = false;
      res.message =
          path_ + ": XPASS: the known bug (" + xfail_ + ") no longer shows; remove the xfail line";
      return res;
    }
    res.ok = true;
    res.message = "XFAIL (" + xfail_ + "): " + res.message;
    return res;
  }
  if (!res.ok && report_ != nullptr && world_) {
    std::fprintf(report_, "FAIL %s\n  state:\n", res.message.c_str());
    dump(report_);
    std::fprintf(report_, "  last events (virtual ms):\n");
    trace_.dump(report_, 30);
  }
  return res;
}

}  // namespace

ScenarioResult run_scenario(const std::string& path, FILE* trace, FILE* report) {
  Script s(path, trace, report);
  return s.run();
}

}  // namespace sim
