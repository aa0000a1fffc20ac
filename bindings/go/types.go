package raft

// Role is a replica's role (raft_role).
type Role uint32

const (
	RoleFollower     Role = 1
	RolePreCandidate Role = 2
	RoleCandidate    Role = 3
	RoleLeader       Role = 4
)

func (r Role) String() string {
	switch r {
	case RoleFollower:
		return "follower"
	case RolePreCandidate:
		return "pre-candidate"
	case RoleCandidate:
		return "candidate"
	case RoleLeader:
		return "leader"
	}
	return "role(" + itoa(uint64(r)) + ")"
}

// TransitionState is the progress of a transition proposed on this replica
// (little_raft's TransitionState; its Abandoned(reason) is the two Abandoned* values).
type TransitionState uint32

const (
	TransitionQueued    TransitionState = 1
	TransitionCommitted TransitionState = 2
	TransitionApplied   TransitionState = 3
	// TransitionAbandonedNotLeader: this replica was not the leader; nothing was logged.
	TransitionAbandonedNotLeader TransitionState = 4
	// TransitionAbandonedConflict: a new leader removed it from this replica's log,
	// proof that it never committed.  Retry under a new id.
	TransitionAbandonedConflict TransitionState = 5
	// TransitionUnknown: this replica's log was replaced by a leader's snapshot
	// before the transition's position was decided here; ask the state machine.
	TransitionUnknown TransitionState = 6
)

// Abandoned reports whether the transition will never be applied.
func (s TransitionState) Abandoned() bool {
	return s == TransitionAbandonedNotLeader || s == TransitionAbandonedConflict
}

func (s TransitionState) String() string {
	switch s {
	case TransitionQueued:
		return "queued"
	case TransitionCommitted:
		return "committed"
	case TransitionApplied:
		return "applied"
	case TransitionAbandonedNotLeader:
		return "abandoned (not leader)"
	case TransitionAbandonedConflict:
		return "abandoned (conflict with leader)"
	case TransitionUnknown:
		return "unknown (log replaced by a snapshot)"
	}
	return "state(" + itoa(uint64(s)) + ")"
}

// LogLevel is a diagnostic level; lower is more severe.
type LogLevel uint32

const (
	LogError LogLevel = 1
	LogWarn  LogLevel = 2
	LogInfo  LogLevel = 3
	LogDebug LogLevel = 4
)

// Status is a replica's state as of the end of its last turn.
type Status struct {
	ID               ReplicaID
	Role             Role
	Term             uint64
	Leader           ReplicaID // NoID when unknown
	CommitIndex      uint64
	AppliedIndex     uint64
	LastIndex        uint64
	SnapshotIndex    uint64
	MsgsSent         uint64
	MsgsReceived     uint64
	MsgsRejected     uint64 // malformed, foreign or misaddressed frames
	ElectionsStarted uint64 // real (not pre-vote) campaigns
	ProposalsQueued  uint64 // waiting for the loop
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for ; v > 0; v /= 10 {
		i--
		buf[i] = byte('0' + v%10)
	}
	return string(buf[i:])
}
