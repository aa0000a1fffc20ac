/*
 * libraft: a small, fast Raft consensus library with a stable C ABI.
 * SPDX-License-Identifier: MIT
 *
 * The user runs a replicated state machine: libraft orders transitions (opaque
 * byte strings with a caller-chosen 64-bit id) through Raft and hands them, in
 * the same order on every replica, to the user's apply callback.
 *
 * Threading
 * ---------
 * A raft_node is driven by exactly one thread at a time: the thread inside
 * raft_node_run() or raft_node_poll().  All callbacks run on that thread, never
 * on an internal thread (libraft starts none).  These functions are safe from
 * any thread, including from inside a callback:
 *     raft_node_propose, raft_node_propose_batch, raft_node_notify,
 *     raft_node_stop, raft_node_status.
 * raft_node_run, raft_node_poll and raft_node_destroy called from inside a
 * callback of the same node return RAFT_EBUSY (destroy does nothing then).
 * Different nodes may be used concurrently from different threads; libraft has
 * no global state.  raft_strerror and raft_version_* are always thread-safe.
 *
 * Memory
 * ------
 * Every pointer passed to a callback is borrowed: it is valid only for the
 * duration of that call.  Every pointer passed into libraft (options, peers,
 * proposal data) is copied before the function returns.  libraft never
 * returns memory that the caller must free.
 *
 * Errors
 * ------
 * Functions return RAFT_OK (0) or a negative RAFT_E* code.  The codes are fixed
 * forever.  raft_strerror() describes a code; raft_node_errmsg() gives the
 * detail of the last error on a node.  No C++ exception ever leaves libraft.
 */
#ifndef RAFT_H
#define RAFT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(RAFT_BUILDING_DLL)
#define RAFT_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define RAFT_API __attribute__((visibility("default")))
#else
#define RAFT_API
#endif

/* ------------------------------------------------------------------ */
/* Version                                                            */
/* ------------------------------------------------------------------ */

#define RAFT_VERSION_MAJOR 0
#define RAFT_VERSION_MINOR 1
#define RAFT_VERSION_PATCH 0
/* MAJOR*10000 + MINOR*100 + PATCH, as zstd does: 0.1.0 is 100. */
#define RAFT_VERSION_NUMBER \
  (RAFT_VERSION_MAJOR * 10000 + RAFT_VERSION_MINOR * 100 + RAFT_VERSION_PATCH)

/* The version of the library actually loaded (may differ from the header). */
RAFT_API uint32_t raft_version_number(void);
/* "0.1.0"; a static string, never NULL. */
RAFT_API const char* raft_version_string(void);

/* ------------------------------------------------------------------ */
/* Errors (negative, fixed forever; new codes are only appended)      */
/* ------------------------------------------------------------------ */

#define RAFT_OK 0
#define RAFT_EINVAL (-1)     /* an argument or option is invalid */
#define RAFT_ENOMEM (-2)     /* out of memory */
#define RAFT_ENOTLEADER (-3) /* this replica is not the leader */
#define RAFT_EBUSY (-4)      /* re-entrant call, or a queue is full: retry later */
#define RAFT_ESHUTDOWN (-5)  /* the node was stopped */
#define RAFT_EIO (-6)        /* an I/O error in storage */
#define RAFT_ECORRUPT (-7)   /* stored or received data failed validation */
#define RAFT_ETOOBIG (-8)    /* a proposal is larger than options.max_entry_bytes */
#define RAFT_ECALLBACK (-9)  /* a user callback reported failure */
#define RAFT_EVERSION (-10)  /* a struct version this library does not know */
#define RAFT_EINTERNAL (-11) /* a bug in libraft; see raft_node_errmsg() */
#define RAFT_ENOTSUP (-12)   /* the configuration lacks what this needs (e.g. snapshots) */

/* A static English description of an error code; never NULL. */
RAFT_API const char* raft_strerror(int code);

/* ------------------------------------------------------------------ */
/* Basic types                                                        */
/* ------------------------------------------------------------------ */

/* A replica id.  Chosen by the user, unique within a cluster, never 0. */
typedef uint64_t raft_id;
#define RAFT_NO_ID ((raft_id)0)

