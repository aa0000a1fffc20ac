package raft

// StateMachine is the replicated state machine (little_raft's StateMachine).
// Its methods run on the goroutine inside Run or Poll.  little_raft's
// get_pending_transitions has no counterpart: call Replica.Propose instead.
type StateMachine interface {
	// ApplyTransition receives a committed transition, in the same log order on
	// every replica.  data is the callee's to keep.  If it panics, the replica
	// stops: its state machine has missed an entry.
	ApplyTransition(id uint64, data []byte)
}

// TransitionObserver is optionally implemented by a StateMachine to follow the
// progress of transitions proposed on this replica.
type TransitionObserver interface {
	RegisterTransitionState(id uint64, state TransitionState)
}

// Cluster is the transport to the other replicas (little_raft's Cluster).
// Its methods run on the goroutine inside Run or Poll and must not block.
type Cluster interface {
	// SendMessage delivers msg to replica to, best effort: loss, duplication and
	// reordering are tolerated.  msg is the callee's to keep.
	SendMessage(to ReplicaID, msg []byte)
	// ReceiveMessages returns every message that arrived since the last call, each
	// exactly once.  When messages arrive while Run sleeps, call Replica.Notify.
	ReceiveMessages() [][]byte
}

// Halter is optionally implemented by a Cluster: Run checks Halt after every turn
// and returns when it is true.
type Halter interface {
	Halt() bool
}

// LeaderObserver is optionally implemented by a Cluster to learn of leader
// changes; leader is NoID when unknown.
type LeaderObserver interface {
	RegisterLeader(leader ReplicaID)
}
