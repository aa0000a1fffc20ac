// libraft: header-only C++17 wrapper over the C ABI in raft.h.
// SPDX-License-Identifier: MIT
//
// Everything here is inline: the wrapper adds no symbols to libraft and has no
// ABI of its own; only raft.h is the stable contract.  See docs/cpp-wrapper.md.
//
//   raft::Replica r(raft::Options(1).peers({2, 3}), my_state_machine, my_cluster);
//   r.run();  // or r.poll(now_ms) from an event loop
//
// Exceptions: a C call that fails throws raft::error (a std::system_error whose
// code() is in raft::category()).  Expected conditions are return values: a full
// proposal queue makes propose() return false and propose_batch() a short count.
// An exception thrown by user code inside a callback never crosses into C: it is
// caught, kept, and rethrown by the run()/poll() call that made the callback.
#ifndef RAFT_HPP
#define RAFT_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "raft.h"

namespace raft {

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// The RAFT_E* codes.  Values are the C codes, so static_cast<int> gives the C value.
enum class errc : int {
  kInvalid = -1,        ///< RAFT_EINVAL
  kNoMemory = -2,       ///< RAFT_ENOMEM
  kNotLeader = -3,      ///< RAFT_ENOTLEADER
  kBusy = -4,           ///< RAFT_EBUSY
  kShutdown = -5,       ///< RAFT_ESHUTDOWN
  kIo = -6,             ///< RAFT_EIO
  kCorrupt = -7,        ///< RAFT_ECORRUPT
  kTooBig = -8,         ///< RAFT_ETOOBIG
  kCallback = -9,       ///< RAFT_ECALLBACK
  kVersion = -10,       ///< RAFT_EVERSION
  kInternal = -11,      ///< RAFT_EINTERNAL
  kNotSupported = -12,  ///< RAFT_ENOTSUP
};

// The literals above are checked against raft.h so the two cannot drift apart.
static_assert(static_cast<int>(errc::kInvalid) == RAFT_EINVAL, "errc drift");
static_assert(static_cast<int>(errc::kNoMemory) == RAFT_ENOMEM, "errc drift");
static_assert(static_cast<int>(errc::kNotLeader) == RAFT_ENOTLEADER, "errc drift");
static_assert(static_cast<int>(errc::kBusy) == RAFT_EBUSY, "errc drift");
static_assert(static_cast<int>(errc::kShutdown) == RAFT_ESHUTDOWN, "errc drift");
static_assert(static_cast<int>(errc::kIo) == RAFT_EIO, "errc drift");
static_assert(static_cast<int>(errc::kCorrupt) == RAFT_ECORRUPT, "errc drift");
static_assert(static_cast<int>(errc::kTooBig) == RAFT_ETOOBIG, "errc drift");
static_assert(static_cast<int>(errc::kCallback) == RAFT_ECALLBACK, "errc drift");
static_assert(static_cast<int>(errc::kVersion) == RAFT_EVERSION, "errc drift");
static_assert(static_cast<int>(errc::kInternal) == RAFT_EINTERNAL, "errc drift");
static_assert(static_cast<int>(errc::kNotSupported) == RAFT_ENOTSUP, "errc drift");

namespace hpp_detail {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "raft"; }
  std::string message(int code) const override { return raft_strerror(code); }
  // Lets portable code test `ec == std::errc::invalid_argument` without knowing raft codes.
  std::error_condition default_error_condition(int code) const noexcept override {
    switch (code) {
      case RAFT_EINVAL:
        return std::errc::invalid_argument;
      case RAFT_ENOMEM:
        return std::errc::not_enough_memory;
      case RAFT_EIO:
        return std::errc::io_error;
      case RAFT_ETOOBIG:
        return std::errc::message_size;
      case RAFT_ENOTSUP:
        return std::errc::not_supported;
      default:
        return std::error_condition(code, *this);
    }
  }
};

}  // namespace hpp_detail

/// The error category of every raft::errc; message() is raft_strerror().
inline const std::error_category& category() noexcept {
  static const hpp_detail::Category instance;
  return instance;
}

/// Found by ADL: makes `std::error_code ec = raft::errc::kBusy;` work.
inline std::error_code make_error_code(errc e) noexcept {
  return std::error_code(static_cast<int>(e), category());
}

