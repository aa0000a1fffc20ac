#include "node/node.hpp"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <new>

#include "common/error_text.hpp"
#include "wire/codec.hpp"
#include "wire/le.hpp"

namespace raft::node {

namespace {

// A turn stops reading after this many messages so that a flooding peer
// cannot starve timers and proposals; the caller is told to poll again now.
constexpr int kMaxMessagesPerTurn = 4096;

constexpr std::uint64_t kMaxClockMs = std::uint64_t{1} << 62;

std::uint64_t steady_now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

raft_log_level to_c(core::LogLevel level) { return static_cast<raft_log_level>(level); }

}  // namespace

// ---------------------------------------------------------------- creation

int Node::create(const raft_options* opt, const raft_callbacks* cb, void* user,
                 std::unique_ptr<Node>& out) {
  out.reset();
  if (cb == nullptr) return RAFT_EINVAL;
  auto say = [&](const std::string& text) {
    if (cb->log != nullptr && cb->version == RAFT_CALLBACKS_VERSION)
      cb->log(RAFT_LOG_ERROR, ("raft_node_create: " + text).c_str(), user);
  };
  if (opt == nullptr) {
    say("options is NULL");
    return RAFT_EINVAL;
  }
  core::Config config;
  Limits limits;
  std::string why;
  const int rc = translate_options(*opt, *cb, config, limits, why);
  if (rc != RAFT_OK) {
    say(why);
    return rc;
  }
  raft_storage storage{};
  bool builtin = false;
  const int src = open_storage(config, limits, storage, builtin, why);
  if (src != RAFT_OK) {
    say(why);
    return src;
  }
  out.reset(new (std::nothrow) Node(config, limits, *cb, user, storage, builtin));
  if (!out) {
    if (storage.close != nullptr) storage.close(storage.ctx);
    say("out of memory");
    return RAFT_ENOMEM;
  }
  const int lrc = out->restore(why);
  if (lrc != RAFT_OK) {
    out.reset();  // closes the storage
    say(why);
    return lrc;
  }
  return RAFT_OK;
}

int Node::open_storage(const core::Config& config, const Limits& limits, raft_storage& out,
                       bool& builtin, std::string& why) {
  builtin = false;
  if (limits.has_user_storage) {
    out = limits.user_storage;
    return RAFT_OK;
  }
  if (limits.data_dir.empty()) {
    out = storage::memory_storage();
    return RAFT_OK;
  }
  builtin = true;
  return storage::open_file_storage(limits.data_dir.c_str(), config.id, limits.cluster_id, out,
                                    why);
}

int Node::restore(std::string& why) {
  storage::Loaded loaded;
  int rc = storage::load(storage_, loaded, why);
  if (rc != RAFT_OK) return rc;
  rc = restore_snapshot(loaded, why);
  if (rc != RAFT_OK) return rc;
  core_->restore(loaded.term, loaded.vote, loaded.snapshot, loaded.entries);
  persisted_term_ = loaded.term;
  persisted_vote_ = loaded.vote;
  persisted_last_ = core_->log().last_index();
  publish_status();
  return RAFT_OK;
}

Node::~Node() {
  if (storage_.close != nullptr) storage_.close(storage_.ctx);
}

Node::Node(const core::Config& config, const Limits& limits, const raft_callbacks& cb, void* user,
           const raft_storage& storage, bool builtin_storage)
    : cb_(cb),
      user_(user),
      limits_(limits),
      storage_(storage),
      builtin_storage_(builtin_storage),
      memory_storage_(!builtin_storage && !limits.has_user_storage) {
  // The core's timers are armed relative to the first poll's clock.
  core_ = std::make_unique<core::Core>(config, static_cast<core::Effects&>(*this), 0);
  snapshot_.version = RAFT_STATUS_VERSION;
  snapshot_.id = config.id;
  snapshot_.role = RAFT_FOLLOWER;
}

// ---------------------------------------------------------------- guards

int Node::enter(const char* what) {
  bool expected = false;
  if (!driving_.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
    if (driver_thread_.load() == std::this_thread::get_id())
      return fail(RAFT_EBUSY, "%s called from inside a callback of the same node", what);
    return fail(RAFT_EBUSY, "%s: another thread is driving this node", what);
  }
  driver_thread_.store(std::this_thread::get_id());
  if (storage_error_ != RAFT_OK) {
    leave();
    return fail(storage_error_, "%s: stopped after a failure: %s", what, storage_failure_.c_str());
  }
  bool stopped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped = stopped_;
  }
  if (stopped) {
    leave();
    return fail(RAFT_ESHUTDOWN, "%s: the node was stopped", what);
  }
  return RAFT_OK;
}