typedef struct raft_node raft_node; /* opaque */

typedef enum raft_role {
  RAFT_FOLLOWER = 1,
  RAFT_PRE_CANDIDATE = 2,
  RAFT_CANDIDATE = 3,
  RAFT_LEADER = 4
} raft_role;

/* What happened to a transition proposed on this replica.  Reported only on
 * the replica where raft_node_propose() was called.
 *   QUEUED     the leader appended it to its log.
 *   COMMITTED  it is stored on a majority and will be applied everywhere.
 *   APPLIED    apply() returned for it on this replica.
 *   ABANDONED_NOT_LEADER  this replica was not the leader; nothing was logged.
 *   ABANDONED_CONFLICT    a different entry was committed at its position
 *              in the log: proof that it never commits.  Retry with a new id.
 *   UNKNOWN    this replica's log was replaced by a leader's snapshot before
 *              the position was decided here, so libraft cannot tell whether
 *              the transition is in that snapshot; ask the state machine
 *              (e.g. by id).
 * A transition that was QUEUED and whose leader then lost leadership is still
 * undecided: another leader may commit it (it then reports COMMITTED and
 * APPLIED) or commit something else in its place (ABANDONED_CONFLICT).  Its
 * fate is reported once the log position is committed, even if this replica
 * meanwhile dropped the entry from its own log. */
typedef enum raft_transition_state {
  RAFT_TRANSITION_QUEUED = 1,
  RAFT_TRANSITION_COMMITTED = 2,
  RAFT_TRANSITION_APPLIED = 3,
  RAFT_TRANSITION_ABANDONED_NOT_LEADER = 4,
  RAFT_TRANSITION_ABANDONED_CONFLICT = 5,
  RAFT_TRANSITION_UNKNOWN = 6
} raft_transition_state;

typedef enum raft_log_level {
  RAFT_LOG_ERROR = 1,
  RAFT_LOG_WARN = 2,
  RAFT_LOG_INFO = 3,
  RAFT_LOG_DEBUG = 4
} raft_log_level;

/* ------------------------------------------------------------------ */
/* Options                                                            */
/* ------------------------------------------------------------------ */

/* Every public struct begins with `version`, set by its _init function.
 * Structs only grow at the end; the library refuses a version it does not
 * know with RAFT_EVERSION. */
#define RAFT_OPTIONS_VERSION 1

typedef struct raft_options {
  uint32_t version;
  raft_id id;                         /* this replica; required, nonzero */
  const raft_id* peers;               /* the other voters (not including id); copied */
  size_t n_peers;                     /* 0 = a single-node cluster */
  uint32_t heartbeat_ms;              /* default 50 */
  uint32_t election_timeout_min_ms;   /* default 150; must exceed heartbeat_ms */
  uint32_t election_timeout_max_ms;   /* default 300; must exceed the min */
  const char* data_dir;               /* NULL: memory only (not crash-safe); else the
                                         built-in durable storage keeps term, vote and log
                                         in this directory (created with its parents if
                                         missing); copied. */
  uint64_t cluster_id;                /* carried in every message; others are rejected */
  uint64_t random_seed;               /* election jitter; 0 = seeded from the clock.
                                         Equal seeds give identical runs (with the id mixed in). */
  int pre_vote;                       /* nonzero (default): pre-vote before every election */
  int check_quorum;                   /* nonzero (default): a leader that has not heard from a
                                         majority for an election timeout steps down, and
                                         voters ignore campaigns while they hear a leader */
  uint32_t max_batch_bytes;           /* payload bytes per AppendEntries; default 1 MiB */
  uint32_t max_inflight;              /* AppendEntries in flight per follower; default 64 */
  uint32_t max_entry_bytes;           /* largest proposal; default 4 MiB */
  uint64_t max_queue_bytes;           /* proposals waiting for the loop; beyond this
                                         raft_node_propose gives RAFT_EBUSY; default 64 MiB */
  raft_log_level log_level;           /* log callback gets messages up to this level;
                                         default RAFT_LOG_WARN */
  const struct raft_storage* storage; /* NULL: data_dir decides.  A storage of
                               your own (see below); copied.  Exclusive with
                               data_dir. */
  uint64_t snapshot_interval;         /* take a snapshot every this many applied entries
                                         (checked once per turn, after applying: a turn
                                         that applies more takes one at its end);
                                         0 (default) = never.  Needs snapshot_save. */
  uint64_t snapshot_trailing;         /* entries kept in the log behind a snapshot, so that
                                         slightly slow followers need no snapshot; default 1024 */
  uint32_t max_snapshot_chunk_bytes;  /* snapshot bytes per InstallSnapshot message;
                                         default 1 MiB */
  uint32_t busy_poll_us;              /* raft_node_run only: after a turn that sent or
                                         received messages, keep checking (yielding the CPU)
                                         for a proposal or raft_node_notify this many
                                         microseconds before sleeping, since a reply is
                                         likely that soon and a sleep/wake pair costs more.
                                         default 20; 0 = sleep at once; at most 10000 */
  uint64_t max_uncommitted_bytes;     /* a leader's proposals not yet committed: queued
                                         (payload + 24 bytes each, as for max_queue_bytes)
                                         plus the payload in its log beyond the commit index.
                                         A proposal that would pass this gets RAFT_EBUSY,
                                         so a leader whose followers lag or are unreachable
                                         stops growing its log; one is always admitted when
                                         nothing is uncommitted.  default 256 MiB */
} raft_options;