/// Thrown when a C call fails.  what() holds raft_node_errmsg() detail when there is one.
class error : public std::system_error {
 public:
  explicit error(int code) : std::system_error(code, category()) {}
  /// what() becomes "detail: <raft_strerror(code)>".
  error(int code, const std::string& detail) : std::system_error(code, category(), detail) {}
  /// The code as the enum (values outside the enum are codes newer than this header).
  errc value() const noexcept { return static_cast<errc>(code().value()); }
};

}  // namespace raft

namespace std {
template <>
struct is_error_code_enum<raft::errc> : true_type {};
}  // namespace std

namespace raft {

/// RAFT_NO_ID without the macro's C cast (which -Wold-style-cast flags in C++).
inline constexpr raft_id kNoId = 0;

// ---------------------------------------------------------------------------
// Enums mirroring raft.h
// ---------------------------------------------------------------------------

/// A replica's role (raft_role).
enum class Role : int { kFollower = 1, kPreCandidate = 2, kCandidate = 3, kLeader = 4 };
static_assert(static_cast<int>(Role::kFollower) == RAFT_FOLLOWER, "Role drift");
static_assert(static_cast<int>(Role::kPreCandidate) == RAFT_PRE_CANDIDATE, "Role drift");
static_assert(static_cast<int>(Role::kCandidate) == RAFT_CANDIDATE, "Role drift");
static_assert(static_cast<int>(Role::kLeader) == RAFT_LEADER, "Role drift");

/// Progress of a transition proposed on this replica (raft_transition_state).
enum class TransitionState : int {
  kQueued = 1,
  kCommitted = 2,
  kApplied = 3,
  kAbandonedNotLeader = 4,
  kAbandonedConflict = 5,
  /// The log was replaced by a leader's snapshot before the position was decided
  /// here: ask the state machine whether it holds the transition.
  kUnknown = 6,
};
static_assert(static_cast<int>(TransitionState::kQueued) == RAFT_TRANSITION_QUEUED, "drift");
static_assert(static_cast<int>(TransitionState::kCommitted) == RAFT_TRANSITION_COMMITTED, "drift");
static_assert(static_cast<int>(TransitionState::kApplied) == RAFT_TRANSITION_APPLIED, "drift");
static_assert(static_cast<int>(TransitionState::kAbandonedNotLeader) ==
                  RAFT_TRANSITION_ABANDONED_NOT_LEADER,
              "drift");
static_assert(static_cast<int>(TransitionState::kAbandonedConflict) ==
                  RAFT_TRANSITION_ABANDONED_CONFLICT,
              "drift");
static_assert(static_cast<int>(TransitionState::kUnknown) == RAFT_TRANSITION_UNKNOWN, "drift");

/// Diagnostic levels (raft_log_level).
enum class LogLevel : int { kError = 1, kWarn = 2, kInfo = 3, kDebug = 4 };
static_assert(static_cast<int>(LogLevel::kError) == RAFT_LOG_ERROR, "LogLevel drift");
static_assert(static_cast<int>(LogLevel::kWarn) == RAFT_LOG_WARN, "LogLevel drift");
static_assert(static_cast<int>(LogLevel::kInfo) == RAFT_LOG_INFO, "LogLevel drift");
static_assert(static_cast<int>(LogLevel::kDebug) == RAFT_LOG_DEBUG, "LogLevel drift");

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

/// Replica configuration as a value type that owns its peer list and data directory.
/// Starts from raft_options_init(), so defaults of the linked library flow through.
/// Setters return *this:  raft::Options(1).peers({2, 3}).heartbeat_ms(20)
class Options {
 public:
  /// Library defaults; id 0 (which raft_node_create refuses until id() is set).
  Options() noexcept { raft_options_init(&base_); }
  explicit Options(raft_id id) noexcept : Options() { base_.id = id; }