void Node::leave() {
  driver_thread_.store(std::thread::id());
  driving_.store(false, std::memory_order_release);
}

bool Node::in_callback() const {
  return driving_.load() && driver_thread_.load() == std::this_thread::get_id();
}

int Node::fail(int code, const char* fmt, ...) {
  char text[ErrorSlots::kTextBytes];
  va_list args;
  va_start(args, fmt);
  // args is initialised just above; clang 14's analyzer loses track of it here.
  std::vsnprintf(text, sizeof text, fmt, args);  // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(args);
  errors_.set(text);
  return code;
}

void Node::logf(raft_log_level level, const char* fmt, ...) {
  if (cb_.log == nullptr || level > limits_.log_level) return;
  char text[256];
  va_list args;
  va_start(args, fmt);
  // args is initialised just above; clang 14's analyzer loses track of it here.
  std::vsnprintf(text, sizeof text, fmt, args);  // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(args);
  cb_.log(level, text, user_);
}

// ---------------------------------------------------------------- any thread

std::size_t Node::admit_prefix(const raft_proposal* proposals, std::size_t n, Refusal* why,
                               std::size_t* payload) const {
  // Each in turn, against the queue's fill level as it would be, and the
  // leader's uncommitted bytes (as of the last turn, plus what the loop has
  // taken since) with it.  Limits and state in locals: stores through the
  // out-parameters could alias the members, which would then be reloaded
  // for every proposal.
  const std::uint64_t max_entry = limits_.max_entry_bytes;
  const std::uint64_t max_queue = limits_.max_queue_bytes;
  const std::uint64_t max_uncommitted = limits_.max_uncommitted_bytes;
  const std::uint64_t taken = uncommitted_;
  const bool stopped = stopped_;
  std::uint64_t queued = queue_.bytes();
  std::size_t bytes = 0;
  std::size_t k = 0;
  Refusal refusal = Refusal::kNone;
  for (; k < n; ++k) {
    const raft_proposal& p = proposals[k];
    const std::uint64_t cost = ProposalQueue::cost(p.len);
    const std::uint64_t uncommitted = taken + queued;
    if (p.data == nullptr && p.len > 0) {
      refusal = Refusal::kNullData;
    } else if (p.len > max_entry) {
      refusal = Refusal::kTooBig;
    } else if (stopped) {
      refusal = Refusal::kStopped;
    } else if (queued + cost > max_queue) {
      refusal = Refusal::kQueueFull;
    } else if (uncommitted > 0 && uncommitted + cost > max_uncommitted) {
      refusal = Refusal::kUncommitted;
    }
    if (refusal != Refusal::kNone) break;
    queued += cost;
    bytes += p.len;
  }
  *why = refusal;
  *payload = bytes;
  return k;
}

int Node::refuse(Refusal why, std::size_t len, std::size_t index, std::size_t n) {
  // No allocation here: a batch's prefix may already be queued, and an
  // out-of-memory error now would tell the caller otherwise.
  char at[64] = "";
  if (n > 1) std::snprintf(at, sizeof at, " (a batch stopped at proposal %zu)", index);
  switch (why) {
    case Refusal::kNullData:
      return fail(RAFT_EINVAL, "propose: data is NULL, len > 0%s", at);
    case Refusal::kTooBig:
      return fail(RAFT_ETOOBIG, "propose: %zu bytes exceeds max_entry_bytes %u%s", len,
                  limits_.max_entry_bytes, at);
    case Refusal::kStopped:
      return fail(RAFT_ESHUTDOWN, "propose: the node was stopped%s", at);
    case Refusal::kQueueFull:
      return fail(RAFT_EBUSY, "propose: queue full (max_queue_bytes %llu)%s",
                  static_cast<unsigned long long>(limits_.max_queue_bytes), at);
    case Refusal::kUncommitted:
    case Refusal::kNone:
      break;
  }
  return fail(RAFT_EBUSY,
              "propose: too much proposed and not yet committed (max_uncommitted_bytes %llu)%s",
              static_cast<unsigned long long>(limits_.max_uncommitted_bytes), at);
}

