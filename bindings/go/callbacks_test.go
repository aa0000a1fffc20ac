package raft

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// recovered runs f and returns what it panicked with (nil if nothing).
func recovered(f func()) (p interface{}) {
	defer func() { p = recover() }()
	f()
	return nil
}

type panicsOn2 struct{ applied []uint64 }

func (s *panicsOn2) ApplyTransition(id uint64, _ []byte) {
	if id == 2 {
		panic("apply 2")
	}
	s.applied = append(s.applied, id)
}

func TestAPanicInApplyIsRepanickedAndStopsTheReplica(t *testing.T) {
	sm := &panicsOn2{}
	r := single(t, Options{}, sm)
	now := lead(t, r)
	for k := uint64(1); k <= 3; k++ {
		if err := r.Propose(k, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if p := recovered(func() { r.Poll(now + 1) }); p != "apply 2" {
		t.Fatalf("recovered %v", p)
	}
	// The state machine missed entry 2: nothing after it was applied, and the node stopped.
	if fmt.Sprint(sm.applied) != "[1]" {
		t.Fatalf("applied %v", sm.applied)
	}
	if _, err := r.Poll(now + 2); !errors.Is(err, ErrShutdown) {
		t.Fatal(err)
	}
}

// flaky panics on chosen calls of SendMessage or ReceiveMessages, and counts them.
type flaky struct {
	sends, receives             int
	panicOnSend, panicOnReceive int
}

func (f *flaky) SendMessage(ReplicaID, []byte) {
	if f.sends++; f.sends == f.panicOnSend {
		panic(fmt.Sprintf("send %d", f.sends))
	}
}

func (f *flaky) ReceiveMessages() [][]byte {
	if f.receives++; f.receives == f.panicOnReceive {
		panic(fmt.Errorf("receive %d", f.receives))
	}
	return nil
}

func TestAPanicInSendIsRepanickedAndTheReplicaCarriesOn(t *testing.T) {
	f := &flaky{panicOnSend: 1}
	r, err := New(Options{ID: 1, Peers: []ReplicaID{2, 3}, RandomSeed: 1}, newRecorder(), f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var panics []interface{}
	// Nobody answers, so the replica campaigns again and again: sends go on.
	for now := uint64(1); now < 5000; now++ {
		if p := recovered(func() {
			if _, err := r.Poll(now); err != nil {
				t.Fatal(err)
			}
		}); p != nil {
			panics = append(panics, p)
		}
	}
	if fmt.Sprint(panics) != "[send 1]" || f.sends < 3 {
		t.Fatalf("panics %v after %d sends", panics, f.sends)
	}
}

func TestAPanicInReceiveIsRepanickedInsteadOfACallbackError(t *testing.T) {
	f := &flaky{panicOnReceive: 1}
	r, err := New(Options{ID: 1, Peers: []ReplicaID{2, 3}}, newRecorder(), f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := recovered(func() { r.Poll(1) })
	if e, ok := p.(error); !ok || e.Error() != "receive 1" {
		t.Fatalf("recovered %#v", p)
	}
	if _, err := r.Poll(2); err != nil { // nothing left over: a normal turn
		t.Fatal(err)
	}
	if f.receives != 2 {
		t.Fatalf("%d receives", f.receives)
	}
}

type grumpy struct{ recorder }

func (g *grumpy) RegisterTransitionState(_ uint64, s TransitionState) {
	panic("state " + s.String())
}

func TestAPanicInRegisterTransitionStateDoesNotStopApply(t *testing.T) {
	g := &grumpy{*newRecorder()}
	r := single(t, Options{}, g)
	now := lead(t, r)
	if err := r.Propose(9, []byte("z")); err != nil {
		t.Fatal(err)
	}
	if p := recovered(func() { r.Poll(now + 1) }); p != "state queued" { // the first panic of a turn
		t.Fatalf("recovered %v", p)
	}
	recovered(func() { r.Poll(now + 2) })
	if log := g.log(); len(log) != 1 || log[0].id != 9 {
		t.Fatalf("applied %v", log)
	}
}

type reentrant struct {
	r       *Replica
	seen    []error
	applied []uint64
}

func (s *reentrant) ApplyTransition(id uint64, _ []byte) {
	s.applied = append(s.applied, id)
	_, err := s.r.Poll(1 << 40)
	s.seen = append(s.seen, err, s.r.Run(), s.r.Close())
	if id < 100 {
		s.seen = append(s.seen, s.r.Propose(id+100, []byte("from apply")))
	}
}

func TestReentrantCallsFromACallback(t *testing.T) {
	sm := &reentrant{}
	r := single(t, Options{}, sm)
	sm.r = r
	now := lead(t, r)
	if err := r.Propose(1, []byte("a")); err != nil {
		t.Fatal(err)
	}
	for _, ms := range []uint64{now + 1, now + 2} {
		if _, err := r.Poll(ms); err != nil {
			t.Fatal(err)
		}
	}
	for i, err := range sm.seen[:3] {
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("call %d from apply: %v", i, err)
		}
	}
	if sm.seen[3] != nil || fmt.Sprint(sm.applied) != "[1 101]" {
		t.Fatalf("propose from apply: %v, applied %v", sm.seen[3], sm.applied)
	}
	if _, err := r.Status(); err != nil {
		t.Fatal("the replica was closed from its own callback")
	}
}

type junk struct{ msgs [][]byte }

func (j *junk) SendMessage(ReplicaID, []byte) {}
func (j *junk) ReceiveMessages() [][]byte {
	m := j.msgs
	j.msgs = nil
	return m
}

func TestTheLoggerGetsWarningsButNotCreateFailures(t *testing.T) {
	var lines []string
	logger := func(level LogLevel, line string) { lines = append(lines, fmt.Sprint(level, " ", line)) }
	r, err := New(Options{ID: 1, Peers: []ReplicaID{2, 3}, Logger: logger}, newRecorder(), &junk{[][]byte{[]byte("junk")}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Poll(1); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], fmt.Sprint(LogWarn, " ")) || !strings.Contains(lines[0], "rejected") {
		t.Fatalf("log %q", lines)
	}
	lines = nil
	if _, err := New(Options{Logger: logger}, newRecorder(), nil); err == nil {
		t.Fatal("id 0 accepted")
	}
	if len(lines) != 0 {
		t.Fatalf("the failure is the error, not a log line: %q", lines)
	}
}

// The replica's finalizer closes it, which deletes the handle that kept the state
// machine reachable: the state machine's own finalizer then proves both happened.
func TestAnUnreachableReplicaIsFreedWithItsCallbacks(t *testing.T) {
	done := make(chan struct{})
	func() {
		sm := newRecorder()
		runtime.SetFinalizer(sm, func(*recorder) { close(done) })
		if _, err := New(Options{ID: 1}, sm, nil); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 100; i++ {
		runtime.GC()
		select {
		case <-done:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the replica or its state machine was never freed")
}
