//! Raw declarations of libraft's C ABI (`include/raft.h`), written by hand.
//!
//! Everything here is `unsafe` to use and mirrors the header one to one; the
//! `raft` crate is the safe wrapper.  `tests/layout.rs` compares every struct's
//! size and field offsets, and every constant, with what a C compiler makes of
//! the header, so the two cannot drift apart silently.
#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_int, c_uint, c_void};

pub type raft_id = u64;
pub const RAFT_NO_ID: raft_id = 0;

pub const RAFT_VERSION_MAJOR: u32 = 0;
pub const RAFT_VERSION_MINOR: u32 = 1;
pub const RAFT_VERSION_PATCH: u32 = 0;
pub const RAFT_VERSION_NUMBER: u32 =
    RAFT_VERSION_MAJOR * 10000 + RAFT_VERSION_MINOR * 100 + RAFT_VERSION_PATCH;

pub const RAFT_OK: c_int = 0;
pub const RAFT_EINVAL: c_int = -1;
pub const RAFT_ENOMEM: c_int = -2;
pub const RAFT_ENOTLEADER: c_int = -3;
pub const RAFT_EBUSY: c_int = -4;
pub const RAFT_ESHUTDOWN: c_int = -5;
pub const RAFT_EIO: c_int = -6;
pub const RAFT_ECORRUPT: c_int = -7;
pub const RAFT_ETOOBIG: c_int = -8;
pub const RAFT_ECALLBACK: c_int = -9;
pub const RAFT_EVERSION: c_int = -10;
pub const RAFT_EINTERNAL: c_int = -11;
pub const RAFT_ENOTSUP: c_int = -12;

// C enums whose constants are all non-negative have the type unsigned int (gcc, clang).
pub type raft_role = c_uint;
pub const RAFT_FOLLOWER: raft_role = 1;
pub const RAFT_PRE_CANDIDATE: raft_role = 2;
pub const RAFT_CANDIDATE: raft_role = 3;
pub const RAFT_LEADER: raft_role = 4;

pub type raft_transition_state = c_uint;
pub const RAFT_TRANSITION_QUEUED: raft_transition_state = 1;
pub const RAFT_TRANSITION_COMMITTED: raft_transition_state = 2;
pub const RAFT_TRANSITION_APPLIED: raft_transition_state = 3;
pub const RAFT_TRANSITION_ABANDONED_NOT_LEADER: raft_transition_state = 4;
pub const RAFT_TRANSITION_ABANDONED_CONFLICT: raft_transition_state = 5;
pub const RAFT_TRANSITION_UNKNOWN: raft_transition_state = 6;

pub type raft_log_level = c_uint;
pub const RAFT_LOG_ERROR: raft_log_level = 1;
pub const RAFT_LOG_WARN: raft_log_level = 2;
pub const RAFT_LOG_INFO: raft_log_level = 3;
pub const RAFT_LOG_DEBUG: raft_log_level = 4;

pub const RAFT_OPTIONS_VERSION: u32 = 1;
pub const RAFT_CALLBACKS_VERSION: u32 = 1;
pub const RAFT_STATUS_VERSION: u32 = 1;
pub const RAFT_STORAGE_VERSION: u32 = 1;

pub const RAFT_ENTRY_COMMAND: u32 = 1;
pub const RAFT_ENTRY_NOOP: u32 = 2;

pub const RAFT_SNAPSHOT_META_MAX: usize = 65536;
pub const RAFT_SNAPSHOT_MORE: c_int = 1;