int Node::propose(std::uint64_t id, const void* data, std::size_t len) {
  const raft_proposal p{id, data, len};
  Refusal why = Refusal::kNone;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::size_t payload = 0;
    if (admit_prefix(&p, 1, &why, &payload) == 1) {
      queue_.push_all(&p, 1, payload);
      wake_flag_.store(true, std::memory_order_release);
      // Waking costs a system call; only a sleeping loop needs it.
      wake = sleeping_;
    }
  }
  if (why != Refusal::kNone) return refuse(why, len, 0, 1);
  if (wake) wake_.notify_one();
  return RAFT_OK;
}

int Node::propose_batch(const raft_proposal* proposals, std::size_t n, std::size_t* queued) {
  if (queued != nullptr) *queued = 0;
  if (n == 0) return RAFT_OK;
  if (proposals == nullptr) return fail(RAFT_EINVAL, "propose: the proposals array is NULL");
  std::size_t done = 0;
  Refusal why = Refusal::kNone;
  bool out_of_memory = false;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The admitted prefix, queued in one go: its memory is reserved first,
    // so out of memory queues none of it (done stays 0).
    std::size_t payload = 0;
    const std::size_t fit = admit_prefix(proposals, n, &why, &payload);
    try {
      queue_.push_all(proposals, fit, payload);
      done = fit;
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    }
    if (done > 0) {
      wake_flag_.store(true, std::memory_order_release);
      wake = sleeping_;
    }
  }
  if (wake) wake_.notify_one();
  if (queued != nullptr) *queued = done;
  if (out_of_memory) return fail(RAFT_ENOMEM, "propose: out of memory queuing a batch of %zu", n);
  return why == Refusal::kNone ? RAFT_OK : refuse(why, proposals[done].len, done, n);
}

void Node::notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
    wake_flag_.store(true, std::memory_order_release);
    if (!sleeping_) return;  // the loop checks notified_ before it sleeps
  }
  wake_.notify_one();
}

void Node::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    wake_flag_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
}

int Node::status(raft_status* st) {
  if (st == nullptr) return fail(RAFT_EINVAL, "status: the raft_status pointer is NULL");
  if (st->version != RAFT_STATUS_VERSION)
    return fail(RAFT_EVERSION, "status: raft_status.version %u is unknown", st->version);
  std::lock_guard<std::mutex> lock(mu_);
  *st = snapshot_;
  st->proposals_queued = queue_.size();
  return RAFT_OK;
}

// ---------------------------------------------------------------- loop

// Leaves the driver's seat however the call ends: an exception (out of
// memory inside a turn) caught at the C boundary must not leave the node
// marked as driven, or every later poll/run would get RAFT_EBUSY.
class Node::Driving {
 public:
  explicit Driving(Node& n) : n_(n) {}
  ~Driving() { n_.leave(); }
  Driving(const Driving&) = delete;
  Driving& operator=(const Driving&) = delete;

 private:
  Node& n_;
};

int Node::poll(std::uint64_t now_ms, std::uint64_t* next_deadline_ms) {
  // Deadlines are now + a timeout: a clock this close to 2^64 would wrap.
  if (now_ms > kMaxClockMs)
    return fail(RAFT_EINVAL, "raft_node_poll: now_ms %llu is beyond 2^62",
                static_cast<unsigned long long>(now_ms));
  const int rc = enter("raft_node_poll");
  if (rc != RAFT_OK) return rc;
  const Driving driving(*this);
  return guarded_turn(now_ms, next_deadline_ms);
}

// A turn cut short by an exception (out of memory) may have left the log,
// the core and the outbox half-updated: nothing of it can be trusted, so the
// node stops, as after a storage failure, and must be created again.
int Node::guarded_turn(std::uint64_t now_ms, std::uint64_t* next_deadline_ms) {
  try {
    return turn(now_ms, next_deadline_ms);
  } catch (const std::bad_alloc&) {
    return halt_after_exception(RAFT_ENOMEM, "out of memory during a turn");
  } catch (...) {
    return halt_after_exception(RAFT_EINTERNAL, "internal error during a turn");
  }
}