  Options& id(raft_id v) noexcept {
    base_.id = v;
    return *this;
  }
  /// The other voters, not including this replica's id.
  Options& peers(std::vector<raft_id> v) {
    peers_ = std::move(v);
    return *this;
  }
  Options& heartbeat_ms(std::uint32_t v) noexcept {
    base_.heartbeat_ms = v;
    return *this;
  }
  Options& election_timeout_ms(std::uint32_t min, std::uint32_t max) noexcept {
    base_.election_timeout_min_ms = min;
    base_.election_timeout_max_ms = max;
    return *this;
  }
  /// Empty (the default) means memory only, passed to C as NULL.
  Options& data_dir(std::string v) {
    data_dir_ = std::move(v);
    return *this;
  }
  Options& cluster_id(std::uint64_t v) noexcept {
    base_.cluster_id = v;
    return *this;
  }
  Options& random_seed(std::uint64_t v) noexcept {
    base_.random_seed = v;
    return *this;
  }
  Options& pre_vote(bool v) noexcept {
    base_.pre_vote = v ? 1 : 0;
    return *this;
  }
  Options& check_quorum(bool v) noexcept {
    base_.check_quorum = v ? 1 : 0;
    return *this;
  }
  Options& max_batch_bytes(std::uint32_t v) noexcept {
    base_.max_batch_bytes = v;
    return *this;
  }
  Options& max_inflight(std::uint32_t v) noexcept {
    base_.max_inflight = v;
    return *this;
  }
  Options& max_entry_bytes(std::uint32_t v) noexcept {
    base_.max_entry_bytes = v;
    return *this;
  }
  Options& max_queue_bytes(std::uint64_t v) noexcept {
    base_.max_queue_bytes = v;
    return *this;
  }
  /// A leader's proposals not yet committed (queued plus in its log beyond the commit index):
  /// beyond this, propose fails with Errc::busy, so lagging followers cannot make it grow
  /// its log without bound.
  Options& max_uncommitted_bytes(std::uint64_t v) noexcept {
    base_.max_uncommitted_bytes = v;
    return *this;
  }
  Options& log_level(LogLevel v) noexcept {
    base_.log_level = static_cast<raft_log_level>(v);
    return *this;
  }
  /// Take a snapshot every this many applied entries; 0 (the default) never.
  /// Needs snapshot callbacks (a Snapshotter).
  Options& snapshot_interval(std::uint64_t v) noexcept {
    base_.snapshot_interval = v;
    return *this;
  }
  /// Entries kept in the log behind a snapshot, so slightly slow followers need none.
  Options& snapshot_trailing(std::uint64_t v) noexcept {
    base_.snapshot_trailing = v;
    return *this;
  }
  /// Snapshot bytes per message to a follower that needs the whole snapshot.
  Options& max_snapshot_chunk_bytes(std::uint32_t v) noexcept {
    base_.max_snapshot_chunk_bytes = v;
    return *this;
  }
  /// run() only: after a turn that sent or received messages, keep checking this many
  /// microseconds for new work before sleeping; 0 sleeps at once, at most 10000.
  Options& busy_poll_us(std::uint32_t v) noexcept {
    base_.busy_poll_us = v;
    return *this;
  }

  raft_id id() const noexcept { return base_.id; }
  const std::vector<raft_id>& peers() const noexcept { return peers_; }
  const std::string& data_dir() const noexcept { return data_dir_; }

  /// The underlying struct, for fields this header does not wrap yet.  Its peers,
  /// n_peers and data_dir are ignored: to_c() fills them from this object.
  raft_options& raw() noexcept { return base_; }
  const raft_options& raw() const noexcept { return base_; }

  /// The C view.  Its pointers refer into *this: valid while *this lives unmodified.
  raft_options to_c() const& noexcept {
    raft_options o = base_;
    o.peers = peers_.empty() ? nullptr : peers_.data();
    o.n_peers = peers_.size();
    o.data_dir = data_dir_.empty() ? nullptr : data_dir_.c_str();
    return o;
  }
  raft_options to_c() const&& = delete;  // would dangle at once

 private:
  raft_options base_;
  std::vector<raft_id> peers_;
  std::string data_dir_;
};

// ---------------------------------------------------------------------------
// Snapshot streams
// ---------------------------------------------------------------------------

/// Appends to the snapshot being saved.  Valid only during the save_snapshot call
/// it is given to (the C handle dies with the call).
class SnapshotWriter {
 public:
  explicit SnapshotWriter(raft_snapshot_writer* w) noexcept : w_(w) {}
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  /// Throws raft::error: a storage failure (the snapshot is then given up whatever
  /// save_snapshot returns), or kInvalid for null data with len > 0.
  void write(const void* data, std::size_t len) {
    const int rc = raft_snapshot_write(w_, data, len);
    if (rc != RAFT_OK) throw error(rc, "raft_snapshot_write");
  }
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

