//! Safe Rust binding of libraft, a Raft consensus library with a stable C ABI.
//!
//! The traits are shaped like [little_raft]'s, so a little_raft user ports with
//! small changes: transitions are bytes with a u64 id, `get_pending_transitions`
//! becomes [`Replica::propose`], `start` becomes [`Replica::run`] (or
//! [`Replica::poll`] in an event loop), and no `noop_transition` is needed.
//!
//! ```no_run
//! use raft::{Cluster, Replica, StateMachine};
//! use std::sync::{Arc, Mutex};
//! use std::time::Duration;
//!
//! struct Counter(u64);
//! impl StateMachine for Counter {
//!     fn apply_transition(&mut self, _id: u64, data: &[u8]) {
//!         self.0 += data.len() as u64;
//!     }
//! }
//! struct Alone;
//! impl Cluster for Alone {
//!     fn send_message(&mut self, _to: u64, _msg: &[u8]) {}
//!     fn receive_messages(&mut self) -> Vec<Vec<u8>> { Vec::new() }
//! }
//!
//! let counter = Arc::new(Mutex::new(Counter(0)));
//! let replica = Replica::new(1, vec![], Arc::new(Mutex::new(Alone)), counter.clone(),
//!     Duration::from_millis(50), (Duration::from_millis(150), Duration::from_millis(300)))?;
//! replica.propose(1, b"hello")?;
//! # Ok::<(), raft::Error>(())
//! ```
//!
//! Panics in trait methods are caught before they reach C and resumed by the
//! `run`/`poll` call that made the callback.
//!
//! [little_raft]: https://github.com/andreev-io/little-raft
mod context;
mod error;
mod options;
mod replica;
mod snapshot;
mod traits;
mod types;

pub use error::{Error, ErrorCode};
pub use options::{Logger, Options};
pub use replica::Replica;
pub use snapshot::{SnapshotProgress, SnapshotReader, SnapshotWriter};
pub use traits::{Cluster, StateMachine};
pub use types::{LogLevel, ReplicaId, Role, Status, TransitionAbandonedReason, TransitionState};

/// Raw declarations, for what this crate does not wrap yet.
pub use raft_sys as sys;

/// The version of the libraft actually loaded, e.g. "0.1.0".
pub fn library_version() -> &'static str {
    // A static string, never NULL.
    unsafe { std::ffi::CStr::from_ptr(sys::raft_version_string()) }.to_str().unwrap_or("?")
}

/// The README's Rust example runs as a doc test.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