/// Opaque: only ever handled through a pointer (not Send, Sync or Unpin by itself).
#[repr(C)]
pub struct raft_node {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque: the stream snapshot_save writes through (raft_snapshot_write).
#[repr(C)]
pub struct raft_snapshot_writer {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque: the stream snapshot_load reads from (raft_snapshot_read).
#[repr(C)]
pub struct raft_snapshot_reader {
    _data: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct raft_options {
    pub version: u32,
    pub id: raft_id,
    pub peers: *const raft_id,
    pub n_peers: usize,
    pub heartbeat_ms: u32,
    pub election_timeout_min_ms: u32,
    pub election_timeout_max_ms: u32,
    pub data_dir: *const c_char,
    pub cluster_id: u64,
    pub random_seed: u64,
    pub pre_vote: c_int,
    pub check_quorum: c_int,
    pub max_batch_bytes: u32,
    pub max_inflight: u32,
    pub max_entry_bytes: u32,
    pub max_queue_bytes: u64,
    pub log_level: raft_log_level,
    pub storage: *const raft_storage,
    pub snapshot_interval: u64,
    pub snapshot_trailing: u64,
    pub max_snapshot_chunk_bytes: u32,
    pub busy_poll_us: u32,
    pub max_uncommitted_bytes: u64,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct raft_entry {
    pub term: u64,
    pub id: u64,
    pub type_: u32,
    pub data: *const c_void,
    pub len: usize,
}

pub type raft_entry_fn = unsafe extern "C" fn(arg: *mut c_void, e: *const raft_entry) -> c_int;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct raft_storage {
    pub version: u32,
    pub ctx: *mut c_void,
    pub load: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            term: *mut u64,
            vote: *mut raft_id,
            first_index: *mut u64,
            entry: Option<raft_entry_fn>,
            arg: *mut c_void,
        ) -> c_int,
    >,
    pub save_hard_state:
        Option<unsafe extern "C" fn(ctx: *mut c_void, term: u64, vote: raft_id) -> c_int>,
    pub append: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            first_index: u64,
            entries: *const raft_entry,
            n: usize,
        ) -> c_int,
    >,
    pub truncate: Option<unsafe extern "C" fn(ctx: *mut c_void, from_index: u64) -> c_int>,
    pub sync: Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>,
    pub close: Option<unsafe extern "C" fn(ctx: *mut c_void)>,
    pub snapshot_begin: Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>,
    pub snapshot_write:
        Option<unsafe extern "C" fn(ctx: *mut c_void, data: *const c_void, len: usize) -> c_int>,
    pub snapshot_commit: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            index: u64,
            meta: *const c_void,
            meta_len: usize,
        ) -> c_int,
    >,
    pub snapshot_meta: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            buf: *mut c_void,
            cap: usize,
            meta_len: *mut usize,
        ) -> c_int,
    >,
    pub snapshot_read: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            offset: u64,
            buf: *mut c_void,
            cap: usize,
            got: *mut usize,
        ) -> c_int,
    >,
    pub compact: Option<unsafe extern "C" fn(ctx: *mut c_void, index: u64) -> c_int>,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct raft_callbacks {
    pub version: u32,
    pub apply:
        Option<unsafe extern "C" fn(id: u64, data: *const c_void, len: usize, user: *mut c_void)>,
    pub transition_state:
        Option<unsafe extern "C" fn(id: u64, state: raft_transition_state, user: *mut c_void)>,
    pub send: Option<
        unsafe extern "C" fn(to: raft_id, msg: *const c_void, len: usize, user: *mut c_void),
    >,
    pub receive: Option<
        unsafe extern "C" fn(msg: *mut *const c_void, len: *mut usize, user: *mut c_void) -> c_int,
    >,
    pub halt: Option<unsafe extern "C" fn(user: *mut c_void) -> c_int>,
    pub leader: Option<unsafe extern "C" fn(leader: raft_id, user: *mut c_void)>,
    pub log:
        Option<unsafe extern "C" fn(level: raft_log_level, msg: *const c_char, user: *mut c_void)>,
    pub snapshot_save: Option<
        unsafe extern "C" fn(w: *mut raft_snapshot_writer, index: u64, user: *mut c_void) -> c_int,
    >,
    pub snapshot_load: Option<
        unsafe extern "C" fn(r: *mut raft_snapshot_reader, index: u64, user: *mut c_void) -> c_int,
    >,
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct raft_status {
    pub version: u32,
    pub id: raft_id,
    pub role: raft_role,
    pub term: u64,
    pub leader: raft_id,
    pub commit_index: u64,
    pub applied_index: u64,
    pub last_index: u64,
    pub snapshot_index: u64,
    pub msgs_sent: u64,
    pub msgs_received: u64,
    pub msgs_rejected: u64,
    pub elections_started: u64,
    pub proposals_queued: u64,
}

/// One transition of a batch for raft_node_propose_batch (the arguments of one
/// raft_node_propose).  `data` may be null only when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct raft_proposal {
    pub id: u64,
    pub data: *const c_void,
    pub len: usize,
}

extern "C" {
    pub fn raft_version_number() -> u32;
    pub fn raft_version_string() -> *const c_char;
    pub fn raft_strerror(code: c_int) -> *const c_char;

    pub fn raft_options_init(opt: *mut raft_options);
    pub fn raft_storage_init(st: *mut raft_storage);
    pub fn raft_callbacks_init(cb: *mut raft_callbacks);
    pub fn raft_snapshot_write(
        w: *mut raft_snapshot_writer,
        data: *const c_void,
        len: usize,
    ) -> c_int;
    pub fn raft_snapshot_read(r: *mut raft_snapshot_reader, buf: *mut c_void, cap: usize) -> i64;
    pub fn raft_status_init(st: *mut raft_status);

    pub fn raft_node_create(
        out: *mut *mut raft_node,
        opt: *const raft_options,
        cb: *const raft_callbacks,
        user: *mut c_void,
    ) -> c_int;
    pub fn raft_node_destroy(node: *mut raft_node);
    pub fn raft_node_run(node: *mut raft_node) -> c_int;
    pub fn raft_node_poll(node: *mut raft_node, now_ms: u64, next_deadline_ms: *mut u64) -> c_int;
    pub fn raft_node_propose(
        node: *mut raft_node,
        id: u64,
        data: *const c_void,
        len: usize,
    ) -> c_int;
    pub fn raft_node_propose_batch(
        node: *mut raft_node,
        proposals: *const raft_proposal,
        n: usize,
        queued: *mut usize,
    ) -> c_int;
    pub fn raft_node_notify(node: *mut raft_node);
    pub fn raft_node_stop(node: *mut raft_node);
    pub fn raft_node_status(node: *mut raft_node, st: *mut raft_status) -> c_int;
    pub fn raft_node_errmsg(node: *const raft_node) -> *const c_char;
}
