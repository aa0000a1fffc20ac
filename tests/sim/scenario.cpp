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
#include "workload.hpp"
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

enum {
  kReqVote = 1,
  kReqPreVote,
  kVoteResp,
  kPreVoteResp,
  kAppend,
  kAppendResp,
  kSnapshot,
  kSnapshotResp
};

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
    case kSnapshot:
      return m.type == MsgType::kInstallSnapshot;
    case kSnapshotResp:
      return m.type == MsgType::kInstallSnapshotResponse;
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

// Clients of the `clients K` command: the random runs' workload, driven by
// the world's events during `run`.
class ClientSink : public EventSink {
 public:
  explicit ClientSink(Workload& w) : w_(w) {}
  void on_event(std::uint32_t kind, std::uint32_t a, std::uint64_t b) override {
    w_.on_event(kind, a, b);
  }

 private:
  Workload& w_;
};

constexpr std::uint64_t kFirstAutoId = 1000000;  // `propose ... next`: above the clients' ids

struct Line {
  int number;
  Tokens words;
  std::uint64_t repeat;
};

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
  void deliver(int a, int b, const Filter& f, bool drop, bool dup, bool poll = true);
  void stabilize();
  void drop_blocked();
  void run_for(std::uint64_t ms);
  void dump(FILE* out);
  bool violated() const { return checker_ && checker_->failed(); }
  int up_count() const;
  int top_leader() const;
  bool crash_cmd(const Tokens& t);
  bool restart_cmd(const Tokens& t);
  bool net_cmd(const Tokens& t);
  bool clients_cmd(const Tokens& t);
  bool acked_once(const Tokens& t);

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
  Prng choice_rng_{1, "script-choice"};  // `random` choices of churn scripts
  NetParams run_net_;                    // the network of `run` (`net` changes it)
  std::unique_ptr<Workload> workload_;
  std::unique_ptr<ClientSink> client_sink_;
  std::uint64_t next_id_ = kFirstAutoId;
  std::string xfail_;
  SmParams sm_;
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
          "",       "req-vote",    "req-prevote", "vote-resp",    "prevote-resp",
          "append", "append-resp", "snapshot",    "snapshot-resp"};
      f->type = -1;
      for (int i = 1; i <= kSnapshotResp; ++i) {
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
  if (name == "snapshot_size") {
    // option snapshot_size MIN MAX: filler bytes of every state machine's snapshots
    if (t.size() < k + 3 || !number(val, &v) || !number(t[k + 2], &v2) || v > v2)
      return error("option snapshot_size MIN MAX");
    sm_.filler_min = static_cast<std::uint32_t>(v);
    sm_.filler_max = static_cast<std::uint32_t>(v2);
    return true;
  }
  if (name == "snapshot_steps") {
    // option snapshot_steps K: snapshot_save returns MORE up to K times
    if (!number(val, &v)) return false;
    sm_.max_steps = static_cast<std::uint32_t>(v);
    return true;
  }
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
    } else if (name == "max_uncommitted") {
      s.max_uncommitted_bytes = v;
    } else if (name == "snapshot_interval") {
      s.snapshot_interval = v;
    } else if (name == "snapshot_trailing") {
      s.snapshot_trailing = v;
    } else if (name == "snapshot_chunk") {
      s.snapshot_chunk_bytes = static_cast<std::uint32_t>(v);
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
  choice_rng_ = Prng(seed_, "script-choice");
  run_net_.delay_min_us = latency_us_;
  run_net_.delay_mean_us = jitter_us_;
  if (!world_->ok()) return error("%s", world_->error().c_str());
  checker_ = std::make_unique<Checker>(*world_);
  world_->attach(checker_.get());
  world_->sm = sm_;
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

void Script::deliver(int a, int b, const Filter& f, bool drop, bool dup, bool poll) {
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
  if (!drop && !chosen.empty() && poll) world_->poll(b);
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
  NetParams net = run_net_;
  net.replay_keep = kHistory;
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
    std::fprintf(out, "base=%" PRIu64 " ", c.log().base_index());
    for (std::uint64_t j =
             std::max<std::uint64_t>(last > 20 ? last - 19 : 1, c.log().base_index() + 1);
         j <= last; ++j) {
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
  if (what == "acked-once") return acked_once(t);
  if (what == "saves" || what == "installs" || what == "restores" || what == "chunks") {
    // expect installs K: at least K snapshots were installed in the run (so
    // that a snapshot script cannot pass without a snapshot).
    if (t.size() != 3 || !number(t[2], &v)) return error("expect %s K", what.c_str());
    const SnapStats st = world_->snap_stats();
    const std::uint64_t got = what == "saves"      ? st.saves
                              : what == "installs" ? st.installs
                              : what == "restores" ? st.restores
                                                   : st.chunks;
    if (got < v) return error("%" PRIu64 " %s, expected at least %" PRIu64, got, what.c_str(), v);
    return true;
  }
  if (what == "sm-agree") {
    // The listed nodes' state machines hold the same state (command count
    // and digest) at the same applied index.
    if (!node_list(t, 2, &list) || list.empty()) return false;
    const int first = list[0];
    for (int k : list) {
      if (world_->down(k)) return error("node %d is down", k + 1);
      const StateMachine& a = world_->state_machine(first);
      const StateMachine& b = world_->state_machine(k);
      if (world_->core(k).applied_index() != world_->core(first).applied_index() ||
          a.count() != b.count() || a.digest() != b.digest())
        return error("node %d (applied %" PRIu64 ", %" PRIu64
                     " commands) and node %d (applied %" PRIu64 ", %" PRIu64 " commands) differ",
                     first + 1, world_->core(first).applied_index(), a.count(), k + 1,
                     world_->core(k).applied_index(), b.count());
    }
    return true;
  }
  if (what == "disk-snapshot") {
    if (t.size() != 4 || !node_arg(t[2], &i) || !number(t[3], &v))
      return error("expect disk-snapshot N I");
    if (world_->storage(i).snapshot_index() != v)
      return error("node %d's disk holds snapshot %" PRIu64 ", expected %" PRIu64, i + 1,
                   world_->storage(i).snapshot_index(), v);
    return true;
  }
  if (what == "min-committed") {
    // At least K entries committed in the run: a churn script that never
    // let the cluster commit would pass its other checks vacuously.
    if (t.size() != 3 || !number(t[2], &v)) return error("expect min-committed K");
    if (checker_->committed_length() < v)
      return error("only %" PRIu64 " entries committed, expected at least %" PRIu64,
                   static_cast<std::uint64_t>(checker_->committed_length()), v);
    return true;
  }
  if (t.size() < 3 || !node_arg(t[2], &i)) return error("expect %s NODE ...", what.c_str());
  if (what == "stopped") {
    // Its disk failed under it and it stopped (the world checked that it
    // stopped for good, sent nothing of the failed turn and named no
    // leader); it is down until restarted.
    if (t.size() != 3) return error("expect stopped N");
    if (world_->disk_stops(i) == 0 || !world_->down(i))
      return error("node %d did not stop on a disk fault (%s, %u stops)", i + 1,
                   world_->down(i) ? "down" : "up", world_->disk_stops(i));
    return true;
  }
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
  } else if (what == "base") {
    got = c.log().base_index();
  } else if (what == "snapshot" || what == "snapshot-min") {
    // expect snapshot N I: raft_status.snapshot_index (snapshot-min: at least I)
    raft_status st;
    raft_status_init(&st);
    raft_node_status(world_->handle(i), &st);
    got = st.snapshot_index;
    if (what == "snapshot-min") {
      if (got < v)
        return error("node %d snapshot is %" PRIu64 ", expected at least %" PRIu64, i + 1, got, v);
      return true;
    }
  } else if (what == "voters") {
    // expect voters N K: node N's snapshot meta names voters 1..K
    const auto& voters = c.snapshot().voters;
    bool ok = voters.size() == v;
    for (std::size_t x = 0; ok && x < voters.size(); ++x) ok = voters[x] == x + 1;
    if (!ok)
      return error("node %d's snapshot at %" PRIu64 " names %zu voters, expected 1..%" PRIu64,
                   i + 1, c.snapshot().index, voters.size(), v);
    return true;
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
  if (cmd == "maybe") {
    // maybe PCT COMMAND...: run the command with probability PCT% (churn).
    if (t.size() < 3 || !number(t[1], &v) || v > 100) return error("maybe PCT COMMAND...");
    if (choice_rng_.below(100) >= v) return true;
    return exec(Tokens(t.begin() + 2, t.end()));
  }
  if ((cmd == "campaign" || cmd == "tick" || cmd == "propose") && t.size() >= 2 &&
      t[1] != "leader" && t[1] != "any" && node_arg(t[1], &i) && world_->down(i))
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
    // nopoll: leave the frames in the inbox; a later `poll N` (or delivery)
    // reads them all in one turn.
    Tokens rest(t.begin(), t.end());
    bool poll = true;
    for (auto it = rest.begin(); it != rest.end(); ++it) {
      if (*it == "nopoll") {
        poll = false;
        rest.erase(it);
        break;
      }
    }
    if (!filters(rest, 2, &f, &drop, &dup, nullptr)) return false;
    deliver(a, b, f, drop, dup, poll);
    return true;
  }
  if (cmd == "poll") {
    if (t.size() != 2 || !node_arg(t[1], &i)) return error("poll N");
    world_->poll(i);
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
    if (t.size() == 2 && t[1] == "random") {
      i = static_cast<int>(choice_rng_.below(static_cast<std::uint64_t>(n_)));
    } else if (t.size() != 2 || !node_arg(t[1], &i)) {
      return error("isolate N|random");
    }
    for (int k = 0; k < n_; ++k) {
      if (k == i) continue;
      world_->block(i, k, true);
      world_->block(k, i, true);
    }
    drop_blocked();
    return true;
  }
  if (cmd == "crash") return crash_cmd(t);
  if (cmd == "restart") return restart_cmd(t);
  if (cmd == "net") return net_cmd(t);
  if (cmd == "clients") return clients_cmd(t);
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
    if (t.size() < 3) return error("propose N|leader|any ID|next");
    if (t[1] == "leader") {
      if (leader_count(&i) != 1) return error("propose leader: there is no single leader");
    } else if (t[1] == "any") {
      // Churn: whoever leads the highest term, if anybody does.
      i = top_leader();
      if (i < 0) return true;
    } else if (!node_arg(t[1], &i)) {
      return false;
    }
    if (t[2] == "next") {
      v = next_id_;
    } else if (!number(t[2], &v)) {
      return false;
    }
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
    if (t[2] == "next") next_id_ += count;
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
    // run MS | run random MIN MAX
    std::uint64_t lo = 0, hi = 0;
    if (t.size() == 4 && t[1] == "random" && number(t[2], &lo) && number(t[3], &hi) && lo <= hi) {
      v = lo + choice_rng_.below(hi - lo + 1);
    } else if (t.size() != 2 || !number(t[1], &v)) {
      return error("run MS | run random MIN MAX");
    }
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

int Script::up_count() const {
  int up = 0;
  for (int k = 0; k < n_; ++k) up += world_->down(k) ? 0 : 1;
  return up;
}

// The leader of the highest term among running nodes (-1: none).  After a
// partition there may be stale leaders of older terms too.
int Script::top_leader() const {
  int best = -1;
  for (int k = 0; k < n_; ++k) {
    if (world_->down(k) || world_->core(k).role() != raft::core::Role::kLeader) continue;
    if (best < 0 || world_->core(k).term() > world_->core(best).term()) best = k;
  }
  return best;
}

// crash N | crash leader | crash random [keep=K]: the process dies; its disk
// keeps what was synced (and, of unsynced writes, an in-order prefix the
// seed picks).  `leader` and `random` do nothing when there is no leader, or
// when only K nodes run.
bool Script::crash_cmd(const Tokens& t) {
  int i = 0;
  if (t.size() >= 2 && t[1] == "leader") {
    if (t.size() != 2) return error("crash leader");
    i = top_leader();
    if (i >= 0) world_->crash(i, crash_rng_);
    return true;
  }
  if (t.size() >= 2 && t[1] == "random") {
    std::uint64_t keep = 0;
    if (t.size() == 3 && (t[2].compare(0, 5, "keep=") != 0 || !number(t[2].substr(5), &keep)))
      return error("crash random [keep=K]");
    if (t.size() > 3) return error("crash random [keep=K]");
    if (up_count() <= static_cast<int>(keep)) return true;
    std::uint64_t pick = choice_rng_.below(static_cast<std::uint64_t>(up_count()));
    for (int k = 0; k < n_; ++k) {
      if (world_->down(k)) continue;
      if (pick-- == 0) {
        world_->crash(k, crash_rng_);
        break;
      }
    }
    return true;
  }
  if (t.size() != 2 || !node_arg(t[1], &i)) return error("crash N|leader|random [keep=K]");
  if (world_->down(i)) return error("crash %d: it is already down", i + 1);
  world_->crash(i, crash_rng_);
  return true;
}

// restart N | restart all | restart random [until=K]: a new incarnation from
// the node's disk.  `random` restarts one down node, or with until=K as many
// as it takes for K nodes to run.
bool Script::restart_cmd(const Tokens& t) {
  std::vector<int> todo;
  int i = 0;
  if (t.size() == 2 && t[1] == "all") {
    for (int k = 0; k < n_; ++k)
      if (world_->down(k)) todo.push_back(k);
  } else if (t.size() >= 2 && t[1] == "random") {
    std::uint64_t until = 0;
    if (t.size() == 3 && (t[2].compare(0, 6, "until=") != 0 || !number(t[2].substr(6), &until)))
      return error("restart random [until=K]");
    if (t.size() > 3) return error("restart random [until=K]");
    std::vector<int> down;
    for (int k = 0; k < n_; ++k)
      if (world_->down(k)) down.push_back(k);
    int want = until == 0 ? 1 : static_cast<int>(until) - up_count();
    while (want-- > 0 && !down.empty()) {
      const std::size_t pick = choice_rng_.below(down.size());
      todo.push_back(down[pick]);
      down.erase(down.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  } else {
    if (t.size() != 2 || !node_arg(t[1], &i)) return error("restart N|all|random [until=K]");
    if (!world_->down(i)) return error("restart %d: it is running", i + 1);
    todo.push_back(i);
  }
  for (int k : todo) {
    if (!world_->restart(k)) return error("restart %d failed: %s", k + 1, world_->error().c_str());
    world_->poll(k);
  }
  return true;
}

// net reliable | net [loss=PCT] [dup=PCT] [reorder=PCT] [reorder-ms=MIN-MAX]
// [delay=US] [jitter=US]: the network of later `run`s.  Long reordering
// holds a frame back MIN-MAX ms on top of its normal delay.
bool Script::net_cmd(const Tokens& t) {
  if (t.size() == 2 && t[1] == "reliable") {
    run_net_ = NetParams{};
    run_net_.delay_min_us = latency_us_;
    run_net_.delay_mean_us = jitter_us_;
    return true;
  }
  for (std::size_t k = 1; k < t.size(); ++k) {
    const std::size_t eq = t[k].find('=');
    if (eq == std::string::npos) return error("net: expected KEY=VALUE, got '%s'", t[k].c_str());
    const std::string key = t[k].substr(0, eq), val = t[k].substr(eq + 1);
    std::uint64_t v = 0, v2 = 0;
    if (key == "reorder-ms") {
      const std::size_t dash = val.find('-');
      if (dash == std::string::npos || !number(val.substr(0, dash), &v) ||
          !number(val.substr(dash + 1), &v2) || v > v2)
        return error("net reorder-ms=MIN-MAX");
      run_net_.long_min_us = v * 1000;
      run_net_.long_max_us = v2 * 1000;
      continue;
    }
    if (!number(val, &v)) return false;
    if ((key == "loss" || key == "dup" || key == "reorder") && v > 100)
      return error("net %s: a percentage", key.c_str());
    const auto ppm = static_cast<std::uint32_t>(v * 10000);
    if (key == "loss") {
      run_net_.drop_ppm = ppm;
    } else if (key == "dup") {
      run_net_.dup_ppm = ppm;
    } else if (key == "reorder") {
      run_net_.long_ppm = ppm;
    } else if (key == "delay") {
      run_net_.delay_min_us = v;
    } else if (key == "jitter") {
      run_net_.delay_mean_us = v;
    } else {
      return error("net: unknown key '%s'", key.c_str());
    }
  }
  return true;
}

// clients K | clients stop: K clients of the random runs' workload (one
// operation in flight each, retrying with new ids) act during `run`.
bool Script::clients_cmd(const Tokens& t) {
  if (t.size() == 2 && t[1] == "stop") {
    if (!workload_) return error("clients stop: no clients");
    workload_->stop_new_ops();
    return true;
  }
  std::uint64_t k = 0;
  if (t.size() != 2 || !number(t[1], &k) || k < 1 || k > 8) return error("clients 1..8|stop");
  if (workload_) return error("clients: already started");
  WorkloadParams p;
  p.clients = static_cast<int>(k);
  workload_ = std::make_unique<Workload>(*world_, seed_, p);
  client_sink_ = std::make_unique<ClientSink>(*workload_);
  world_->set_sink(client_sink_.get());
  world_->set_listener(workload_.get());
  workload_->start();
  return true;
}

// expect acked-once [min=N]: every transition reported COMMITTED or APPLIED
// is in the committed sequence exactly once (and at least N were).
bool Script::acked_once(const Tokens& t) {
  std::uint64_t min = 0;
  if (t.size() == 3 && (t[2].compare(0, 4, "min=") != 0 || !number(t[2].substr(4), &min)))
    return error("expect acked-once [min=N]");
  if (t.size() > 3) return error("expect acked-once [min=N]");
  std::uint64_t acked = 0;
  const std::string why = checker_->acked_once(&acked);
  if (!why.empty()) return error("%s", why.c_str());
  if (acked < min)
    return error("only %" PRIu64 " transitions were acknowledged, expected at least %" PRIu64,
                 acked, min);
  return true;
}

ScenarioResult Script::run() {
  ScenarioResult res;
  std::ifstream in(path_);
  if (!in) {
    res.message = path_ + ": cannot open";
    return res;
  }
  std::vector<Line> lines;
  std::string text;
  bool ok = true;
  for (int number_ = 1; ok && std::getline(in, text); ++number_) {
    line_ = number_;
    const std::size_t hash = text.find('#');
    if (hash != std::string::npos) text.resize(hash);
    std::istringstream words(text);
    Tokens t;
    for (std::string w; words >> w;) t.push_back(w);
    if (t.empty()) continue;
    std::uint64_t repeat = 1;
    if (t.size() > 1 && t.back().size() > 1 && t.back()[0] == 'x' &&
        std::isdigit(static_cast<unsigned char>(t.back()[1]))) {
      ok = number(t.back().substr(1), &repeat);
      t.pop_back();
    }
    lines.push_back(Line{number_, t, repeat});
  }
  // `repeat K` ... `end` runs the lines between K times (blocks nest).
  struct Loop {
    std::size_t body;
    std::uint64_t left;
  };
  std::vector<Loop> loops;
  for (std::size_t pc = 0; ok && pc < lines.size(); ++pc) {
    const Line& l = lines[pc];
    line_ = l.number;
    if (l.words[0] == "repeat") {
      std::uint64_t k = 0;
      ok = l.words.size() == 2 && number(l.words[1], &k) && k >= 1;
      if (!ok && err_.empty()) error("repeat K (K >= 1)");
      loops.push_back(Loop{pc + 1, k});
      continue;
    }
    if (l.words[0] == "end") {
      ok = l.words.size() == 1 && !loops.empty();
      if (!ok) {
        error("'end' without 'repeat'");
        break;
      }
      if (--loops.back().left > 0) {
        pc = loops.back().body - 1;
      } else {
        loops.pop_back();
      }
      continue;
    }
    for (std::uint64_t r = 0; ok && r < l.repeat; ++r) {
      ok = exec(l.words);
      if (violated()) break;
    }
    if (violated()) break;
  }
  if (ok && !violated() && !loops.empty() && err_.empty()) error("'repeat' without 'end'");
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