  raft_snapshot_writer* native_handle() const noexcept { return w_; }

 private:
  raft_snapshot_writer* w_;
};

/// Reads the snapshot being loaded.  Valid only during the load_snapshot call it is
/// given to.
class SnapshotReader {
 public:
  explicit SnapshotReader(raft_snapshot_reader* r) noexcept : r_(r) {}
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  /// Up to cap bytes into buf; 0 at the end.  Throws raft::error: kCorrupt when the
  /// bytes fail their checksum (reported at the end), kIo on a storage failure.
  std::size_t read(void* buf, std::size_t cap) {
    const std::int64_t got = raft_snapshot_read(r_, buf, cap);
    if (got < 0) throw error(static_cast<int>(got), "raft_snapshot_read");
    return static_cast<std::size_t>(got);
  }
  /// Everything left, checked against the checksum.
  std::string read_all() {
    std::string out;
    std::size_t used = 0;
    for (;;) {
      out.resize(used + kStep);
      const std::size_t got = read(&out[used], kStep);
      used += got;
      if (got == 0) break;
    }
    out.resize(used);
    return out;
  }

  raft_snapshot_reader* native_handle() const noexcept { return r_; }

 private:
  static constexpr std::size_t kStep = 64 * 1024;
  raft_snapshot_reader* r_;
};

/// What save_snapshot returns when it did not throw.
enum class SnapshotProgress {
  kDone,  ///< everything is written: libraft commits the snapshot and compacts the log
  kMore,  ///< call again in the next turn (RAFT_SNAPSHOT_MORE); nothing is applied meanwhile
};

// ---------------------------------------------------------------------------
// User interfaces (little_raft's StateMachine and Cluster traits)
// ---------------------------------------------------------------------------

/// Saving and loading the state machine as a whole: implement it (usually through
/// SnapshottingStateMachine) to use Options::snapshot_interval and to let the replica
/// install a leader's snapshot.  Called on the thread inside run()/poll(), and from
/// the Replica constructor for the load of a restart.
class Snapshotter {
 public:
  virtual ~Snapshotter() = default;
  /// Write the state as it is now -- every transition up to `index` applied, none
  /// after.  kMore asks for another call in the next turn (a large state saved in
  /// steps while heartbeats flow).  An exception gives this snapshot up (libraft
  /// tries again one interval later) and is rethrown by run()/poll().
  virtual SnapshotProgress save_snapshot(SnapshotWriter& w, std::uint64_t index) = 0;
  /// Replace the whole state with the snapshot, which covers every transition up
  /// to `index`.  An exception stops the replica (its state is unknown) and is
  /// rethrown by the call that made it (run()/poll(), or the constructor).
  virtual void load_snapshot(SnapshotReader& r, std::uint64_t index) = 0;
};

/// The replicated state machine.  Called on the thread inside run()/poll().
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  /// The object's snapshot side, or null (the default): no snapshots.  Derive
  /// from SnapshottingStateMachine, or from Snapshotter too and return `this`.
  virtual Snapshotter* snapshotter() noexcept { return nullptr; }
  /// A committed transition, in the same log order on every replica.  `data` is
  /// borrowed for the duration of the call.
  virtual void apply_transition(std::uint64_t id, const void* data, std::size_t len) = 0;
  /// Progress of a transition proposed on this replica.
  virtual void register_transition_state(std::uint64_t id, TransitionState state) {
    (void)id;
    (void)state;
  }
};

/// A StateMachine that receives transitions as std::string_view (any bytes, not just text).
class StringStateMachine : public StateMachine {
 public:
  /// `data` is borrowed for the duration of the call.
  virtual void apply(std::uint64_t id, std::string_view data) = 0;
  void apply_transition(std::uint64_t id, const void* data, std::size_t len) final {
    apply(id, std::string_view(static_cast<const char*>(data), len));
  }
};