/* Fill *opt with the version and the defaults above.  NULL is ignored. */
RAFT_API void raft_options_init(raft_options* opt);

/* ------------------------------------------------------------------ */
/* Storage                                                            */
/* ------------------------------------------------------------------ */

/* libraft persists three things: the current term, the vote cast in it, and
 * the log.  options.data_dir selects the built-in file storage; a
 * raft_storage lets you bring your own (a database, a simulator).
 *
 * Durability contract.  Calls arrive on the loop thread, in order.  Each
 * returns RAFT_OK or a negative RAFT_E* code.  save_hard_state, append and
 * truncate may buffer; once sync returns RAFT_OK, every earlier call must
 * be durable and survive a crash, with its effects in call order.  libraft
 * calls sync once per turn that wrote anything (group commit), before it
 * sends any message that depends on the writes (a vote, an acknowledgement).
 * After a crash, load must return a state that reflects every synced call
 * and, of the unsynced ones, an in-order prefix (a write torn or lost after
 * the last sync is fine; a reordered one is not).  A failing call makes
 * the node stop: raft_node_poll/run return that error from then on, nothing
 * more is written, and the node must be destroyed and created again. */

#define RAFT_ENTRY_COMMAND 1 /* a user transition */
#define RAFT_ENTRY_NOOP 2    /* internal; store and return it like any entry */

typedef struct raft_entry {
  uint64_t term;
  uint64_t id;      /* the transition id */
  uint32_t type;    /* RAFT_ENTRY_*; store it as given */
  const void* data; /* borrowed for the duration of the call */
  size_t len;
} raft_entry;

#define RAFT_STORAGE_VERSION 1

