//! The user's side of a replica, shaped like little_raft's traits.
//!
//! Transitions are opaque bytes with a caller-chosen u64 id (little_raft is
//! generic over a transition type instead: encode yours to bytes).  All methods
//! are called on the thread inside `Replica::run` or `Replica::poll`, with the
//! object's mutex held.  A panic in one of them is caught before it reaches C
//! and resumed by the run/poll call that made the callback.
use crate::error::{Error, ErrorCode};
use crate::snapshot::{SnapshotProgress, SnapshotReader, SnapshotWriter};
use crate::types::{ReplicaId, TransitionState};

/// The replicated state machine (little_raft's `StateMachine`).
///
/// `get_pending_transitions` has no counterpart: call `Replica::propose`
/// (from any thread) instead.
pub trait StateMachine {
    /// Progress of a transition proposed on this replica.
    fn register_transition_state(&mut self, transition_id: u64, state: TransitionState) {
        let _ = (transition_id, state);
    }

    /// A committed transition, in the same log order on every replica.  If it
    /// panics, the replica stops (its state machine missed an entry).
    fn apply_transition(&mut self, transition_id: u64, data: &[u8]);

    /// True when this state machine implements `save_snapshot` and `load_snapshot`.
    /// Asked once, when the replica is created: only then are snapshots registered
    /// with the library (needed for `Options::snapshot_interval` and for installing a
    /// leader's snapshot).
    fn supports_snapshots(&self) -> bool {
        false
    }

    /// Write the state as it is now -- every transition up to `index` applied, none
    /// after -- through `writer` (an `io::Write`).  `Ok(More)` asks for another call in
    /// the next turn; an error (or panic, which `run`/`poll` resume) gives this
    /// snapshot up and the library tries again one interval later.
    fn save_snapshot(
        &mut self,
        writer: &mut SnapshotWriter<'_>,
        index: u64,
    ) -> Result<SnapshotProgress, Error> {
        let _ = (writer, index);
        Err(Error::new(ErrorCode::NotSupported, "this state machine does not save snapshots"))
    }

    /// Replace the whole state with the snapshot read from `reader` (an `io::Read`),
    /// which covers every transition up to `index`.  Called when the replica is
    /// created from storage holding a snapshot, and when it installs its leader's.
    /// An error stops the replica: its state machine is in an unknown state.
    fn load_snapshot(&mut self, reader: &mut SnapshotReader<'_>, index: u64) -> Result<(), Error> {
        let _ = (reader, index);
        Err(Error::new(ErrorCode::NotSupported, "this state machine does not load snapshots"))
    }
}

/// The transport to the other replicas (little_raft's `Cluster`).
pub trait Cluster {
    /// Deliver `message` to `to_id`, best effort and without blocking.  Loss,
    /// duplication and reordering are tolerated.
    fn send_message(&mut self, to_id: ReplicaId, message: &[u8]);

    /// Every message that arrived since the last call, each exactly once; must not
    /// block.  When messages arrive while `run` sleeps, call `Replica::notify`.
    fn receive_messages(&mut self) -> Vec<Vec<u8>>;

    /// Checked by `run` after every turn; true makes it return.
    fn halt(&self) -> bool {
        false
    }

    /// The known leader changed; None when unknown.
    fn register_leader(&mut self, leader_id: Option<ReplicaId>) {
        let _ = leader_id;
    }
}