/// A StateMachine that takes part in snapshots.
class SnapshottingStateMachine : public StateMachine, public Snapshotter {
 public:
  Snapshotter* snapshotter() noexcept final { return this; }
};

/// The transport to the other replicas.  Called on the thread inside run()/poll().
class Cluster {
 public:
  virtual ~Cluster() = default;
  /// Deliver bytes to replica `to`, best effort, without blocking.  `data` is
  /// borrowed: copy what you keep.
  virtual void send_message(raft_id to, const void* data, std::size_t len) = 0;
  /// Set *data/*len to the next inbound message and return true, or return false
  /// when there is none.  The buffer must stay valid until the next call.
  virtual bool receive_message(const void** data, std::size_t* len) = 0;
  /// Checked by run() after every turn; true makes run() return.
  virtual bool halt() { return false; }
  /// The known leader changed; nullopt when unknown.
  virtual void register_leader(std::optional<raft_id> leader) { (void)leader; }
};

/// The same hooks as std::function members, for lambda users.  Empty members are
/// not registered with the C library (so apply is required, and send/receive are
/// required when there are peers, exactly as raft_node_create checks).
struct Callbacks {
  /// Required.  A committed transition; the view is valid only during the call.
  std::function<void(std::uint64_t id, std::string_view data)> apply;
  std::function<void(std::uint64_t id, TransitionState state)> transition_state;
  /// The view is valid only during the call.
  std::function<void(raft_id to, std::string_view msg)> send;
  /// The next inbound message, or nullopt.  Its bytes must stay valid until the next call.
  std::function<std::optional<std::string_view>()> receive;
  std::function<bool()> halt;
  std::function<void(std::optional<raft_id> leader)> leader;
  std::function<void(LogLevel level, std::string_view line)> log;
  /// Set both or neither (see Snapshotter).
  std::function<SnapshotProgress(SnapshotWriter& w, std::uint64_t index)> snapshot_save;
  std::function<void(SnapshotReader& r, std::uint64_t index)> snapshot_load;

  /// Callbacks forwarding to the interfaces, which must outlive the Replica.
  /// Without a cluster, send/receive stay empty (fine for a single-node cluster).
  static Callbacks from(StateMachine& sm, Cluster* cluster = nullptr) {
    Callbacks cb;
    cb.apply = [&sm](std::uint64_t id, std::string_view d) {
      sm.apply_transition(id, d.data(), d.size());
    };
    cb.transition_state = [&sm](std::uint64_t id, TransitionState s) {
      sm.register_transition_state(id, s);
    };
    if (Snapshotter* snap = sm.snapshotter()) {
      cb.snapshot_save = [snap](SnapshotWriter& w, std::uint64_t index) {
        return snap->save_snapshot(w, index);
      };
      cb.snapshot_load = [snap](SnapshotReader& r, std::uint64_t index) {
        snap->load_snapshot(r, index);
      };
    }
    if (cluster != nullptr) {
      Cluster& c = *cluster;
      cb.send = [&c](raft_id to, std::string_view m) { c.send_message(to, m.data(), m.size()); };
      cb.receive = [&c]() -> std::optional<std::string_view> {
        const void* data = nullptr;
        std::size_t len = 0;
        if (!c.receive_message(&data, &len)) return std::nullopt;
        return std::string_view(static_cast<const char*>(data), len);
      };
      cb.halt = [&c] { return c.halt(); };
      cb.leader = [&c](std::optional<raft_id> l) { c.register_leader(l); };
    }
    return cb;
  }
};

// ---------------------------------------------------------------------------
// Replica
// ---------------------------------------------------------------------------

namespace hpp_detail {

// Heap-allocated so that its address, the C `user` pointer, survives moves of
// the Replica.  Touched only by the thread driving the node (callbacks run there).
struct Context {
  Callbacks cb;
  raft_node* node = nullptr;
  std::exception_ptr pending;  // the first exception a callback threw in this C call
  bool poisoned = false;       // apply threw: this state machine has a hole
  bool creating = false;
  std::string create_error;  // raft_node_create reports its reason only through log
  int create_error_level = 0;