typedef struct raft_storage {
  uint32_t version;
  void* ctx; /* passed first to every function */
  /* Once, from raft_node_create.  Report the durable state: *term and *vote
   * (0 and RAFT_NO_ID when new), then every entry from index *first_index
   * (1 when new) upward, in order, through entry(arg, e); a nonzero return
   * from entry means stop and fail.  Set *first_index before reporting the
   * first entry.  With a snapshot, *first_index may be anything from 1 to
   * the snapshot's index + 1 (entries it covers are skipped). */
  int (*load)(void* ctx, uint64_t* term, raft_id* vote, uint64_t* first_index,
              int (*entry)(void* arg, const raft_entry* e), void* arg);
  int (*save_hard_state)(void* ctx, uint64_t term, raft_id vote);
  /* Entries first_index .. first_index + n - 1, directly after the last. */
  int (*append)(void* ctx, uint64_t first_index, const raft_entry* entries, size_t n);
  /* Remove entries from_index and everything after it. */
  int (*truncate)(void* ctx, uint64_t from_index);
  int (*sync)(void* ctx);
  /* Optional.  From raft_node_destroy, last. */
  void (*close)(void* ctx);
  /* Snapshots.  Either all six are set or none; without them the
   * node refuses snapshot_interval and InstallSnapshot (RAFT_ENOTSUP).
   * A snapshot is an opaque byte string (the state machine's) plus `meta`,
   * libraft's own description of it (index, term, configuration, size,
   * checksum; at most RAFT_SNAPSHOT_META_MAX bytes).  One snapshot is
   * current at a time; a new one is written beside it and replaces it.
   * Start writing a new snapshot, discarding any unfinished one. */
  int (*snapshot_begin)(void* ctx);
  /* Append bytes to the snapshot being written. */
  int (*snapshot_write)(void* ctx, const void* data, size_t len);
  /* Make the snapshot being written the current one together with meta,
   * durably (synced before returning) and atomically: after a crash,
   * snapshot_meta reports the old snapshot or the new one, never a mix.
   * `index` is the last log index the snapshot covers. */
  int (*snapshot_commit)(void* ctx, uint64_t index, const void* meta, size_t meta_len);
  /* The current snapshot's meta: copy it to buf (cap is at least
   * RAFT_SNAPSHOT_META_MAX) and set *meta_len; *meta_len = 0 when none. */
  int (*snapshot_meta)(void* ctx, void* buf, size_t cap, size_t* meta_len);
  /* Read up to cap bytes of the current snapshot from offset; *got is
   * smaller than cap only at its end. */
  int (*snapshot_read)(void* ctx, uint64_t offset, void* buf, size_t cap, size_t* got);
  /* Entries up to and including index are covered by the current snapshot:
   * drop them, now or later (load may still report some; it must report
   * no gap after the snapshot).  If the log ends before index + 1 it becomes
   * empty and the next append is at index + 1.  Needs no sync, but like
   * every call it must survive a crash only in order with the earlier ones
   * (never a deletion kept while an earlier truncate is lost). */
  int (*compact)(void* ctx, uint64_t index);
} raft_storage;

#define RAFT_SNAPSHOT_META_MAX 65536

/* Fill *st with the version and NULL functions.  NULL is ignored. */
RAFT_API void raft_storage_init(raft_storage* st);

/* ------------------------------------------------------------------ */
/* Callbacks                                                          */
/* ------------------------------------------------------------------ */

#define RAFT_CALLBACKS_VERSION 1

/* Snapshots stream through these opaque handles, valid only while libraft
 * says so (see snapshot_save and snapshot_load). */
typedef struct raft_snapshot_writer raft_snapshot_writer;
typedef struct raft_snapshot_reader raft_snapshot_reader;

/* snapshot_save returns this to be called again in the next turn. */
#define RAFT_SNAPSHOT_MORE 1

/* All callbacks run on the thread inside raft_node_run/raft_node_poll and
 * take the `user` pointer given to raft_node_create as their last argument.
 * Buffers are borrowed for the duration of the call. */