int Node::halt_after_exception(int rc, const char* what) noexcept {
  try {
    return halt_for_good(rc, what);
  } catch (...) {
    // Reporting needs memory too: stop without the report.
    storage_error_ = rc;
    clear_outbox();
    reports_.clear();
    return rc;
  }
}

int Node::run() {
  int rc = enter("raft_node_run");
  if (rc != RAFT_OK) return rc;
  const Driving driving(*this);
  for (;;) {
    std::uint64_t deadline = 0;
    const std::uint64_t traffic_before = msgs_sent_ + msgs_received_;
    const std::uint64_t now = steady_now_ms();
    rc = guarded_turn(now, &deadline);
    if (rc != RAFT_OK) break;
    if (cb_.halt != nullptr && cb_.halt(user_) != 0) break;
    // Not when the next turn is due at once (a save in steps, a flood).
    if (msgs_sent_ + msgs_received_ != traffic_before && deadline > now) busy_poll();
    std::unique_lock<std::mutex> lock(mu_);
    const auto until = std::chrono::steady_clock::time_point(std::chrono::milliseconds(deadline));
    sleeping_ = true;
    wake_.wait_until(lock, until, [this] { return notified_ || stopped_ || !queue_.empty(); });
    sleeping_ = false;
    if (stopped_) break;
  }
  return rc;
}

// A futex sleep and wake-up costs more than the few microseconds a peer
// takes to answer, and a commit waits for several of them in a row (proposer
// -> leader -> follower -> leader).  So a node that just exchanged messages
// looks for more work for a moment before it sleeps.  It yields while it
// looks: on a machine with fewer cores than busy threads, the peer it waits
// for may need this core.
void Node::busy_poll() {
  if (limits_.busy_poll_us == 0) return;
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::microseconds(limits_.busy_poll_us);
  while (!wake_flag_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < end)
    std::this_thread::yield();
}

int Node::turn(std::uint64_t now_ms, std::uint64_t* next_deadline_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = false;
    wake_flag_.store(false, std::memory_order_relaxed);
    batch_.clear();
    queue_.take(batch_);
    // Taken proposals leave the queue's count and are not yet in the
    // log's: counted here until the turn's end recounts.
    uncommitted_ += batch_.bytes.size();
  }
  core_->set_time(now_ms);
  bool more = false;
  const int rc = receive_messages(&more);
  core_->tick(now_ms);
  if (!batch_.items.empty())
    core_->propose(batch_.bytes.data(), batch_.items.data(), batch_.items.size());
  core_->flush();
  // Nothing leaves before it is durable: a vote or an acknowledgement sent
  // ahead of its fsync could be forgotten by a crash (one fsync per turn).
#ifdef RAFT_MUTANTS
  if (core_->config().mutants & core::kMutantSendBeforeSync) deliver_outputs();
#endif
  const int prc = persist();
  if (prc != RAFT_OK) return prc;
  deliver_outputs();
  const int irc = load_installed();
  if (irc != RAFT_OK) return irc;
  report_transitions();
  apply_or_save();
  if (storage_error_ != RAFT_OK) return storage_error_;
  // Published before the leader callback, so raft_node_status called from it
  // already shows the new term and role.
  publish_status();
  if (core_->leader() != reported_leader_) {
    reported_leader_ = core_->leader();
    if (cb_.leader != nullptr) cb_.leader(reported_leader_, user_);
  }
  // A save in steps continues at once; so does a turn cut short by a flood.
  if (next_deadline_ms != nullptr)
    *next_deadline_ms = more || saving_ ? now_ms : core_->next_deadline();
  return rc;
}

int Node::receive_messages(bool* more) {
  if (cb_.receive == nullptr) return RAFT_OK;
  for (int n = 0; n < kMaxMessagesPerTurn; ++n) {
    const void* msg = nullptr;
    std::size_t len = 0;
    const int got = cb_.receive(&msg, &len, user_);
    if (got == 0) return RAFT_OK;
    if (got < 0) {
      logf(RAFT_LOG_ERROR, "receive callback failed with %d", got);
      return fail(RAFT_ECALLBACK, "receive callback returned %d", got);
    }
    accept_frame(msg, len);
  }
  *more = true;
  return RAFT_OK;
}

