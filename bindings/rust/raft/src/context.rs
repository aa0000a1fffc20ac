//! The C callbacks of one replica and the state they share.
//!
//! Every trampoline runs user code inside catch_unwind: unwinding into C frames
//! is undefined behaviour.  The first panic payload is kept and resumed by the
//! run/poll call that made the callback (see Replica::finish).
use crate::options::Logger;
use crate::snapshot::{failure_code, SnapshotProgress, SnapshotReader, SnapshotWriter};
use crate::traits::{Cluster, StateMachine};
use crate::types::{LogLevel, TransitionState};
use raft_sys as sys;
use std::any::Any;
use std::collections::VecDeque;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub(crate) type Panic = Box<dyn Any + Send + 'static>;

/// State of the thread driving the node.  Behind a mutex only because a Replica
/// is Sync: the library lets one thread at a time drive the node, so it is never
/// contended.
#[derive(Default)]
pub(crate) struct Driver {
    pub pending: Option<Panic>,
    /// apply panicked: this state machine has a hole, apply nothing more.
    pub poisoned: bool,
    pub inbox: VecDeque<Vec<u8>>,
    /// What the last receive handed to C: valid until the next receive.
    pub current: Vec<u8>,
    pub creating: bool,
    /// raft_node_create explains a failure only through log: its most severe line.
    pub create_error: Option<(sys::raft_log_level, String)>,
    /// Held back during create: forwarded if it succeeds, dropped (they are the error) if not.
    pub create_lines: Vec<(sys::raft_log_level, String)>,
}

pub(crate) struct Context<S, C> {
    pub state_machine: Arc<Mutex<S>>,
    pub cluster: Arc<Mutex<C>>,
    pub logger: Option<Logger>,
    pub node: AtomicPtr<sys::raft_node>,
    pub driver: Mutex<Driver>,
}

/// A poisoned user mutex only means an earlier callback panicked; that panic was
/// already resumed in the driver, so carry on with the data.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

unsafe fn borrowed<'a>(data: *const c_void, len: usize) -> &'a [u8] {
    if data.is_null() || len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(data as *const u8, len)
    }
}

unsafe fn context<'a, S, C>(user: *mut c_void) -> &'a Context<S, C> {
    &*(user as *const Context<S, C>)
}

impl<S: StateMachine, C: Cluster> Context<S, C> {
    pub fn driver(&self) -> MutexGuard<'_, Driver> {
        lock(&self.driver)
    }

    pub fn keep(&self, payload: Panic) {
        let mut d = self.driver();
        if d.pending.is_none() {
            d.pending = Some(payload);
        }
    }

    /// Runs user code; a panic is kept and `fallback` returned instead.
    fn guard<R>(&self, fallback: R, f: impl FnOnce() -> R) -> R {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(r) => r,
            Err(payload) => {
                self.keep(payload);
                fallback
            }
        }
    }

    pub fn forward_log(&self, level: sys::raft_log_level, line: &str) {
        if let Some(logger) = &self.logger {
            self.guard((), || logger(LogLevel::from_raw(level), line));
        }
    }

    /// `snapshots`: register snapshot_save/snapshot_load (StateMachine::supports_snapshots).
    pub fn callbacks(snapshots: bool) -> sys::raft_callbacks {
        let mut cb = unsafe {
            let mut cb = std::mem::MaybeUninit::<sys::raft_callbacks>::uninit();
            sys::raft_callbacks_init(cb.as_mut_ptr());
            cb.assume_init()
        };
        cb.apply = Some(apply::<S, C>);
        cb.transition_state = Some(transition_state::<S, C>);
        cb.send = Some(send::<S, C>);
        cb.receive = Some(receive::<S, C>);
        cb.halt = Some(halt::<S, C>); // always: a pending panic must end run()
        cb.leader = Some(leader::<S, C>);
        cb.log = Some(log::<S, C>); // always: it carries raft_node_create's reason
        if snapshots {
            cb.snapshot_save = Some(snapshot_save::<S, C>);
            cb.snapshot_load = Some(snapshot_load::<S, C>);
        }
        cb
    }
}

unsafe extern "C" fn apply<S: StateMachine, C: Cluster>(
    id: u64,
    data: *const c_void,
    len: usize,
    user: *mut c_void,
) {
    let ctx = context::<S, C>(user);
    if ctx.driver().poisoned {
        return;
    }
    let bytes = borrowed(data, len);
    let applied = ctx.guard(false, || {
        lock(&ctx.state_machine).apply_transition(id, bytes);
        true
    });
    if !applied {
        ctx.driver().poisoned = true;
        // Later calls fail with Shutdown, on every thread.
        sys::raft_node_stop(ctx.node.load(Ordering::Acquire));
    }
}

