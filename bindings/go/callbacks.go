package raft

/*
#include <stdint.h>
#include <stdlib.h>
#include <raft.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// context is what the callbacks of one replica share.  Only the goroutine inside
// Run or Poll touches it (the library lets one thread at a time drive a node),
// apart from fields fixed before the first callback.
type context struct {
	sm        StateMachine
	observer  TransitionObserver // nil when sm does not implement it
	snapshots Snapshotter        // nil when sm does not implement it
	cluster   Cluster            // nil: a single replica
	halter    Halter
	leaders   LeaderObserver
	logger    func(LogLevel, string)
	node      *C.raft_node

	pending  *panicked // the first panic of the current C call
	poisoned bool      // ApplyTransition panicked: this state machine has a hole
	inbox    [][]byte
	rxBuf    unsafe.Pointer // C memory: what receive handed out stays valid until the next receive
	rxCap    int

	creating    bool
	createError string
	createLevel C.raft_log_level
	createLines []logLine // held back: forwarded if create succeeds, they are the error if not
}

type panicked struct{ value interface{} }

type logLine struct {
	level C.raft_log_level
	text  string
}

func lookup(h C.uintptr_t) *context {
	return cgo.Handle(h).Value().(*context)
}

func (c *context) keep(p interface{}) {
	if c.pending == nil {
		c.pending = &panicked{p}
	}
}

// guard runs user code; a panic is kept and false returned.
func (c *context) guard(f func()) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			c.keep(p)
			ok = false
		}
	}()
	f()
	return true
}

func (c *context) forward(level C.raft_log_level, text string) {
	if c.logger != nil {
		c.guard(func() { c.logger(LogLevel(level), text) })
	}
}

func (c *context) freeBuffers() {
	C.free(c.rxBuf)
	c.rxBuf, c.rxCap = nil, 0
}

// goBytes copies a borrowed C buffer (size_t length: C.GoBytes takes only an int).
func goBytes(data unsafe.Pointer, n C.size_t) []byte {
	if data == nil || n == 0 {
		return []byte{}
	}
	out := make([]byte, int(n))
	copy(out, unsafe.Slice((*byte)(data), int(n)))
	return out
}

//export goRaftApply
func goRaftApply(h C.uintptr_t, id C.uint64_t, data unsafe.Pointer, n C.size_t) {
	c := lookup(h)
	if c.poisoned {
		return
	}
	payload := goBytes(data, n)
	if !c.guard(func() { c.sm.ApplyTransition(uint64(id), payload) }) {
		c.poisoned = true
		C.raft_node_stop(c.node) // later calls fail with ErrShutdown, from every goroutine
	}
}

//export goRaftTransitionState
func goRaftTransitionState(h C.uintptr_t, id C.uint64_t, state C.raft_transition_state) {
	c := lookup(h)
	if c.observer != nil {
		c.guard(func() { c.observer.RegisterTransitionState(uint64(id), TransitionState(state)) })
	}
}

//export goRaftSend
func goRaftSend(h C.uintptr_t, to C.raft_id, msg unsafe.Pointer, n C.size_t) {
	c := lookup(h)
	payload := goBytes(msg, n)
	c.guard(func() { c.cluster.SendMessage(ReplicaID(to), payload) })
}

//export goRaftReceive
func goRaftReceive(h C.uintptr_t, msg *unsafe.Pointer, n *C.size_t) C.int {
	c := lookup(h)
	if len(c.inbox) == 0 {
		if !c.guard(func() { c.inbox = append(c.inbox, c.cluster.ReceiveMessages()...) }) {
			return -1 // poll fails with ErrCallback; Run/Poll re-panic instead
		}
	}
	if len(c.inbox) == 0 {
		return 0
	}
	m := c.inbox[0]
	c.inbox[0] = nil
	c.inbox = c.inbox[1:]
	// A Go pointer must not be kept by C after the call: copy into C memory.
	if len(m) > c.rxCap {
		grown := C.realloc(c.rxBuf, C.size_t(len(m)))
		if grown == nil {
			return -1
		}
		c.rxBuf, c.rxCap = grown, len(m)
	}
	if len(m) > 0 {
		copy(unsafe.Slice((*byte)(c.rxBuf), len(m)), m)
	}
	*msg = c.rxBuf
	*n = C.size_t(len(m))
	return 1
}

//export goRaftHalt
func goRaftHalt(h C.uintptr_t) C.int {
	c := lookup(h)
	if c.pending != nil {
		return 1 // let Run return so that the panic is raised promptly
	}
	halt := false
	if c.halter != nil && !c.guard(func() { halt = c.halter.Halt() }) {
		return 1
	}
	if halt {
		return 1
	}
	return 0
}

//export goRaftLeader
func goRaftLeader(h C.uintptr_t, leader C.raft_id) {
	c := lookup(h)
	if c.leaders != nil {
		c.guard(func() { c.leaders.RegisterLeader(ReplicaID(leader)) })
	}
}

//export goRaftLog
func goRaftLog(h C.uintptr_t, level C.raft_log_level, msg *C.char) {
	c := lookup(h)
	text := C.GoString(msg)
	if c.creating {
		// raft_node_create explains a failure only through log: keep the most severe line.
		if c.createError == "" || level < c.createLevel {
			c.createError, c.createLevel = text, level
		}
		c.createLines = append(c.createLines, logLine{level, text})
		return
	}
	c.forward(level, text)
}