  static Context& of(void* user) noexcept { return *static_cast<Context*>(user); }
  static std::string_view view(const void* p, std::size_t n) noexcept {
    return std::string_view(static_cast<const char*>(p), n);
  }
  void keep(std::exception_ptr e) noexcept {
    if (!pending) pending = std::move(e);
  }

  // Every trampoline is noexcept: should anything escape the catch, the program
  // terminates instead of unwinding through C frames.
  static void apply(std::uint64_t id, const void* data, std::size_t len, void* user) noexcept {
    Context& c = of(user);
    // Building on a state machine that already missed an entry would only hide the bug.
    if (c.poisoned) return;
    try {
      c.cb.apply(id, view(data, len));
    } catch (...) {
      c.keep(std::current_exception());
      c.poisoned = true;
      raft_node_stop(c.node);  // later calls fail with ESHUTDOWN, from every thread
    }
  }
  static void transition_state(std::uint64_t id, raft_transition_state s, void* user) noexcept {
    Context& c = of(user);
    try {
      c.cb.transition_state(id, static_cast<TransitionState>(s));
    } catch (...) {
      c.keep(std::current_exception());
    }
  }
  static void send(raft_id to, const void* msg, std::size_t len, void* user) noexcept {
    Context& c = of(user);
    try {
      c.cb.send(to, view(msg, len));
    } catch (...) {
      c.keep(std::current_exception());
    }
  }
  static int receive(const void** msg, std::size_t* len, void* user) noexcept {
    Context& c = of(user);
    try {
      std::optional<std::string_view> m = c.cb.receive();
      if (!m) return 0;
      *msg = m->data();
      *len = m->size();
      return 1;
    } catch (...) {
      c.keep(std::current_exception());
      return -1;  // poll returns RAFT_ECALLBACK; the wrapper rethrows the original instead
    }
  }
  static int snapshot_save(raft_snapshot_writer* w, std::uint64_t index, void* user) noexcept {
    Context& c = of(user);
    try {
      SnapshotWriter writer(w);
      return c.cb.snapshot_save(writer, index) == SnapshotProgress::kMore ? RAFT_SNAPSHOT_MORE
                                                                          : RAFT_OK;
    } catch (...) {
      c.keep(std::current_exception());
      return RAFT_ECALLBACK;  // libraft gives this snapshot up and tries again later
    }
  }
  static int snapshot_load(raft_snapshot_reader* r, std::uint64_t index, void* user) noexcept {
    Context& c = of(user);
    try {
      SnapshotReader reader(r);
      c.cb.snapshot_load(reader, index);
      return RAFT_OK;
    } catch (...) {
      c.keep(std::current_exception());
      c.poisoned = true;  // libraft stops the node: apply nothing to a half-loaded state
      return RAFT_ECALLBACK;
    }
  }
  static int halt(void* user) noexcept {
    Context& c = of(user);
    if (c.pending) return 1;  // let run() return so the exception can be rethrown
    if (!c.cb.halt) return 0;
    try {
      return c.cb.halt() ? 1 : 0;
    } catch (...) {
      c.keep(std::current_exception());
      return 1;
    }
  }
  static void leader(raft_id id, void* user) noexcept {
    Context& c = of(user);
    try {
      c.cb.leader(id == kNoId ? std::nullopt : std::optional<raft_id>(id));
    } catch (...) {
      c.keep(std::current_exception());
    }
  }
  static void log(raft_log_level level, const char* msg, void* user) noexcept {
    Context& c = of(user);
    try {
      // Keep the first line of the most severe level: that is the reason.
      if (c.creating && (c.create_error.empty() || level < c.create_error_level)) {
        c.create_error = msg;
        c.create_error_level = level;
      }
      if (c.cb.log) c.cb.log(static_cast<LogLevel>(level), msg);
    } catch (...) {
      c.keep(std::current_exception());
    }
  }

  raft_callbacks to_c() const noexcept {
    raft_callbacks r;
    raft_callbacks_init(&r);
    if (cb.apply) r.apply = &Context::apply;
    if (cb.transition_state) r.transition_state = &Context::transition_state;
    if (cb.send) r.send = &Context::send;
    if (cb.receive) r.receive = &Context::receive;
    r.halt = &Context::halt;  // always: a pending exception must stop run()
    if (cb.leader) r.leader = &Context::leader;
    r.log = &Context::log;  // always: it carries raft_node_create's failure reason
    if (cb.snapshot_save) r.snapshot_save = &Context::snapshot_save;
    if (cb.snapshot_load) r.snapshot_load = &Context::snapshot_load;
    return r;
  }