typedef struct raft_callbacks {
  uint32_t version;
  /* Required.  A committed transition, in log order, on every replica. */
  void (*apply)(uint64_t id, const void* data, size_t len, void* user);
  /* Optional.  Progress of a transition proposed on this replica. */
  void (*transition_state)(uint64_t id, raft_transition_state state, void* user);
  /* Required when n_peers > 0.  Deliver msg to replica `to`, best effort:
   * loss, duplication and reordering are tolerated.  Copy what you keep. */
  void (*send)(raft_id to, const void* msg, size_t len, void* user);
  /* Required when n_peers > 0.  Return 1 and set *msg and *len to the next
   * inbound message, 0 when there is none, negative on a transport failure
   * (poll then returns RAFT_ECALLBACK).  The buffer must stay valid until the
   * next receive call or until poll returns. */
  int (*receive)(const void** msg, size_t* len, void* user);
  /* Optional.  Checked by raft_node_run after every turn; nonzero stops it. */
  int (*halt)(void* user);
  /* Optional.  The known leader changed; RAFT_NO_ID when unknown. */
  void (*leader)(raft_id leader, void* user);
  /* Optional.  One line of diagnostics, without a trailing newline. */
  void (*log)(raft_log_level level, const char* msg, void* user);
  /* Optional; set both or neither.
   * snapshot_save: write the state machine as it is now -- every transition
   * up to `index` applied, none after -- through raft_snapshot_write(w, ...),
   * any number of times.  Return RAFT_OK when complete, a negative code to
   * give this snapshot up (libraft logs it and tries again later), or
   * RAFT_SNAPSHOT_MORE to be called again with the same w in the next turn:
   * a large state can be saved in steps while the node keeps exchanging
   * heartbeats.  Until the save completes or is given up, apply is not
   * called (commits continue), so the state stays as of `index`.  w is
   * valid only during these calls (on the loop thread).  To serialise on a
   * thread of your own, start it in the first call and hand its output to
   * w in slices in the later calls.
   * snapshot_load: replace the whole state machine with the snapshot read
   * through raft_snapshot_read(r, ...), which covers every transition up to
   * `index`.  Called on restart before any apply, and when a follower
   * installs its leader's snapshot.  Return RAFT_OK, or a negative code
   * (the node then stops: its state machine is in an unknown state). */
  int (*snapshot_save)(raft_snapshot_writer* w, uint64_t index, void* user);
  int (*snapshot_load)(raft_snapshot_reader* r, uint64_t index, void* user);
} raft_callbacks;

/* Append len bytes to the snapshot being saved.  RAFT_OK, RAFT_EINVAL (NULL
 * w, or NULL data with len > 0), or a storage error (RAFT_EIO; the save is
 * then given up whatever snapshot_save returns). */
RAFT_API int raft_snapshot_write(raft_snapshot_writer* w, const void* data, size_t len);

/* Read up to cap bytes of the snapshot being loaded into buf.  Returns the
 * number of bytes read (fewer than cap only at the end, 0 at the end), or a
 * negative code: RAFT_EINVAL, RAFT_EIO, RAFT_ECORRUPT (the snapshot failed
 * its checksum; reported at the end, before 0 would be). */
RAFT_API int64_t raft_snapshot_read(raft_snapshot_reader* r, void* buf, size_t cap);

/* Fill *cb with the version and all-NULL callbacks.  NULL is ignored. */
RAFT_API void raft_callbacks_init(raft_callbacks* cb);

/* ------------------------------------------------------------------ */
/* Status                                                             */
/* ------------------------------------------------------------------ */

#define RAFT_STATUS_VERSION 1

typedef struct raft_status {
  uint32_t version;
  raft_id id;
  raft_role role;
  uint64_t term;
  raft_id leader; /* RAFT_NO_ID when unknown */
  uint64_t commit_index;
  uint64_t applied_index;
  uint64_t last_index;
  uint64_t snapshot_index; /* 0 until snapshots exist */
  uint64_t msgs_sent;
  uint64_t msgs_received;     /* well-formed messages accepted */
  uint64_t msgs_rejected;     /* malformed, foreign or misaddressed frames */
  uint64_t elections_started; /* real (not pre-vote) campaigns */
  uint64_t proposals_queued;  /* waiting for the loop thread */
} raft_status;

/* Fill *st with the version; the other fields are zero.  NULL is ignored. */
RAFT_API void raft_status_init(raft_status* st);

/* ------------------------------------------------------------------ */
/* Node lifecycle                                                     */
/* ------------------------------------------------------------------ */

/* Create a replica.  Copies *opt and *cb.  On success *out is the node and
 * RAFT_OK is returned; on failure *out is NULL and the reason is sent to
 * cb->log (if set).  Errors: RAFT_EINVAL (NULL argument, bad option, missing
 * required callback), RAFT_EVERSION, RAFT_ENOMEM. */
RAFT_API int raft_node_create(raft_node** out, const raft_options* opt, const raft_callbacks* cb,
                              void* user);

/* Free a node.  NULL is fine.  Must not race with run/poll on other threads:
 * stop the loop and join its thread first.  From inside a callback it does
 * nothing (the node stays valid). */
RAFT_API void raft_node_destroy(raft_node* node);

