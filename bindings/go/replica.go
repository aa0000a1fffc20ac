package raft

/*
#include <stdint.h>
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Replica is one Raft replica (little_raft's Replica).
//
// Drive it with Run on a goroutine of its own, or call Poll from an event loop.
// Propose, ProposeBatch, Notify, Stop, Status and Close are safe from any goroutine.  Close
// (also run by a finalizer) stops the replica, waits for Run/Poll on other
// goroutines to return and frees the node.
type Replica struct {
	mu      sync.Mutex
	idle    sync.Cond // signalled when a Run/Poll returns
	driving bool      // a Run/Poll is in progress
	node    *C.raft_node
	user    unsafe.Pointer // C memory holding the cgo.Handle: the node's `user`
	handle  cgo.Handle
	ctx     *context
	id      ReplicaID
}

var errClosed = &Error{Code: ErrCodeInvalid, Detail: "the replica is closed"}

// New creates a replica.  cluster may be nil for a single-replica cluster.
// Errors carry the library's reason, e.g. "options.id must not be 0".
func New(opts Options, sm StateMachine, cluster Cluster) (*Replica, error) {
	if sm == nil {
		return nil, &Error{Code: ErrCodeInvalid, Detail: "the state machine is nil"}
	}
	copts, release, err := opts.toC()
	if err != nil {
		return nil, err
	}
	defer release()

	ctx := &context{sm: sm, cluster: cluster, logger: opts.Logger, creating: true}
	ctx.observer, _ = sm.(TransitionObserver)
	ctx.snapshots, _ = sm.(Snapshotter)
	ctx.halter, _ = cluster.(Halter)
	ctx.leaders, _ = cluster.(LeaderObserver)
	r := &Replica{ctx: ctx, id: opts.ID, handle: cgo.NewHandle(ctx)}
	r.idle.L = &r.mu
	r.user = C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	*(*C.uintptr_t)(r.user) = C.uintptr_t(r.handle)

	var cb C.raft_callbacks
	withCluster := C.int(0)
	if cluster != nil {
		withCluster = 1
	}
	withSnapshots := C.int(0)
	if ctx.snapshots != nil {
		withSnapshots = 1
	}
	C.raft_go_callbacks(&cb, withCluster, withSnapshots)
	var node *C.raft_node
	rc := C.raft_node_create(&node, &copts, &cb, r.user)
	ctx.creating = false
	ctx.node = node
	r.node = node
	if p := ctx.pending; p != nil || rc != C.RAFT_OK {
		r.free()
		if p != nil {
			panic(p.value)
		}
		return nil, &Error{Code: ErrorCode(rc), Detail: ctx.createError}
	}
	for _, line := range ctx.createLines {
		ctx.forward(line.level, line.text)
	}
	ctx.createLines = nil
	runtime.SetFinalizer(r, (*Replica).Close)
	return r, nil
}

// ID is this replica's id.
func (r *Replica) ID() ReplicaID { return r.id }

// Run drives the replica on this goroutine until the cluster's Halt is true or
// Stop is called.  It sleeps between turns: call Notify when messages arrive.
// A panic in a callback is re-raised here.
func (r *Replica) Run() error {
	return r.drive(func(node *C.raft_node) C.int { return C.raft_go_run(node, r.user) })
}

// Poll runs one turn at nowMs, on any monotonic millisecond clock that never goes
// back, and returns when to poll again at the latest (same clock).  Poll sooner
// when a message arrives.  A panic in a callback is re-raised here.
func (r *Replica) Poll(nowMs uint64) (nextMs uint64, err error) {
	var next C.uint64_t
	err = r.drive(func(node *C.raft_node) C.int {
		return C.raft_go_poll(node, C.uint64_t(nowMs), &next, r.user)
	})
	return uint64(next), err
}

// drive lets one Run/Poll in at a time, enforced here as well as in C: a pending
// panic then always belongs to this call.
func (r *Replica) drive(call func(*C.raft_node) C.int) error {
	r.mu.Lock()
	node := r.node
	if node == nil {
		r.mu.Unlock()
		return errClosed
	}
	if r.driving {
		r.mu.Unlock()
		return &Error{Code: ErrCodeBusy, Detail: "Run/Poll called while another goroutine drives the replica, or from its callback"}
	}
	r.driving = true
	r.mu.Unlock()

	rc := call(node)
	err := nodeError(rc, node) // before Close may free the node
	p := r.ctx.pending
	r.ctx.pending = nil

	r.mu.Lock()
	r.driving = false
	r.idle.Broadcast()
	r.mu.Unlock()
	if p != nil {
		panic(p.value)
	}
	return err
}

// Propose queues a transition (data is copied).  Any goroutine.  Its progress is
// reported to the state machine's RegisterTransitionState, if it has one.
// Errors: ErrBusy (queue full: retry after the loop has run), ErrTooBig, ErrShutdown.
func (r *Replica) Propose(id uint64, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node == nil {
		return errClosed
	}
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0]) // only read during the call, as cgo allows
	}
	return nodeError(C.raft_node_propose(r.node, C.uint64_t(id), p, C.size_t(len(data))), r.node)
}

// Proposal is one transition of a batch for ProposeBatch: the arguments of one Propose.
type Proposal struct {
	ID   uint64
	Data []byte
}

// ProposeBatch queues proposals in order, as Propose would one by one, under one
// lock of the node.  Any goroutine.  It returns how many were queued, a prefix of
// proposals, and, as io.Writer does, a non-nil error exactly when that is fewer
// than len(proposals): the error of the first proposal not queued, as Propose
// reports it.  ErrBusy with n > 0 means the queue filled part way: resubmit
// proposals[n:] after the loop has run.  The payloads are copied into one C
// buffer for the call (cgo forbids Go pointers in C memory).
func (r *Replica) ProposeBatch(proposals []Proposal) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node == nil {
		return 0, errClosed
	}
	if len(proposals) == 0 {
		return 0, nil
	}
	// One allocation: the raft_proposal array, then every payload.
	arrayBytes := uintptr(len(proposals)) * unsafe.Sizeof(C.raft_proposal{})
	total := 0
	for _, p := range proposals {
		total += len(p.Data)
	}
	mem := C.malloc(C.size_t(arrayBytes + uintptr(total)))
	defer C.free(mem)
	array := unsafe.Slice((*C.raft_proposal)(mem), len(proposals))
	var payloads []byte
	if total > 0 {
		payloads = unsafe.Slice((*byte)(unsafe.Add(mem, arrayBytes)), total)
	}
	off := 0
	for i, p := range proposals {
		array[i] = C.raft_proposal{id: C.uint64_t(p.ID), len: C.size_t(len(p.Data))}
		if len(p.Data) > 0 {
			copy(payloads[off:], p.Data)
			array[i].data = unsafe.Pointer(&payloads[off])
			off += len(p.Data)
		}
	}
	var queued C.size_t
	rc := C.raft_node_propose_batch(r.node, &array[0], C.size_t(len(proposals)), &queued)
	return int(queued), nodeError(rc, r.node)
}

// Notify wakes Run: messages may be waiting.  Any goroutine; a no-op once closed.
func (r *Replica) Notify() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node != nil {
		C.raft_node_notify(r.node)
	}
}

// Stop makes Run return; later Run, Poll and Propose fail with ErrShutdown.
// Idempotent, any goroutine.
func (r *Replica) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node != nil {
		C.raft_node_stop(r.node)
	}
}

// Status is the state as of the end of the last turn.  Any goroutine.
func (r *Replica) Status() (Status, error) {
	var st C.raft_status
	C.raft_status_init(&st)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.node == nil {
		return Status{}, errClosed
	}
	if err := nodeError(C.raft_node_status(r.node, &st), r.node); err != nil {
		return Status{}, err
	}
	return Status{
		ID:               ReplicaID(st.id),
		Role:             Role(st.role),
		Term:             uint64(st.term),
		Leader:           ReplicaID(st.leader),
		CommitIndex:      uint64(st.commit_index),
		AppliedIndex:     uint64(st.applied_index),
		LastIndex:        uint64(st.last_index),
		SnapshotIndex:    uint64(st.snapshot_index),
		MsgsSent:         uint64(st.msgs_sent),
		MsgsReceived:     uint64(st.msgs_received),
		MsgsRejected:     uint64(st.msgs_rejected),
		ElectionsStarted: uint64(st.elections_started),
		ProposalsQueued:  uint64(st.proposals_queued),
	}, nil
}

// Close stops the replica, waits for Run/Poll on other goroutines to return and
// frees the node.  Idempotent.  From inside one of the replica's own callbacks it
// fails with ErrBusy (the node cannot be freed under its own feet).
func (r *Replica) Close() error {
	r.mu.Lock()
	if r.node == nil {
		r.mu.Unlock()
		return nil
	}
	if C.raft_go_in_callback(r.user) != 0 {
		r.mu.Unlock()
		return &Error{Code: ErrCodeBusy, Detail: "Close called from inside a callback"}
	}
	C.raft_node_stop(r.node)
	for r.driving {
		r.idle.Wait()
	}
	r.mu.Unlock()
	r.free()
	runtime.SetFinalizer(r, nil)
	return nil
}

// free destroys the node, then what its callbacks use.
func (r *Replica) free() {
	if r.node != nil {
		C.raft_node_destroy(r.node)
		r.node = nil
	}
	r.ctx.freeBuffers()
	r.handle.Delete()
	C.free(r.user)
	r.user = nil
}
