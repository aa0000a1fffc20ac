#include "world.hpp"

#include <cinttypes>
#include <cstring>

#include "capi/handle.hpp"
#include "checker.hpp"
#include "sim_storage.hpp"
#include "wire/codec.hpp"

namespace sim {

namespace {

World::Ctx* ctx_of(void* user) { return static_cast<World::Ctx*>(user); }

void tr_apply(std::uint64_t id, const void* data, std::size_t len, void* user) {
  auto* c = ctx_of(user);
  c->world->cb_apply(c->index, id, data, len);
}
void tr_transition(std::uint64_t id, raft_transition_state s, void* user) {
  auto* c = ctx_of(user);
  c->world->cb_transition(c->index, id, s);
}
void tr_send(raft_id to, const void* msg, std::size_t len, void* user) {
  auto* c = ctx_of(user);
  c->world->cb_send(c->index, to, msg, len);
}
int tr_receive(const void** msg, std::size_t* len, void* user) {
  auto* c = ctx_of(user);
  return c->world->cb_receive(c->index, msg, len);
}
void tr_log(raft_log_level level, const char* text, void* user) {
  auto* c = ctx_of(user);
  c->world->cb_log(c->index, level, text);
}
int tr_snapshot_save(raft_snapshot_writer* w, std::uint64_t index, void* user) {
  auto* c = ctx_of(user);
  return c->world->cb_snapshot_save(c->index, w, index);
}
int tr_snapshot_load(raft_snapshot_reader* r, std::uint64_t index, void* user) {
  auto* c = ctx_of(user);
  return c->world->cb_snapshot_load(c->index, r, index);
}

MsgInfo summarise(const raft::Message& m) {
  MsgInfo i;
  i.type = m.type;
  i.term = m.term;
  i.pre_vote = m.pre_vote;
  i.granted = m.granted;
  i.success = m.success;
  switch (m.type) {
    case raft::MsgType::kRequestVote:
      i.index = m.last_log_index;
      i.index_term = m.last_log_term;
      break;
    case raft::MsgType::kRequestVoteResponse:
      break;
    case raft::MsgType::kAppendEntries:
      i.index = m.prev_log_index;
      i.index_term = m.prev_log_term;
      i.commit = m.commit;
      i.entries = static_cast<std::uint32_t>(m.entries.size());
      break;
    case raft::MsgType::kAppendEntriesResponse:
      i.index = m.success ? m.match_index : m.reject_index;
      i.index_term = m.hint_term;
      i.hint = m.hint_index;
      i.commit = m.hint_index;
      break;
    case raft::MsgType::kInstallSnapshot:
      i.index = m.snapshot.index;
      i.index_term = m.snapshot.term;
      i.commit = m.commit;
      i.offset = m.offset;
      i.entries = static_cast<std::uint32_t>(m.chunk_len);
      i.size = m.snapshot.size;
      break;
    case raft::MsgType::kInstallSnapshotResponse:
      i.index = m.success ? m.match_index : m.snapshot.index;
      i.index_term = m.snapshot.term;
      i.offset = m.offset;
      i.rewind = m.rewind;
      break;
  }
  return i;
}

}  // namespace

World::World(std::uint64_t seed, const std::vector<NodeSettings>& nodes, std::uint32_t mutants,
             Trace& trace)
    : settings_(nodes),
      nodes_(nodes.size()),
      blocked_(nodes.size() * nodes.size(), false),
      link_count_(nodes.size() * nodes.size(), 0),
      parked_(nodes.size() * nodes.size()),
      mutants_(mutants),
      net_rng_(seed, "network"),
      proc_rng_(seed, "processing"),
      trace_(trace) {
  Prng node_rng(seed, "node-seeds");
  for (int i = 0; i < size(); ++i) {
    SimNode& sn = nodes_[i];
    sn.ctx = Ctx{this, i};
    // Clocks start at an arbitrary point: nodes must not assume zero.
    sn.offset_us = static_cast<std::int64_t>(1000000 + 1000 * node_rng.below(100000));
    sn.seed = node_rng.next() | 1;
    sn.storage = std::make_unique<SimStorage>(seed, i);
    sn.storage->set_observer(this);
    sn.sm_rng = Prng(seed, "state-machine", static_cast<std::uint64_t>(i));
    if (!create_node(i)) return;
  }
}

bool World::create_node(int i) {
  SimNode& sn = nodes_[i];
  peer_scratch_.clear();
  for (int k = 0; k < size(); ++k) {
    if (k != i) peer_scratch_.push_back(static_cast<std::uint64_t>(k) + 1);
  }
  const NodeSettings& s = settings_[i];
  raft_options opt;
  raft_options_init(&opt);
  opt.id = static_cast<raft_id>(i) + 1;
  opt.peers = peer_scratch_.data();
  opt.n_peers = peer_scratch_.size();
  opt.heartbeat_ms = s.heartbeat_ms;
  opt.election_timeout_min_ms = s.election_min_ms;
  opt.election_timeout_max_ms = s.election_max_ms;
  opt.cluster_id = kClusterId;
  opt.random_seed = sn.seed;
  opt.pre_vote = s.pre_vote ? 1 : 0;
  opt.check_quorum = s.check_quorum ? 1 : 0;
  opt.max_inflight = s.max_inflight;
  opt.max_batch_bytes = s.max_batch_bytes;
  opt.max_queue_bytes = s.max_queue_bytes;
  opt.max_uncommitted_bytes = s.max_uncommitted_bytes;
  opt.log_level = RAFT_LOG_ERROR;
  opt.storage = sn.storage->vtable();
  opt.snapshot_interval = s.snapshot_interval;
  opt.snapshot_trailing = s.snapshot_trailing;
  opt.max_snapshot_chunk_bytes = s.snapshot_chunk_bytes;
  raft_callbacks cb;
  raft_callbacks_init(&cb);
  cb.apply = tr_apply;
  cb.transition_state = tr_transition;
  cb.send = tr_send;
  cb.receive = tr_receive;
  cb.log = tr_log;
  cb.snapshot_save = tr_snapshot_save;
  cb.snapshot_load = tr_snapshot_load;
  sn.storage->reopen();
  sn.sm.reset();
  sn.creating = true;
  const int rc = raft_node_create(&sn.h, &opt, &cb, &sn.ctx);
  sn.creating = false;
  if (rc != RAFT_OK) {
    sn.h = nullptr;
    fail("raft_node_create failed for node " + std::to_string(i + 1) + ": " + raft_strerror(rc));
    return false;
  }
#ifdef RAFT_MUTANTS
  sn.h->impl->set_mutants(mutants_);
#else
  if (mutants_ != 0) fail("mutants need a -DRAFT_MUTANTS build");
#endif
  return true;
}

void World::crash(int i, Prng& rng) {
  SimNode& n = nodes_[i];
  if (n.h == nullptr) return;
  n.storage->crash(rng);
  raft_node_destroy(n.h);
  n.h = nullptr;
  n.current = -1;  // (release_current ran when the last poll returned)
  for (std::uint32_t s : n.inbox) free_slot(s);
  n.inbox.clear();
  n.wake_at = UINT64_MAX;
  ++n.wake_gen;
  trace_.note(now_us_, Rec::kFault, 0, "crash %d (durable: term %llu, %llu entries)", i + 1,
              static_cast<unsigned long long>(n.storage->durable_term()),
              static_cast<unsigned long long>(n.storage->durable_last()));
  if (checker_ != nullptr) checker_->on_crash(i);
  if (restart_max_us_ > 0)
    schedule(now_us_ + proc_rng_.range(restart_min_us_, restart_max_us_), kEvRestart,
             static_cast<std::uint32_t>(i), 0);
}

bool World::restart(int i) {
  SimNode& n = nodes_[i];
  if (n.h != nullptr) return true;
  if (!create_node(i)) return false;
  trace_.note(now_us_, Rec::kFault, 0, "restart %d", i + 1);
  if (checker_ != nullptr) checker_->on_restart(i);
  n.wake_at = UINT64_MAX;
  wake(i, now_us_);
  return true;
}

World::~World() {
  for (auto& n : nodes_) {
    raft_node_destroy(n.h);
    n.h = nullptr;
  }
}

const raft::core::Core& World::core(int i) const { return nodes_[i].h->impl->core(); }

void World::fail(const std::string& what) {
  if (checker_ != nullptr) checker_->fail(what);
  if (error_.empty()) error_ = what;
}

// ---------------------------------------------------------------- clocks

std::uint64_t World::local_us(int i, std::uint64_t global_us) const {
  const SimNode& n = nodes_[i];
  const unsigned __int128 scaled =
      static_cast<unsigned __int128>(global_us) * n.rate_ppm / 1000000u;
  return static_cast<std::uint64_t>(n.offset_us + static_cast<std::int64_t>(scaled));
}

std::uint64_t World::global_for_local_ms(int i, std::uint64_t local_ms) const {
  const SimNode& n = nodes_[i];
  const std::int64_t target = static_cast<std::int64_t>(local_ms * 1000) - n.offset_us;
  if (target <= 0) return now_us_;
  unsigned __int128 g =
      (static_cast<unsigned __int128>(target) * 1000000u + n.rate_ppm - 1) / n.rate_ppm;
  std::uint64_t at = static_cast<std::uint64_t>(g);
  while (local_us(i, at) < local_ms * 1000) ++at;  // rounding, at most a step or two
  return at < now_us_ ? now_us_ : at;
}

void World::clock_jump(int i, std::uint64_t us) {
  nodes_[i].offset_us += static_cast<std::int64_t>(us);
}

void World::set_clock_rate(int i, std::uint64_t rate_ppm) {
  if (rate_ppm == 0) rate_ppm = 1;
  SimNode& n = nodes_[i];
  const std::uint64_t local = local_us(i, now_us_);
  n.rate_ppm = rate_ppm;
  const unsigned __int128 scaled = static_cast<unsigned __int128>(now_us_) * rate_ppm / 1000000u;
  // Keep the local clock continuous at this instant.
  n.offset_us = static_cast<std::int64_t>(local) - static_cast<std::int64_t>(scaled);
  if (n.wake_at != UINT64_MAX) {
    n.wake_at = UINT64_MAX;
    wake(i, global_for_local_ms(i, n.deadline_ms));
  }
}

// ---------------------------------------------------------------- events

void World::schedule(std::uint64_t at_us, std::uint32_t kind, std::uint32_t a, std::uint64_t b) {
  if (at_us < now_us_) at_us = now_us_;
  queue_.push(Event{at_us, seq_++, kind, a, b});
}

std::uint64_t World::next_time() {
  // Skip stale wake-ups so that callers see the time of real work.
  while (!queue_.empty()) {
    const Event& e = queue_.top();
    if (e.kind == kEvWake &&
        (e.b != nodes_[e.a].wake_gen || nodes_[e.a].paused || nodes_[e.a].h == nullptr)) {
      queue_.pop();
      continue;
    }
    return e.time;
  }
  return UINT64_MAX;
}

bool World::step() {
  if (next_time() == UINT64_MAX) return false;
  const Event e = queue_.top();
  queue_.pop();
  now_us_ = e.time;
  ++events_;
  hash_.add(e.time);
  hash_.add((static_cast<std::uint64_t>(e.kind) << 32) | e.a);
  switch (e.kind) {
    case kEvDeliver: {
      Slot& s = slots_[e.a];
      if (!s.used || s.gen != e.b) break;  // parked back, or rescheduled
      s.scheduled = false;
      hash_.add(s.bytes.size());
      if (s.bytes.size() >= 4) {
        std::uint32_t crc;
        std::memcpy(&crc, s.bytes.data() + s.bytes.size() - 4, 4);
        hash_.add(crc);
      }
      --link_count_[s.from * size() + s.to];
      arrive(e.a);
      break;
    }
    case kEvWake:
      poll(static_cast<int>(e.a));
      break;
    case kEvRestart:
      restart(static_cast<int>(e.a));
      break;
    default:
      if (sink_ != nullptr) sink_->on_event(e.kind, e.a, e.b);
      break;
  }
  return true;
}

void World::wake(int i, std::uint64_t at_us) {
  SimNode& n = nodes_[i];
  if (at_us < now_us_) at_us = now_us_;
  if (at_us >= n.wake_at) return;
  n.wake_at = at_us;
  ++n.wake_gen;
  schedule(at_us, kEvWake, static_cast<std::uint32_t>(i), n.wake_gen);
}

// ---------------------------------------------------------------- nodes

void World::poll(int i) {
  SimNode& n = nodes_[i];
  n.wake_at = UINT64_MAX;
  ++n.wake_gen;
  if (n.paused || n.h == nullptr) return;
  const std::uint64_t now_ms = local_ms(i);
  if (trace_.verbose()) {
    TraceRec r;
    r.time_us = now_us_;
    r.kind = Rec::kPoll;
    r.a = static_cast<std::uint32_t>(i + 1);
    r.x = now_ms;
    trace_.add(r);
  }
  std::uint64_t next = 0;
  n.sent_in_poll = 0;
  n.sent_after_fault = 0;
  n.save_failed = false;
  const int rc = raft_node_poll(n.h, now_ms, &next);
  release_current(n);
  if (rc != RAFT_OK) {
    if (n.storage->dead() && (rc == RAFT_EIO || rc == RAFT_ECALLBACK)) {
      // The disk failed under it (an injected fault): the node stopped, as
      // the storage contract demands, and is restarted from what survived.
      // What it held in memory may have reached the disk unsynced.
      if (checker_ != nullptr) checker_->observe_log(i);
      if (!check_stopped(i, now_ms)) return;
      crash(i, proc_rng_);
      return;
    }
    fail("raft_node_poll on node " + std::to_string(i + 1) + " returned " + raft_strerror(rc) +
         ": " + raft_node_errmsg(n.h) +
         (n.storage->misuse() ? std::string(" (storage misuse: ") + n.storage->misuse() + ")"
                              : std::string()));
    return;
  }
  if (checker_ != nullptr) checker_->after_poll(i);
  n.deadline_ms = next;
  if (next <= now_ms || !n.inbox.empty()) {
    // "Poll again now": fine once in a while (a full turn), a bug if forever.
    if (next <= now_ms && ++n.spins > 10000) {
      fail("node " + std::to_string(i + 1) + " keeps asking to be polled at once (deadline " +
           std::to_string(next) + " <= now " + std::to_string(now_ms) + ")");
      return;
    }
    wake(i, now_us_ + 1);
    return;
  }
  n.spins = 0;
  wake(i, global_for_local_ms(i, next));
}

// Scenario 29, checked on every disk fault: a node whose storage call failed
// stops for good (libraft's documented behaviour).  Nothing its failed turn
// produced may leave (it may depend on the write that failed), it no longer
// claims or names a leader, and every later poll fails too.
bool World::check_stopped(int i, std::uint64_t now_ms) {
  SimNode& n = nodes_[i];
  const std::string who = "disk fault: node " + std::to_string(i + 1);
  // (Frames sent earlier in the turn, before a later write failed -- a
  // snapshot written after the turn's messages left -- are judged by the
  // checker's durability rules like any other.)
  if (n.sent_after_fault != 0) {
    fail(who + " sent " + std::to_string(n.sent_after_fault) +
         " frame(s) after a storage write failed");
    return false;
  }
  raft_status st;
  raft_status_init(&st);
  if (raft_node_status(n.h, &st) != RAFT_OK || st.role != RAFT_FOLLOWER ||
      st.leader != RAFT_NO_ID) {
    fail(who + " still reports role " + std::to_string(st.role) + " and leader " +
         std::to_string(st.leader) + " after it stopped");
    return false;
  }
  std::uint64_t next = 0;
  const int again = raft_node_poll(n.h, now_ms + 1, &next);
  if (again == RAFT_OK || n.sent_after_fault != 0) {
    fail(who + " accepted a poll after its storage failed");
    return false;
  }
  ++n.disk_stops;
  return true;
}

void World::pause(int i) {
  nodes_[i].paused = true;
  trace_.note(now_us_, Rec::kFault, 0, "pause %d", i + 1);
}

void World::resume(int i) {
  if (!nodes_[i].paused) return;
  nodes_[i].paused = false;
  trace_.note(now_us_, Rec::kFault, 0, "resume %d", i + 1);
  nodes_[i].wake_at = UINT64_MAX;
  wake(i, now_us_);
}

bool World::propose(int i, std::uint64_t id, const std::vector<std::uint8_t>& data, int* rc) {
  TraceRec r;
  r.time_us = now_us_;
  r.kind = Rec::kPropose;
  r.a = static_cast<std::uint32_t>(i + 1);
  r.x = id;
  trace_.add(r);
  if (nodes_[i].h == nullptr) {
    *rc = RAFT_ESHUTDOWN;
    return false;
  }
  *rc = raft_node_propose(nodes_[i].h, id, data.data(), data.size());
  if (*rc != RAFT_OK) return false;
  // Reports come only from polls, so registering after the call is in time.
  if (checker_ != nullptr) checker_->on_propose(i, id);
  if (!manual_) wake(i, now_us_ + (net.proc_max_us ? proc_rng_.below(net.proc_max_us) : 0));
  return true;
}

std::uint64_t World::status_leader(int i) const {
  raft_status st;
  raft_status_init(&st);
  if (nodes_[i].h == nullptr || raft_node_status(nodes_[i].h, &st) != RAFT_OK) return 0;
  return st.leader;
}

// ---------------------------------------------------------------- network

std::uint32_t World::alloc_slot() {
  std::uint32_t s;
  if (!free_slots_.empty()) {
    s = free_slots_.back();
    free_slots_.pop_back();
  } else {
    s = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[s].used = true;
  slots_[s].corrupted = false;
  ++slots_[s].gen;
  ++live_slots_;
  return s;
}

void World::free_slot(std::uint32_t s) {
  slots_[s].used = false;
  slots_[s].scheduled = false;
  ++slots_[s].gen;
  free_slots_.push_back(s);
  --live_slots_;
}

void World::block(int from, int to, bool b) { blocked_[from * size() + to] = b; }

void World::heal_all() { std::fill(blocked_.begin(), blocked_.end(), false); }

void World::cb_send(int from, std::uint64_t to, const void* msg, std::size_t len) {
  const auto* bytes = static_cast<const std::uint8_t*>(msg);
  const raft::wire::DecodeError err =
      raft::wire::decode(bytes, len, kClusterId, 1u << 30, decoded_);
  if (err != raft::wire::DecodeError::kOk) {
    fail("node " + std::to_string(from + 1) +
         " sent a frame its own decoder rejects: " + raft::wire::to_string(err));
    return;
  }
  if (to == 0 || to > static_cast<std::uint64_t>(size()) || decoded_.to != to) {
    fail("node " + std::to_string(from + 1) + " sent a frame to " + std::to_string(to) +
         " addressed to " + std::to_string(decoded_.to));
    return;
  }
  if (checker_ != nullptr) checker_->on_send(from, decoded_);
  ++nodes_[from].sent_in_poll;
  if (nodes_[from].storage->dead()) ++nodes_[from].sent_after_fault;
  if (decoded_.type == raft::MsgType::kInstallSnapshot) {
    ++snap_stats_.chunks;
    snap_stats_.chunk_bytes += decoded_.chunk_len;
  }
  const std::uint32_t s = alloc_slot();
  Slot& slot = slots_[s];
  slot.bytes.assign(bytes, bytes + len);
  slot.info = summarise(decoded_);
  slot.from = static_cast<std::uint32_t>(from);
  slot.to = static_cast<std::uint32_t>(to - 1);
  if (trace_.verbose()) {
    TraceRec r;
    r.time_us = now_us_;
    r.kind = Rec::kSend;
    r.a = slot.from + 1;
    r.b = slot.to + 1;
    r.msg = slot.info;
    trace_.add(r);
  }
  if (net.replay_keep > 0 && slot.info.type == raft::MsgType::kAppendEntriesResponse &&
      slot.info.success) {
    if (acks_.empty()) acks_.resize(nodes_.size() * nodes_.size() * kAckTerms);
    Replay& a = acks_[(slot.from * size() + slot.to) * kAckTerms + slot.info.term % kAckTerms];
    if (a.info.term != slot.info.term || a.info.index < slot.info.index) {
      a.bytes = slot.bytes;
      a.info = slot.info;
      a.from = slot.from;
      a.to = slot.to;
    }
  }
  if (net.replay_keep > 0) {
    if (replay_.size() < net.replay_keep) replay_.emplace_back();
    Replay& rp = replay_[replay_next_++ % replay_.size()];
    rp.bytes = slot.bytes;
    rp.info = slot.info;
    rp.from = slot.from;
    rp.to = slot.to;
  }
  if (blocked(from, static_cast<int>(to - 1))) {
    drop(s, "partitioned");
    return;
  }
  if (manual_) {
    parked_[from * size() + (to - 1)].push_back(s);
    return;
  }
  transmit(s, true);
}

std::uint64_t World::draw_delay() {
  std::uint64_t d = net.delay_min_us;
  if (net.delay_mean_us > 0) d += net_rng_.exponential(net.delay_mean_us);
  if (net.long_ppm > 0 && net_rng_.chance(net.long_ppm))
    d += net_rng_.range(net.long_min_us, net.long_max_us);
  return d;
}

void World::drop(std::uint32_t s, const char* why) {
  const Slot& slot = slots_[s];
  TraceRec r;
  r.time_us = now_us_;
  r.kind = Rec::kDrop;
  r.a = slot.from + 1;
  r.b = slot.to + 1;
  r.msg = slot.info;
  std::snprintf(r.note, sizeof r.note, "%s", why);
  trace_.add(r);
  free_slot(s);
}

void World::transmit(std::uint32_t s, bool allow_dup) {
  const std::uint32_t link = slots_[s].from * size() + slots_[s].to;
  if (net.drop_ppm > 0 && net_rng_.chance(net.drop_ppm)) {
    drop(s, "lost");
    return;
  }
  if (net.capacity > 0 && link_count_[link] >= net.capacity) {
    drop(s, "link full");
    return;
  }
  if (allow_dup && net.dup_ppm > 0 && net_rng_.chance(net.dup_ppm)) {
    const std::uint32_t copy = alloc_slot();
    Slot& c = slots_[copy];
    const Slot& o = slots_[s];  // re-read: alloc_slot may have moved slots_
    c.bytes = o.bytes;
    c.info = o.info;
    c.from = o.from;
    c.to = o.to;
    transmit(copy, false);
  }
  if (net.corrupt_ppm > 0 && net_rng_.chance(net.corrupt_ppm)) {
    Slot& slot = slots_[s];
    const std::size_t at = static_cast<std::size_t>(net_rng_.below(slot.bytes.size()));
    slot.bytes[at] ^= static_cast<std::uint8_t>(1u << net_rng_.below(8));
    slot.corrupted = true;
  }
  ++link_count_[link];
  schedule_delivery(s, now_us_ + draw_delay());
}

void World::schedule_delivery(std::uint32_t s, std::uint64_t at_us) {
  Slot& slot = slots_[s];
  slot.scheduled = true;
  slot.due_us = at_us;
  schedule(at_us, kEvDeliver, s, slot.gen);
}

void World::settle_in_flight(std::uint64_t max_delay_us) {
  for (std::uint32_t s = 0; s < slots_.size(); ++s) {
    Slot& slot = slots_[s];
    if (!slot.used || !slot.scheduled) continue;
    const std::uint32_t link = slot.from * size() + slot.to;
    if (blocked(static_cast<int>(slot.from), static_cast<int>(slot.to))) {
      --link_count_[link];
      drop(s, "cut in flight");
    } else if (slot.due_us > now_us_ + max_delay_us) {
      ++slot.gen;  // cancels the old event
      schedule_delivery(s, now_us_ + net_rng_.below(max_delay_us + 1));
    }
  }
}

void World::arrive(std::uint32_t s) {
  Slot& slot = slots_[s];
  SimNode& n = nodes_[slot.to];
  TraceRec r;
  r.time_us = now_us_;
  r.kind = slot.corrupted ? Rec::kDrop : Rec::kDeliver;
  r.a = slot.from + 1;
  r.b = slot.to + 1;
  r.msg = slot.info;
  if (slot.corrupted) std::snprintf(r.note, sizeof r.note, "corrupted: receiver must reject");
  trace_.add(r);
  if (n.h == nullptr) {
    drop(s, "node down");
    return;
  }
  if (n.inbox.size() >= kInboxLimit) {
    drop(s, "inbox full");
    return;
  }
  n.inbox.push_back(s);
  if (checker_ != nullptr && !slot.corrupted)
    checker_->on_deliver(static_cast<int>(slot.from), static_cast<int>(slot.to), slot.info);
  if (!n.paused && !manual_)
    wake(static_cast<int>(slot.to),
         now_us_ + (net.proc_max_us ? proc_rng_.below(net.proc_max_us) : 0));
}

void World::replay_one(Prng& rng) {
  if (replay_.empty()) return;
  std::size_t pick = static_cast<std::size_t>(rng.below(replay_.size()));
  const std::uint64_t mode = rng.below(3);
  const Replay* chosen = nullptr;
  if (mode == 2) {
    // The sharpest stale frame there is: an old acknowledgement to a node
    // that leads a later term now, whose match index lands on an entry of
    // that later term (believing it would count a replica that is not).
    const std::size_t start = static_cast<std::size_t>(rng.below(acks_.size() + 1));
    for (std::size_t k = 0; k < acks_.size() && chosen == nullptr; ++k) {
      const Replay& c = acks_[(start + k) % acks_.size()];
      if (c.bytes.empty()) continue;
      if (down(static_cast<int>(c.to))) continue;
      const raft::core::Core& dest = core(static_cast<int>(c.to));
      if (dest.role() == raft::core::Role::kLeader && c.info.term < dest.term() &&
          dest.log().term_at(c.info.index) == dest.term())
        chosen = &c;
    }
  }
  if (mode > 0 && chosen == nullptr) {
    // Otherwise any frame from an older term addressed to a node that now
    // leads a later term: stale answers are what leaders must see through.
    for (std::size_t k = 0; k < replay_.size(); ++k) {
      const std::size_t at = (pick + k) % replay_.size();
      if (down(static_cast<int>(replay_[at].to))) continue;
      const raft::core::Core& dest = core(static_cast<int>(replay_[at].to));
      if (dest.role() == raft::core::Role::kLeader && replay_[at].info.term < dest.term()) {
        pick = at;
        break;
      }
    }
  }
  const Replay& rp = chosen != nullptr ? *chosen : replay_[pick];
  if (blocked(static_cast<int>(rp.from), static_cast<int>(rp.to))) return;
  const std::uint32_t s = alloc_slot();
  Slot& slot = slots_[s];
  slot.bytes = rp.bytes;
  slot.info = rp.info;
  slot.from = rp.from;
  slot.to = rp.to;
  trace_.note(now_us_, Rec::kFault, 0, "replay %u->%u %s", slot.from + 1, slot.to + 1,
              msg_type_name(slot.info));
  transmit(s, false);
}

int World::cb_receive(int i, const void** msg, std::size_t* len) {
  SimNode& n = nodes_[i];
  release_current(n);
  if (n.inbox.empty()) return 0;
  const std::uint32_t s = n.inbox.front();
  n.inbox.pop_front();
  n.current = s;
  *msg = slots_[s].bytes.data();
  *len = slots_[s].bytes.size();
  return 1;
}

void World::release_current(SimNode& n) {
  if (n.current >= 0) {
    free_slot(static_cast<std::uint32_t>(n.current));
    n.current = -1;
  }
}

void World::cb_apply(int i, std::uint64_t id, const void* data, std::size_t len) {
  const std::string problem = nodes_[i].sm.apply(id, len);
  if (!problem.empty()) fail("node " + std::to_string(i + 1) + ": " + problem);
  if (checker_ != nullptr) checker_->on_apply(i, id, data, len);
}

void World::cb_transition(int i, std::uint64_t id, raft_transition_state s) {
  if (checker_ != nullptr) checker_->on_transition(i, id, s);
  if (listener_ != nullptr) listener_->on_transition(i, id, s);
}

void World::cb_log(int i, raft_log_level level, const char* text) {
  // The core logs errors only when safety broke; the driver logs one when
  // an injected storage fault stops the node, which is expected.
  // A snapshot_save that we failed on purpose may be logged as an error too.
  if (level == RAFT_LOG_ERROR && !nodes_[i].storage->dead() && !nodes_[i].save_failed) {
    fail("node " + std::to_string(i + 1) + " logged an error: " + text);
  }
}

// ---------------------------------------------------------------- snapshots

SnapStats World::snap_stats() const {
  SnapStats s = snap_stats_;
  for (const auto& n : nodes_) s.compactions += n.storage->compactions();
  return s;
}

int World::cb_snapshot_save(int i, raft_snapshot_writer* w, std::uint64_t index) {
  SimNode& n = nodes_[i];
  bool deliberate = false;
  std::string problem;
  const bool fresh = !n.sm.saving();
  if (fresh && checker_ != nullptr)
    checker_->on_snapshot_save(i, index, n.sm.count(), n.sm.digest());
  const int rc = n.sm.save(w, index, sm, n.sm_rng, &deliberate, &problem);
  if (!problem.empty()) fail(problem);
  trace_.note(now_us_, Rec::kNote, static_cast<std::uint32_t>(i + 1), "save %d at %llu -> %d",
              i + 1, static_cast<unsigned long long>(index), rc);
  if (rc == RAFT_OK) ++snap_stats_.saves;
  if (rc == RAFT_SNAPSHOT_MORE) ++snap_stats_.save_steps;
  if (deliberate) {
    ++snap_stats_.save_failures;
    n.save_failed = true;
  }
  return rc;
}

int World::cb_snapshot_load(int i, raft_snapshot_reader* r, std::uint64_t index) {
  SimNode& n = nodes_[i];
  std::string problem;
  const int rc = n.sm.load(r, index, n.sm_rng, &problem);
  trace_.note(now_us_, Rec::kNote, static_cast<std::uint32_t>(i + 1), "%s %d at %llu -> %d",
              n.creating ? "restore" : "install", i + 1, static_cast<unsigned long long>(index),
              rc);
  if (rc != RAFT_OK) {
    // A read that hit an injected disk fault stops the node, as it should;
    // anything else is libraft handing over bytes that are not a snapshot.
    if (!n.storage->dead())
      fail("node " + std::to_string(i + 1) + ": " +
           (problem.empty() ? "raft_snapshot_read failed: " + std::string(raft_strerror(rc))
                            : problem));
    return rc;
  }
  ++(n.creating ? snap_stats_.restores : snap_stats_.installs);
  if (checker_ != nullptr)
    checker_->on_snapshot_load(i, index, n.sm.count(), n.sm.digest(), n.creating);
  return RAFT_OK;
}

void World::on_disk_append(int node, std::uint64_t first_index, const raft_entry* entries,
                           std::size_t n) {
  if (checker_ != nullptr) checker_->on_disk_append(node, first_index, entries, n);
}

void World::on_disk_snapshot(int node, std::uint64_t index, const std::vector<std::uint8_t>& meta,
                             const std::vector<std::uint8_t>& data) {
  ++snap_stats_.commits;
  trace_.note(now_us_, Rec::kNote, static_cast<std::uint32_t>(node + 1),
              "disk %d: snapshot %llu durable (%zu bytes)", node + 1,
              static_cast<unsigned long long>(index), data.size());
  if (checker_ != nullptr) checker_->on_disk_snapshot(node, index, meta, data);
}

// ---------------------------------------------------------------- manual mode

std::vector<World::Parked> World::parked(int from, int to) const {
  std::vector<Parked> out;
  for (std::uint32_t s : parked_[from * size() + to]) out.push_back(Parked{s, &slots_[s].info});
  return out;
}

void World::deliver_parked(int from, int to, std::uint32_t slot, bool drop_it, bool dup) {
  auto& q = parked_[from * size() + to];
  for (auto it = q.begin(); it != q.end(); ++it) {
    if (*it != slot) continue;
    q.erase(it);
    if (drop_it) {
      drop(slot, "dropped by script");
      return;
    }
    if (dup) {
      const std::uint32_t copy = alloc_slot();
      Slot& c = slots_[copy];
      const Slot& o = slots_[slot];
      c.bytes = o.bytes;
      c.info = o.info;
      c.from = o.from;
      c.to = o.to;
      arrive(copy);
    }
    arrive(slot);
    return;
  }
}

bool World::redeliver_latest(int from, int to, const std::function<bool(const MsgInfo&)>& match) {
  const std::size_t n = replay_.size();
  for (std::size_t k = 1; k <= n; ++k) {
    const Replay& rp = replay_[(replay_next_ + n - k) % n];
    if (rp.from != static_cast<std::uint32_t>(from) || rp.to != static_cast<std::uint32_t>(to) ||
        !match(rp.info))
      continue;
    const std::uint32_t s = alloc_slot();
    Slot& slot = slots_[s];
    slot.bytes = rp.bytes;
    slot.info = rp.info;
    slot.from = rp.from;
    slot.to = rp.to;
    arrive(s);
    return true;
  }
  return false;
}

void World::release_parked() {
  for (auto& q : parked_) {
    for (std::uint32_t s : q) {
      ++link_count_[slots_[s].from * size() + slots_[s].to];
      schedule_delivery(s, now_us_ + draw_delay());
    }
    q.clear();
  }
}

void World::park_in_flight() {
  // Frames still scheduled for delivery go back on their links, in slot
  // order (scripts deliver by filter, not by position).
  for (std::uint32_t s = 0; s < slots_.size(); ++s) {
    Slot& slot = slots_[s];
    if (!slot.used || !slot.scheduled) continue;
    ++slot.gen;  // cancels the pending delivery event
    slot.scheduled = false;
    const std::uint32_t link = slot.from * size() + slot.to;
    --link_count_[link];
    parked_[link].push_back(s);
  }
}

}  // namespace sim