/* Drive the node on the calling thread until cb.halt() returns nonzero
 * (RAFT_OK) or raft_node_stop() is called (RAFT_OK).  Sleeps until notified,
 * a proposal arrives, or the next timer; after a turn with message traffic
 * it first keeps checking for up to options.busy_poll_us (default 20 us,
 * using the CPU meanwhile).  Errors: RAFT_EINVAL, RAFT_EBUSY
 * (another thread is driving it, or called from a callback), RAFT_ECALLBACK,
 * RAFT_ESHUTDOWN (already stopped), and those that stop the node for good
 * (returned from then on; destroy and create it again): a storage error,
 * RAFT_ENOMEM (memory ran out during a turn, which may have left its state
 * half-updated), RAFT_EINTERNAL. */
RAFT_API int raft_node_run(raft_node* node);

/* One turn for event-loop users: drain inbound messages, queued proposals and
 * timers as of now_ms (any monotonic millisecond clock, never decreasing), then
 * send, apply and report.  *next_deadline_ms (optional) is when to poll again
 * at the latest; poll sooner whenever a message arrives.  now_ms must not
 * exceed 2^62 (RAFT_EINVAL).  Errors: RAFT_EINVAL,
 * RAFT_EBUSY, RAFT_ECALLBACK, RAFT_ESHUTDOWN, and as raft_node_run those
 * that stop the node for good. */
RAFT_API int raft_node_poll(raft_node* node, uint64_t now_ms, uint64_t* next_deadline_ms);

/* Any thread.  Queue a transition; the loop thread later reports QUEUED or
 * ABANDONED_NOT_LEADER through transition_state.  data is copied; data may be
 * NULL only when len is 0.  Errors: RAFT_EINVAL, RAFT_ETOOBIG, RAFT_EBUSY
 * (queue full: max_queue_bytes; or too much uncommitted: max_uncommitted_bytes),
 * RAFT_ESHUTDOWN, RAFT_ENOMEM. */
RAFT_API int raft_node_propose(raft_node* node, uint64_t id, const void* data, size_t len);

/* One transition of a batch (the arguments of one raft_node_propose). */
typedef struct raft_proposal {
  uint64_t id;
  const void* data; /* copied; NULL only when len is 0 */
  size_t len;
} raft_proposal;

/* Any thread.  The same as raft_node_propose for proposals[0..n-1] in order,
 * taking the node's lock once: at high rates the per-call cost of the lock
 * and the wake-up is most of the cost of a proposal.  Stops at the first
 * proposal that fails and returns its error; *queued (optional) is set to
 * how many were queued, a prefix of the array, which goes ahead as if
 * proposed one by one.  RAFT_EBUSY with *queued > 0 means the queue filled
 * part way: resubmit the rest later.  RAFT_ENOMEM queues none of the batch
 * (*queued is 0).  n == 0 queues nothing and returns RAFT_OK; proposals may
 * be NULL only then.  Errors: as raft_node_propose. */
RAFT_API int raft_node_propose_batch(raft_node* node, const raft_proposal* proposals, size_t n,
                                     size_t* queued);

/* Any thread.  Messages may be waiting: wake raft_node_run.  NULL is ignored. */
RAFT_API void raft_node_notify(raft_node* node);

/* Any thread.  Make raft_node_run return and later calls fail with
 * RAFT_ESHUTDOWN.  Idempotent.  NULL is ignored. */
RAFT_API void raft_node_stop(raft_node* node);

/* Any thread.  Fill *st (initialised by raft_status_init) with the state as
 * of the end of the last turn.  Errors: RAFT_EINVAL, RAFT_EVERSION. */
RAFT_API int raft_node_status(raft_node* node, raft_status* st);

/* The detail of the calling thread's last failed call on this node ("" if
 * none; "invalid node" for NULL).  Each thread sees its own message (up to
 * 8 threads per node are tracked; beyond that the least recent is
 * forgotten).  Valid until the same thread's next failing call on the node
 * or raft_node_destroy. */
RAFT_API const char* raft_node_errmsg(const raft_node* node);

#ifdef __cplusplus
}
#endif

#endif /* RAFT_H */
