//! The user's side of a replica, shaped like little_raft's traits.
//!
//! Transitions are opaque bytes with a caller-chosen u64 id (little_raft is
//! generic over a transition type instead: encode yours to bytes).  All methods
//! are called on the thread inside `Replica::run` or `Replica::poll`, with the
//! object's mutex held.  A panic in one of them is caught before it reaches C
//! and resumed by the run/poll call that made the callback.
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