  void rethrow_pending() {
    if (std::exception_ptr e = std::exchange(pending, nullptr)) std::rethrow_exception(e);
  }
};

struct NodeDeleter {
  void operator()(raft_node* n) const noexcept { raft_node_destroy(n); }
};

[[noreturn]] inline void fail(int rc, const std::string& detail) {
  if (detail.empty()) throw error(rc);
  throw error(rc, detail);
}

inline void check(int rc, const raft_node* node) {
  // Copy the detail now: it lives only until the next call on the node.
  if (rc != RAFT_OK) fail(rc, raft_node_errmsg(node));
}

}  // namespace hpp_detail

/// One transition of a batch for Replica::propose_batch (the arguments of one
/// propose()).  `data` is only read during the call: the library copies it.
struct Proposal {
  std::uint64_t id = 0;
  std::string_view data;
};

/// One Raft replica: a move-only owner of a raft_node.
///
/// Lifetime: never destroy or assign to a Replica from inside one of its own
/// callbacks, nor while another thread is inside its run()/poll(): stop() it and
/// join that thread first.  A moved-from Replica is empty: native_handle() is
/// null and run/poll/propose/status throw raft::error(errc::kInvalid).
class Replica {
 public:
  /// An empty replica.
  Replica() noexcept = default;

  /// Create a replica.  Throws raft::error (EINVAL, EVERSION, ENOMEM) with the reason.
  Replica(const Options& options, Callbacks callbacks)
      : ctx_(std::make_unique<hpp_detail::Context>()) {
    ctx_->cb = std::move(callbacks);
    const raft_options opt = options.to_c();
    const raft_callbacks cb = ctx_->to_c();
    raft_node* node = nullptr;
    ctx_->creating = true;
    const int rc = raft_node_create(&node, &opt, &cb, ctx_.get());
    ctx_->creating = false;
    node_.reset(node);
    ctx_->node = node;
    if (ctx_->pending) {
      node_.reset();
      ctx_->rethrow_pending();
    }
    if (rc != RAFT_OK) {
      node_.reset();
      hpp_detail::fail(rc, ctx_->create_error);
    }
  }
  /// Interfaces instead of lambdas; `sm` and `cluster` must outlive the Replica.
  Replica(const Options& options, StateMachine& sm, Cluster& cluster)
      : Replica(options, Callbacks::from(sm, &cluster)) {}
  /// A single-node cluster needs no transport.
  Replica(const Options& options, StateMachine& sm) : Replica(options, Callbacks::from(sm)) {}

  Replica(Replica&&) noexcept = default;
  Replica& operator=(Replica&& other) noexcept {
    if (this != &other) {
      reset();  // the old node goes before its context: it may still call back while dying
      ctx_ = std::move(other.ctx_);
      node_ = std::move(other.node_);
    }
    return *this;
  }
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;
  ~Replica() = default;  // node_ is declared after ctx_, so it is destroyed first

  /// Destroy the node now; the replica becomes empty.
  void reset() noexcept {
    node_.reset();
    ctx_.reset();
  }

  /// Drive the node on this thread until halt() is true or stop() is called.
  /// Rethrows an exception thrown by a callback; throws raft::error on failure.
  void run() {
    const int rc = raft_node_run(node_.get());
    finish(rc);
  }

  /// One turn at `now_ms` (a monotonic millisecond clock).  Returns the time by
  /// which to poll again; poll sooner when a message arrives.  Rethrows an
  /// exception thrown by a callback; throws raft::error on failure.
  std::uint64_t poll(std::uint64_t now_ms) {
    std::uint64_t next = 0;
    const int rc = raft_node_poll(node_.get(), now_ms, &next);
    finish(rc);
    return next;
  }

