//! Plain Rust mirrors of raft.h's enums and of raft_status.
use raft_sys as sys;

/// A replica id: chosen by the user, unique in the cluster, never 0.
pub type ReplicaId = u64;

/// little_raft's TransitionAbandonedReason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransitionAbandonedReason {
    /// This replica was not the leader; nothing was logged.
    NotLeader,
    /// A new leader removed it from this replica's log: proof that it never committed.
    ConflictWithLeader,
}

/// Progress of a transition proposed on this replica (little_raft's TransitionState).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransitionState {
    Queued,
    Committed,
    Applied,
    Abandoned(TransitionAbandonedReason),
    /// This replica's log was replaced by a leader's snapshot before the transition's
    /// position was decided here: ask the state machine whether it holds it.
    Unknown,
    /// A state newer than this crate.
    Other(u32),
}

impl TransitionState {
    pub(crate) fn from_raw(state: sys::raft_transition_state) -> TransitionState {
        match state {
            sys::RAFT_TRANSITION_QUEUED => TransitionState::Queued,
            sys::RAFT_TRANSITION_COMMITTED => TransitionState::Committed,
            sys::RAFT_TRANSITION_APPLIED => TransitionState::Applied,
            sys::RAFT_TRANSITION_ABANDONED_NOT_LEADER => {
                TransitionState::Abandoned(TransitionAbandonedReason::NotLeader)
            }
            sys::RAFT_TRANSITION_ABANDONED_CONFLICT => {
                TransitionState::Abandoned(TransitionAbandonedReason::ConflictWithLeader)
            }
            sys::RAFT_TRANSITION_UNKNOWN => TransitionState::Unknown,
            other => TransitionState::Other(other),
        }
    }
}

/// A replica's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
    /// A role newer than this crate.
    Other(u32),
}

impl Role {
    pub(crate) fn from_raw(role: sys::raft_role) -> Role {
        match role {
            sys::RAFT_FOLLOWER => Role::Follower,
            sys::RAFT_PRE_CANDIDATE => Role::PreCandidate,
            sys::RAFT_CANDIDATE => Role::Candidate,
            sys::RAFT_LEADER => Role::Leader,
            other => Role::Other(other),
        }
    }
}

/// Diagnostic levels; lower is more severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    pub(crate) fn from_raw(level: sys::raft_log_level) -> LogLevel {
        match level {
            sys::RAFT_LOG_ERROR => LogLevel::Error,
            sys::RAFT_LOG_WARN => LogLevel::Warn,
            sys::RAFT_LOG_INFO => LogLevel::Info,
            _ => LogLevel::Debug,
        }
    }

    pub(crate) fn raw(self) -> sys::raft_log_level {
        match self {
            LogLevel::Error => sys::RAFT_LOG_ERROR,
            LogLevel::Warn => sys::RAFT_LOG_WARN,
            LogLevel::Info => sys::RAFT_LOG_INFO,
            LogLevel::Debug => sys::RAFT_LOG_DEBUG,
        }
    }
}

/// A replica's state as of the end of its last turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub id: ReplicaId,
    pub role: Role,
    pub term: u64,
    /// None when unknown.
    pub leader: Option<ReplicaId>,
    pub commit_index: u64,
    pub applied_index: u64,
    pub last_index: u64,
    pub snapshot_index: u64,
    pub msgs_sent: u64,
    pub msgs_received: u64,
    /// Malformed, foreign or misaddressed frames.
    pub msgs_rejected: u64,
    /// Real (not pre-vote) campaigns.
    pub elections_started: u64,
    /// Proposals waiting for the loop thread.
    pub proposals_queued: u64,
}

impl Status {
    pub(crate) fn from_raw(st: &sys::raft_status) -> Status {
        Status {
            id: st.id,
            role: Role::from_raw(st.role),
            term: st.term,
            leader: if st.leader == sys::RAFT_NO_ID { None } else { Some(st.leader) },
            commit_index: st.commit_index,
            applied_index: st.applied_index,
            last_index: st.last_index,
            snapshot_index: st.snapshot_index,
            msgs_sent: st.msgs_sent,
            msgs_received: st.msgs_received,
            msgs_rejected: st.msgs_rejected,
            elections_started: st.elections_started,
            proposals_queued: st.proposals_queued,
        }
    }
}