namespace {

// Entry terms that a correct leader sends: at least 1, never above the
// message's term, never below the term of the entry before them (a log's
// terms only grow).  The wire format cannot express this; the log and the
// commit rule rely on it.
bool entry_terms_possible(const Message& m) {
  if (m.entries.empty()) return true;
  // Non-decreasing from the floor, so only the last can pass m.term.
  Term floor = std::max<Term>(m.prev_log_term, 1);
  for (const EntryView& e : m.entries) {
    if (e.term < floor) return false;
    floor = e.term;
  }
  return floor <= m.term;
}

}  // namespace

void Node::accept_frame(const void* msg, std::size_t len) {
  const auto* bytes = static_cast<const std::uint8_t*>(msg);
  wire::DecodeError err = wire::DecodeError::kTruncated;
  if (bytes != nullptr)
    err = wire::decode(bytes, len, limits_.cluster_id, limits_.max_frame_bytes, inbound_);
  const char* problem = nullptr;
  if (err != wire::DecodeError::kOk) {
    problem = wire::to_string(err);
  } else if (inbound_.to != core_->config().id) {
    problem = "addressed to another node";
  } else if (std::find(core_->config().peers.begin(), core_->config().peers.end(), inbound_.from) ==
             core_->config().peers.end()) {
    problem = "from a node that is not a peer";
  } else if (inbound_.type == MsgType::kAppendEntries && !entry_terms_possible(inbound_)) {
    problem = "entry terms out of order, zero or above the message's term";
  }
  if (problem != nullptr) {
    ++msgs_rejected_;
    // Log the first few and then only at powers of two: a flood of garbage
    // must not become a flood of log lines.
    if (msgs_rejected_ <= 8 || (msgs_rejected_ & (msgs_rejected_ - 1)) == 0)
      logf(RAFT_LOG_WARN, "rejected a %zu-byte message (%s); %llu rejected so far", len, problem,
           static_cast<unsigned long long>(msgs_rejected_));
    return;
  }
  ++msgs_received_;
  core_->step(inbound_);
}

int Node::persist() {
  if (storage_error_ != RAFT_OK) return storage_error_;  // failed during the turn
  if (memory_storage_) {
    // Nothing to write: the core's log is the only copy.
    core_->log_persisted();
    install_compact_ = 0;
    return RAFT_OK;
  }
  if (install_compact_ != 0) {
    const int rc = compact_after_install();
    if (rc != RAFT_OK) return rc;
  }
  const Index dirty = core_->log().dirty_from();
  const bool hard_state_changed =
      core_->term() != persisted_term_ || core_->voted_for() != persisted_vote_;
  if (dirty == 0 && !hard_state_changed) return RAFT_OK;
  // Hard state first: any prefix of these writes that survives a crash is
  // then consistent (no entry with a term above the stored term).
  if (hard_state_changed) {
    const int rc = storage_.save_hard_state(storage_.ctx, core_->term(), core_->voted_for());
    if (rc != RAFT_OK) return storage_failed("save_hard_state", rc);
  }
  if (dirty != 0) {
    if (dirty <= persisted_last_) {
      const int rc = storage_.truncate(storage_.ctx, dirty);
      if (rc != RAFT_OK) return storage_failed("truncate", rc);
    }
    const Index last = core_->log().last_index();
    if (last >= dirty) {
      to_persist_.clear();
      core::Log::Reader reader = core_->log().read_from(dirty);
      for (Index i = dirty; i <= last; ++i) {
        const EntryView e = reader.next();
        raft_entry r{};
        r.term = e.term;
        r.id = e.id;
        r.type = static_cast<std::uint32_t>(e.type);
        r.data = e.data;
        r.len = e.len;
        to_persist_.push_back(r);
      }
      const int rc = storage_.append(storage_.ctx, dirty, to_persist_.data(), to_persist_.size());
      if (rc != RAFT_OK) return storage_failed("append", rc);
    }
    persisted_last_ = last;
  }
  const int rc = storage_.sync(storage_.ctx);
  if (rc != RAFT_OK) return storage_failed("sync", rc);
  persisted_term_ = core_->term();
  persisted_vote_ = core_->voted_for();
  core_->log_persisted();
  return RAFT_OK;
}

int Node::storage_failed(const char* call, int rc) {
  if (rc >= 0) rc = RAFT_EIO;  // a positive code is still a failure
  const char* detail = builtin_storage_ ? storage::file_storage_error(storage_.ctx) : "";
  return halt_for_good(rc, std::string("storage ") + call + " failed (" + error_text(rc) + ")" +
                               (*detail ? ": " : "") + detail);
}