  /// Any thread.  Queue a transition (`data` is copied).  Returns false when the
  /// queue is full (retry after the loop has run).  Throws raft::error on EINVAL,
  /// ETOOBIG, ESHUTDOWN, ENOMEM.
  [[nodiscard]] bool propose(std::uint64_t id, const void* data, std::size_t len) {
    const int rc = raft_node_propose(node_.get(), id, data, len);
    // Expected, transient conditions: the caller retries, so no exception.
    if (rc == RAFT_EBUSY || rc == RAFT_ENOTLEADER) return false;
    hpp_detail::check(rc, node_.get());
    return true;
  }
  [[nodiscard]] bool propose(std::uint64_t id, std::string_view data) {
    return propose(id, data.data(), data.size());
  }

  /// Any thread.  Queue proposals[0..n) in order, as propose() would one by one,
  /// under one lock of the node (raft_node_propose_batch); the bytes are copied.
  /// Returns how many were queued: a prefix, up to the first proposal that could
  /// not be.  A short count is not an exception: resubmit the rest (after the loop
  /// has run when the queue was full); a proposal that cannot be queued at all
  /// then throws, as the first of its batch.  Throws raft::error only when nothing
  /// was queued, for what propose() throws on (EINVAL, ETOOBIG, ESHUTDOWN, ENOMEM);
  /// a full queue at the first proposal returns 0, as propose() returns false.
  [[nodiscard]] std::size_t propose_batch(const Proposal* proposals, std::size_t n) {
    constexpr std::size_t kOnStack = 16;  // small batches: no heap allocation
    if (n <= kOnStack) {
      raft_proposal buf[kOnStack];
      return propose_batch_via(proposals, n, buf);
    }
    std::vector<raft_proposal> buf(n);
    return propose_batch_via(proposals, n, buf.data());
  }
  [[nodiscard]] std::size_t propose_batch(const std::vector<Proposal>& proposals) {
    return propose_batch(proposals.data(), proposals.size());
  }

  /// Any thread.  Messages may be waiting: wake run().
  void notify() noexcept { raft_node_notify(node_.get()); }
  /// Any thread.  Make run() return; later calls throw errc::kShutdown.  Idempotent.
  void stop() noexcept { raft_node_stop(node_.get()); }

  /// Any thread.  The state as of the end of the last turn.
  [[nodiscard]] raft_status status() const {
    raft_status st;
    raft_status_init(&st);
    hpp_detail::check(raft_node_status(node_.get(), &st), node_.get());
    return st;
  }
  [[nodiscard]] Role role() const { return static_cast<Role>(status().role); }
  /// The known leader, or nullopt.
  [[nodiscard]] std::optional<raft_id> leader() const {
    const raft_id l = status().leader;
    return l == kNoId ? std::nullopt : std::optional<raft_id>(l);
  }

  /// The C handle, still owned by this object (null when empty).
  [[nodiscard]] raft_node* native_handle() const noexcept { return node_.get(); }
  explicit operator bool() const noexcept { return node_ != nullptr; }

 private:
  std::size_t propose_batch_via(const Proposal* proposals, std::size_t n, raft_proposal* buf) {
    if (proposals != nullptr) {
      for (std::size_t i = 0; i < n; i++)
        buf[i] = raft_proposal{proposals[i].id, proposals[i].data.data(), proposals[i].data.size()};
    }
    std::size_t queued = 0;
    const int rc =
        raft_node_propose_batch(node_.get(), proposals != nullptr ? buf : nullptr, n, &queued);
    // As propose(): a full queue is expected, not exceptional.  Once something
    // was queued the count must reach the caller, so no exception either.
    if (queued > 0 || rc == RAFT_EBUSY || rc == RAFT_ENOTLEADER) return queued;
    hpp_detail::check(rc, node_.get());
    return 0;
  }

  void finish(int rc) {
    // EBUSY means another thread is driving the node (or this is a re-entrant
    // call from a callback): the pending slot belongs to that call, leave it.
    if (rc != RAFT_EBUSY && ctx_) ctx_->rethrow_pending();
    hpp_detail::check(rc, node_.get());
  }

  std::unique_ptr<hpp_detail::Context> ctx_;
  std::unique_ptr<raft_node, hpp_detail::NodeDeleter> node_;  // after ctx_: destroyed first
};

}  // namespace raft

#endif  // RAFT_HPP