unsafe extern "C" fn transition_state<S: StateMachine, C: Cluster>(
    id: u64,
    state: sys::raft_transition_state,
    user: *mut c_void,
) {
    let ctx = context::<S, C>(user);
    let state = TransitionState::from_raw(state);
    ctx.guard((), || lock(&ctx.state_machine).register_transition_state(id, state));
}

unsafe extern "C" fn send<S: StateMachine, C: Cluster>(
    to: sys::raft_id,
    msg: *const c_void,
    len: usize,
    user: *mut c_void,
) {
    let ctx = context::<S, C>(user);
    let bytes = borrowed(msg, len);
    ctx.guard((), || lock(&ctx.cluster).send_message(to, bytes));
}

unsafe extern "C" fn receive<S: StateMachine, C: Cluster>(
    msg: *mut *const c_void,
    len: *mut usize,
    user: *mut c_void,
) -> c_int {
    let ctx = context::<S, C>(user);
    if ctx.driver().inbox.is_empty() {
        // The driver lock is not held while user code runs.
        match ctx.guard(None, || Some(lock(&ctx.cluster).receive_messages())) {
            Some(batch) => ctx.driver().inbox.extend(batch),
            None => return -1, // poll fails with Callback; the panic is resumed instead
        }
    }
    let mut d = ctx.driver();
    match d.inbox.pop_front() {
        Some(message) => {
            d.current = message;
            *msg = d.current.as_ptr() as *const c_void;
            *len = d.current.len();
            1
        }
        None => 0,
    }
}

unsafe extern "C" fn halt<S: StateMachine, C: Cluster>(user: *mut c_void) -> c_int {
    let ctx = context::<S, C>(user);
    if ctx.driver().pending.is_some() {
        return 1;
    }
    ctx.guard(1, || lock(&ctx.cluster).halt() as c_int)
}

unsafe extern "C" fn leader<S: StateMachine, C: Cluster>(id: sys::raft_id, user: *mut c_void) {
    let ctx = context::<S, C>(user);
    let leader = if id == sys::RAFT_NO_ID { None } else { Some(id) };
    ctx.guard((), || lock(&ctx.cluster).register_leader(leader));
}

unsafe extern "C" fn log<S: StateMachine, C: Cluster>(
    level: sys::raft_log_level,
    msg: *const c_char,
    user: *mut c_void,
) {
    let ctx = context::<S, C>(user);
    let line = if msg.is_null() { "".into() } else { CStr::from_ptr(msg).to_string_lossy() };
    {
        let mut d = ctx.driver();
        if d.creating {
            if d.create_error.as_ref().map_or(true, |(worst, _)| level < *worst) {
                d.create_error = Some((level, line.to_string()));
            }
            d.create_lines.push((level, line.into_owned()));
            return;
        }
    }
    ctx.forward_log(level, &line);
}

unsafe extern "C" fn snapshot_save<S: StateMachine, C: Cluster>(
    w: *mut sys::raft_snapshot_writer,
    index: u64,
    user: *mut c_void,
) -> c_int {
    let ctx = context::<S, C>(user);
    // A panic gives this snapshot up (the library retries later) and is resumed by run/poll.
    ctx.guard(sys::RAFT_ECALLBACK, || {
        let mut writer = SnapshotWriter::new(w);
        match lock(&ctx.state_machine).save_snapshot(&mut writer, index) {
            Ok(SnapshotProgress::Done) => sys::RAFT_OK,
            Ok(SnapshotProgress::More) => sys::RAFT_SNAPSHOT_MORE,
            Err(e) => failure_code(&e),
        }
    })
}

unsafe extern "C" fn snapshot_load<S: StateMachine, C: Cluster>(
    r: *mut sys::raft_snapshot_reader,
    index: u64,
    user: *mut c_void,
) -> c_int {
    let ctx = context::<S, C>(user);
    let rc = ctx.guard(sys::RAFT_ECALLBACK, || {
        let mut reader = SnapshotReader::new(r);
        match lock(&ctx.state_machine).load_snapshot(&mut reader, index) {
            Ok(()) => sys::RAFT_OK,
            Err(e) => failure_code(&e),
        }
    });
    if rc != sys::RAFT_OK {
        // The library stops the node: apply nothing more to a half-loaded state.
        ctx.driver().poisoned = true;
    }
    rc
}
