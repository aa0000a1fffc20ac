//! Replica: one Raft replica over a raft_node.
use crate::context::{Context, Driver};
use crate::error::{Error, ErrorCode};
use crate::options::Options;
use crate::traits::{Cluster, StateMachine};
use crate::types::{ReplicaId, Status};
use raft_sys as sys;
use std::ffi::CStr;
use std::os::raw::{c_int, c_void};
use std::panic::resume_unwind;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One Raft replica (little_raft's `Replica`).
///
/// Drive it with [`run`](Replica::run) on a thread of its own, or call
/// [`poll`](Replica::poll) from an event loop.  Any thread may `propose`,
/// `propose_batch`, `notify`, `stop` and `status`: share it as
/// `Arc<Replica<..>>`.  Dropping it frees the node; the borrow checker
/// guarantees no `run`/`poll` is in progress.
pub struct Replica<S: StateMachine, C: Cluster> {
    node: NonNull<sys::raft_node>,
    // Boxed: C holds its address as the `user` pointer.  Freed after the node (see Drop).
    ctx: Box<Context<S, C>>,
    id: ReplicaId,
    /// A run/poll is in progress (see `drive`).
    driving: AtomicBool,
}

// SAFETY: raft.h makes propose/notify/stop/status safe from any thread and lets
// only one thread at a time drive the node (others get RAFT_EBUSY).  The
// callbacks, which run on the driving thread, touch only the Mutex-protected
// state in Context and the user's objects behind Arc<Mutex<_>>, which are Send
// and Sync when S and C are Send.
unsafe impl<S: StateMachine + Send, C: Cluster + Send> Send for Replica<S, C> {}
unsafe impl<S: StateMachine + Send, C: Cluster + Send> Sync for Replica<S, C> {}

impl<S: StateMachine, C: Cluster> Replica<S, C> {
    /// little_raft's `Replica::new`, minus `noop_transition` (the library needs none).
    pub fn new(
        id: ReplicaId,
        peer_ids: Vec<ReplicaId>,
        cluster: Arc<Mutex<C>>,
        state_machine: Arc<Mutex<S>>,
        heartbeat_timeout: Duration,
        election_timeout_range: (Duration, Duration),
    ) -> Result<Self, Error> {
        let options = Options::new(id)
            .peers(peer_ids)
            .heartbeat(heartbeat_timeout)
            .election_timeout(election_timeout_range.0, election_timeout_range.1);
        Replica::with_options(&options, cluster, state_machine)
    }

    /// A replica with every option the library has.
    pub fn with_options(
        options: &Options,
        cluster: Arc<Mutex<C>>,
        state_machine: Arc<Mutex<S>>,
    ) -> Result<Self, Error> {
        let c_options = options.to_c()?;
        let ctx = Box::new(Context {
            state_machine,
            cluster,
            logger: options.logger.clone(),
            node: AtomicPtr::new(std::ptr::null_mut()),
            driver: Mutex::new(Driver { creating: true, ..Driver::default() }),
        });
        let snapshots = ctx.state_machine.lock().map_or(false, |sm| sm.supports_snapshots());
        let callbacks = Context::<S, C>::callbacks(snapshots);
        let mut node: *mut sys::raft_node = std::ptr::null_mut();
        let rc = unsafe {
            sys::raft_node_create(
                &mut node,
                &c_options.raw,
                &callbacks,
                &*ctx as *const Context<S, C> as *mut c_void,
            )
        };
        ctx.node.store(node, Ordering::Release);
        let (pending, reason, lines) = {
            let mut d = ctx.driver();
            d.creating = false;
            (d.pending.take(), d.create_error.take(), std::mem::take(&mut d.create_lines))
        };
        let replica = NonNull::new(node).map(|node| Replica {
            node,
            ctx,
            id: options.id(),
            driving: AtomicBool::new(false),
        });
        if let Some(payload) = pending {
            drop(replica);
            resume_unwind(payload);
        }
        match replica {
            Some(replica) if rc == sys::RAFT_OK => {
                for (level, line) in lines {
                    replica.ctx.forward_log(level, &line);
                }
                Ok(replica)
            }
            _ => Err(Error::from_raw(
                if rc == sys::RAFT_OK { sys::RAFT_EINTERNAL } else { rc },
                reason.map(|(_, line)| line).unwrap_or_default(),
            )),
        }
    }

    /// Drive the replica on this thread until `Cluster::halt` is true or `stop` is
    /// called.  Sleeps between turns; call `notify` when messages arrive.  A panic
    /// in a callback is resumed here.
    pub fn run(&self) -> Result<(), Error> {
        self.drive(|node| unsafe { sys::raft_node_run(node) })
    }

    /// One turn for event loops, at `now_ms` on any monotonic millisecond clock that
    /// never goes back.  Returns when to poll again at the latest (same clock); poll
    /// sooner when a message arrives.  A panic in a callback is resumed here.
    pub fn poll(&self, now_ms: u64) -> Result<u64, Error> {
        let mut next = 0u64;
        self.drive(|node| unsafe { sys::raft_node_poll(node, now_ms, &mut next) })?;
        Ok(next)
    }

    /// Queue a transition (the bytes are copied).  Any thread.  Its progress goes to
    /// `StateMachine::register_transition_state`.  Errors: Busy (queue full: retry
    /// after the loop has run), TooBig, Shutdown.
    pub fn propose(&self, transition_id: u64, data: &[u8]) -> Result<(), Error> {
        let ptr = if data.is_empty() { std::ptr::null() } else { data.as_ptr() as *const c_void };
        let rc =
            unsafe { sys::raft_node_propose(self.node.as_ptr(), transition_id, ptr, data.len()) };
        self.check(rc)
    }

    /// Queue `(transition_id, data)` pairs in order, as `propose` would one by one,
    /// under one lock of the node.  Any thread.  Returns how many were queued: a
    /// prefix, up to the first that could not be.  A short count is not an error:
    /// resubmit the rest (after the loop has run when the queue was full); a
    /// transition that cannot be queued at all then fails, as the first of its
    /// batch.  Errors, as `propose` gives them (Busy, TooBig, Shutdown), only when
    /// nothing was queued.
    pub fn propose_batch(&self, items: &[(u64, &[u8])]) -> Result<usize, Error> {
        let proposals: Vec<sys::raft_proposal> = items
            .iter()
            .map(|&(id, data)| sys::raft_proposal {
                id,
                data: if data.is_empty() {
                    std::ptr::null()
                } else {
                    data.as_ptr() as *const c_void
                },
                len: data.len(),
            })
            .collect();
        let mut queued = 0usize;
        let rc = unsafe {
            sys::raft_node_propose_batch(
                self.node.as_ptr(),
                proposals.as_ptr(),
                proposals.len(),
                &mut queued,
            )
        };
        if queued > 0 {
            return Ok(queued);
        }
        self.check(rc).map(|()| 0)
    }

    /// Messages may be waiting: wake `run`.  Any thread.
    pub fn notify(&self) {
        unsafe { sys::raft_node_notify(self.node.as_ptr()) }
    }

    /// Make `run` return; later run/poll/propose fail with Shutdown.  Idempotent, any thread.
    pub fn stop(&self) {
        unsafe { sys::raft_node_stop(self.node.as_ptr()) }
    }

    /// The state as of the end of the last turn.  Any thread.
    pub fn status(&self) -> Result<Status, Error> {
        let mut st = sys::raft_status::default();
        unsafe { sys::raft_status_init(&mut st) };
        self.check(unsafe { sys::raft_node_status(self.node.as_ptr(), &mut st) })?;
        Ok(Status::from_raw(&st))
    }

    pub fn id(&self) -> ReplicaId {
        self.id
    }

    pub fn state_machine(&self) -> &Arc<Mutex<S>> {
        &self.ctx.state_machine
    }

    pub fn cluster(&self) -> &Arc<Mutex<C>> {
        &self.ctx.cluster
    }

    /// The C handle, still owned by this replica.
    pub fn as_raw(&self) -> *mut sys::raft_node {
        self.node.as_ptr()
    }

    /// One driver at a time, enforced here as well as in C: a pending panic then
    /// always belongs to this call, whichever thread's callback raised it.
    fn drive(&self, call: impl FnOnce(*mut sys::raft_node) -> c_int) -> Result<(), Error> {
        if self.driving.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err()
        {
            return Err(Error::new(
                ErrorCode::Busy,
                "run/poll called while another thread drives this replica, or from its callback",
            ));
        }
        let rc = call(self.node.as_ptr());
        let result = self.check(rc);
        let pending = self.ctx.driver().pending.take();
        self.driving.store(false, Ordering::Release);
        if let Some(payload) = pending {
            resume_unwind(payload);
        }
        result
    }

    fn check(&self, rc: c_int) -> Result<(), Error> {
        if rc == sys::RAFT_OK {
            return Ok(());
        }
        // Copied at once: the text lives only until the next call on the node.
        let detail = unsafe { CStr::from_ptr(sys::raft_node_errmsg(self.node.as_ptr())) };
        Err(Error::from_raw(rc, detail.to_string_lossy()))
    }
}

impl<S: StateMachine, C: Cluster> Drop for Replica<S, C> {
    fn drop(&mut self) {
        // The node goes first: it may call back while it dies.  ctx is dropped after.
        unsafe { sys::raft_node_destroy(self.node.as_ptr()) }
    }
}

impl<S: StateMachine, C: Cluster> std::fmt::Debug for Replica<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica").field("id", &self.id).finish_non_exhaustive()
    }
}