int Node::halt_for_good(int rc, const std::string& description) {
  if (storage_error_ != RAFT_OK) return storage_error_;  // already halted
  storage_error_ = rc;
  // What this turn produced depends on writes that may not be durable:
  // none of it may leave.  The node stops; recreating it reloads what is.
  clear_outbox();
  reports_.clear();
  logf(RAFT_LOG_ERROR, "%s; the node stops", description.c_str());
  if (reported_leader_ != 0 && cb_.leader != nullptr) cb_.leader(0, user_);
  reported_leader_ = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snapshot_.role = RAFT_FOLLOWER;
    snapshot_.leader = RAFT_NO_ID;
  }
  storage_failure_ = description;
  return fail(rc, "%s", storage_failure_.c_str());
}

void Node::send(const Message& m) {
  if (storage_error_ != RAFT_OK) return;  // halted: nothing more leaves
  const Message* msg = &m;
  if (m.type == MsgType::kInstallSnapshot) {
    if (!read_chunk(m)) return;
    msg = &chunk_msg_;
  }
  // AppendEntries batches do not come here while the node runs: they are
  // written from the log and shared by send_from_log().
  const std::size_t offset = out_bytes_.size();
  const std::size_t len = wire::encoded_size(*msg);
  wire::encode_into(*msg, limits_.cluster_id, out_bytes_.append(len));
  outbox_.push_back(Outgoing{m.to, offset, len});
}

bool Node::send_again(const Message& m, std::size_t count, const std::uint8_t* first_data) {
  if (storage_error_ != RAFT_OK) return false;  // halted: send() would drop it
  return reuse_frame(frame_key(m, count, first_data), m.to);
}

// The frame is written straight from the log: no entry list is built, and
// each entry is read once, as it is copied into the frame.
bool Node::send_from_log(const Message& m, const core::Log& log, std::size_t count,
                         std::size_t payload) {
  if (storage_error_ != RAFT_OK) return false;  // halted: send() would drop it
  const Index first = m.prev_log_index + 1;
  const SharedFrame key = frame_key(m, count, log.at(first).data);
  if (reuse_frame(key, m.to)) return true;
  const std::size_t offset = out_bytes_.size();
  const std::size_t len = wire::append_entries_frame_size(count, payload);
  std::uint8_t* const frame = out_bytes_.append(len);
  std::uint8_t* p = wire::begin_append_entries(m, limits_.cluster_id, count, payload, frame);
  log.visit_with_terms(
      first, first + count - 1,
      [&p](Term term, std::uint64_t id, bool noop, const std::uint8_t* data, std::size_t len) {
        p = wire::put_entry(p, term, noop ? EntryType::kNoop : EntryType::kCommand, id, data, len);
      });
  wire::seal(frame, len);
  outbox_.push_back(Outgoing{m.to, offset, len});
  // Only now that the frame is in the outbox may later sends point at it.
  shared_frames_.push_back(key);
  return true;
}

Node::SharedFrame Node::frame_key(const Message& m, std::size_t count,
                                  const std::uint8_t* first_data) const {
  return SharedFrame{m.term, m.prev_log_index, m.prev_log_term, m.commit,
                     count,  first_data,       outbox_.size()};
}

// Within a turn a leader's log only grows (it never rewrites its own
// entries, and a term change is part of the key), so two AppendEntries with
// the same term, position, count and commit index carry the same bytes.
bool Node::reuse_frame(const SharedFrame& key, NodeId to) {
  bool loose = false;  // the mutation self-test's deliberate bug
#ifdef RAFT_MUTANTS
  loose = (core_->config().mutants & core::kMutantShareLooseKey) != 0;
#endif
  // Followers at one position get their batches one follower after the
  // other, so a match lies at most a window of batches back: the scan is
  // bounded, so that a turn with thousands of peers stays linear.
  const std::size_t max_scan = core::shared_batch_window(core_->config().max_inflight);
  const auto stop = shared_frames_.size() > max_scan
                        ? shared_frames_.rbegin() + static_cast<std::ptrdiff_t>(max_scan)
                        : shared_frames_.rend();
  for (auto it = shared_frames_.rbegin(); it != stop; ++it) {
    const bool same_position =
        it->prev_log_index == key.prev_log_index && it->first_data == key.first_data;
    if (it->term == key.term && (same_position || loose) &&
        it->prev_log_term == key.prev_log_term && it->commit == key.commit &&
        it->entries == key.entries) {
      const Outgoing& first = outbox_[it->outbox_index];
      outbox_.push_back(Outgoing{to, first.offset, first.len});
      return true;
    }
  }
  return false;
}

void Node::deliver_outputs() {
  for (const Outgoing& o : outbox_) {
    ++msgs_sent_;
    std::uint8_t* frame = out_bytes_.data() + o.offset;
    // A shared frame still addressed to the previous follower (send's
    // message is only borrowed for the call, so it may be rewritten now).
    if (wire::le::load64(frame + wire::kOffTo) != o.to) wire::retarget(frame, o.len, o.to);
    cb_.send(o.to, frame, o.len, user_);
  }
  clear_outbox();
}

void Node::clear_outbox() {
  outbox_.clear();
  out_bytes_.clear();
  shared_frames_.clear();
}

void Node::transition(std::uint64_t id, core::Transition state) {
  reports_.push_back(Report{id, state});
}

void Node::report_transitions() {
  // Callbacks cannot add reports (only the core does, and only inside a
  // turn), so iterating while calling out is safe.
  for (const Report& r : reports_) {
    if (cb_.transition_state != nullptr)
      cb_.transition_state(r.id, static_cast<raft_transition_state>(r.state), user_);
  }
  reports_.clear();
}

void Node::apply_or_save() {
  if (saving_) {
    // The state must stay as of the snapshot's index until it is saved.
    if (continue_save() != RAFT_OK || saving_) return;
  }
  apply_committed();
  maybe_start_save();
}

void Node::apply_committed() {
  if (core_->applied_index() >= core_->commit_index()) return;
  // The callbacks cannot change the log: called from them, poll and run get
  // RAFT_EBUSY, and propose only queues.
  const core::Log& log = core_->log();
  const Index commit = core_->commit_index();
  if (core_->config().track_transitions) {
    // Each APPLIED report follows its own apply, before the next one.
    core::Log::Reader reader = log.read_from(core_->applied_index() + 1);
    for (Index index = core_->applied_index() + 1; index <= commit; ++index) {
      const EntryView e = reader.next();
      if (e.type == EntryType::kCommand) cb_.apply(e.id, e.data, e.len, user_);
      core_->applied(index);
      if (!reports_.empty()) report_transitions();
    }
    return;
  }
  // Nothing to report: the core learns the new applied index once, and the
  // walk keeps its state, the callback and its argument in registers across
  // the calls into user code.
  const auto apply = cb_.apply;
  void* const user = user_;
  log.visit(core_->applied_index() + 1, commit,
            [apply, user](std::uint64_t id, bool noop, const std::uint8_t* data, std::size_t len) {
              if (!noop) apply(id, data, len, user);
            });
  core_->applied(commit);
}

bool Node::log_enabled(core::LogLevel level) const {
  return cb_.log != nullptr && to_c(level) <= limits_.log_level;
}

void Node::log(core::LogLevel level, const char* text) { cb_.log(to_c(level), text, user_); }

void Node::publish_status() {
  // What a leader has appended and not yet committed (a follower's
  // proposals are refused by the core: they hold nothing back).
  const core::Log& log = core_->log();
  const std::uint64_t uncommitted =
      core_->role() == core::Role::kLeader ? log.payload_after(core_->commit_index()) : 0;
  std::lock_guard<std::mutex> lock(mu_);
  uncommitted_ = uncommitted;
  snapshot_.role = static_cast<raft_role>(core_->role());
  snapshot_.term = core_->term();
  snapshot_.leader = core_->leader();
  snapshot_.commit_index = core_->commit_index();
  snapshot_.applied_index = core_->applied_index();
  snapshot_.last_index = core_->log().last_index();
  snapshot_.snapshot_index = core_->snapshot().index;
  snapshot_.msgs_sent = msgs_sent_;
  snapshot_.msgs_received = msgs_received_;
  snapshot_.msgs_rejected = msgs_rejected_;
  snapshot_.elections_started = core_->elections_started();
}

}  // namespace raft::node
