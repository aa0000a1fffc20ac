package raft

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var fast = Options{Heartbeat: 20 * time.Millisecond, ElectionTimeoutMin: 150 * time.Millisecond, ElectionTimeoutMax: 300 * time.Millisecond}

func waitFor(t *testing.T, d time.Duration, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// runner runs Run on a goroutine and reports what it returned or panicked with.
type runner struct {
	done   chan struct{}
	err    error
	panicV interface{}
}

func startRun(r *Replica) *runner {
	x := &runner{done: make(chan struct{})}
	go func() {
		defer close(x.done)
		defer func() { x.panicV = recover() }()
		x.err = r.Run()
	}()
	return x
}

func (x *runner) wait(t *testing.T) {
	t.Helper()
	select {
	case <-x.done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
}

func leaderOf(t *testing.T, replicas []*Replica) *Replica {
	var found *Replica
	for _, r := range replicas {
		st, err := r.Status()
		if err != nil {
			t.Fatal(err)
		}
		if st.Role == RoleLeader {
			if found != nil {
				return nil
			}
			found = r
		}
	}
	return found
}

// replicateOnGoroutines: three replicas, each in Run on a goroutine of its own,
// apply count transitions, the same on each.  tweak (may be nil) adjusts the options.
func replicateOnGoroutines(t *testing.T, count int, tweak func(*Options)) {
	t.Helper()
	net := newNetwork()
	var replicas []*Replica
	var machines []*recorder
	for id := ReplicaID(1); id <= 3; id++ {
		opts := fast
		opts.ID, opts.Peers, opts.ClusterID = id, peersOf(id, 3), testClusterID
		if tweak != nil {
			tweak(&opts)
		}
		sm := newRecorder()
		r, err := New(opts, sm, newEndpoint(net, id))
		if err != nil {
			t.Fatal(err)
		}
		replicas, machines = append(replicas, r), append(machines, sm)
		net.mu.Lock()
		net.wake[id] = r // deliveries wake the destination's Run
		net.mu.Unlock()
	}
	var runners []*runner
	for _, r := range replicas {
		runners = append(runners, startRun(r))
	}
	waitFor(t, 10*time.Second, "a leader", func() bool { return leaderOf(t, replicas) != nil })

	// Payload -> the id it is proposed under now.  A proposal abandoned by a
	// leadership change is proposed again under a new id, as a client would.
	outstanding := map[string]uint64{}
	nextID := uint64(1)
	propose := func(data string) {
		for {
			if leader := leaderOf(t, replicas); leader != nil {
				err := leader.Propose(nextID, []byte(data))
				if err == nil {
					outstanding[data] = nextID
					nextID++
					return
				}
				if !errors.Is(err, ErrBusy) {
					t.Fatal(err)
				}
			}
			time.Sleep(time.Millisecond)
		}
	}
	for k := 0; k < count; k++ {
		propose(fmt.Sprint("t", k))
	}
	waitFor(t, 30*time.Second, fmt.Sprint(count, " transitions applied everywhere"), func() bool {
		for _, sm := range machines {
			for data, id := range outstanding {
				if s := sm.statesOf(id); len(s) > 0 && s[len(s)-1].Abandoned() {
					propose(data)
				}
			}
		}
		for _, sm := range machines {
			if len(sm.log()) < count {
				return false
			}
		}
		return true
	})
	logs := [][]applied{machines[0].log(), machines[1].log(), machines[2].log()}
	if fmt.Sprint(logs[0]) != fmt.Sprint(logs[1]) || fmt.Sprint(logs[1]) != fmt.Sprint(logs[2]) {
		t.Fatal("replicas applied different sequences")
	}
	var payloads, want []string
	for k, a := range logs[0] {
		payloads = append(payloads, a.data)
		want = append(want, fmt.Sprint("t", k))
	}
	sort.Strings(payloads)
	sort.Strings(want)
	if fmt.Sprint(payloads) != fmt.Sprint(want) {
		t.Fatal("lost or duplicated transitions")
	}
	for i, r := range replicas {
		if err := r.Close(); err != nil { // stops Run and waits for it
			t.Fatal(err)
		}
		runners[i].wait(t)
		if runners[i].err != nil || runners[i].panicV != nil {
			t.Fatalf("Run: %v / %v", runners[i].err, runners[i].panicV)
		}
	}
}

func TestThreeReplicasOnGoroutinesReplicate1000Transitions(t *testing.T) {
	replicateOnGoroutines(t, 1000, nil)
}

func TestBusyPollZeroRunsAndAbove10000IsRefused(t *testing.T) {
	// The library's bound (raft_node_create), so the value reaches raft_options.
	opts := fast
	opts.ID, opts.BusyPollMicros = 1, 10001
	if e := createError(t, opts, nil); e.Code != ErrCodeInvalid || !strings.Contains(e.Detail, "busy_poll_us") {
		t.Fatalf("BusyPollMicros 10001: %v", e)
	}
	// DisableBusyPoll (C 0): Run sleeps as soon as a turn is done; replication still works.
	replicateOnGoroutines(t, 200, func(o *Options) { o.DisableBusyPoll = true })
}

// What each combination puts into raft_options.busy_poll_us.
func TestBusyPollOptionsReachTheCStruct(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want uint32
	}{
		{Options{ID: 1}, 20}, // raft_options_init's default
		{Options{ID: 1, BusyPollMicros: 7}, 7},
		{Options{ID: 1, DisableBusyPoll: true}, 0},
		{Options{ID: 1, BusyPollMicros: 7, DisableBusyPoll: true}, 0},
	} {
		opt, release, err := tc.opts.toC()
		if err != nil {
			t.Fatal(err)
		}
		got := uint32(opt.busy_poll_us)
		release()
		if got != tc.want {
			t.Errorf("BusyPollMicros %d, DisableBusyPoll %v: busy_poll_us %d, want %d",
				tc.opts.BusyPollMicros, tc.opts.DisableBusyPoll, got, tc.want)
		}
	}
}

func TestHaltAndStopMakeRunReturn(t *testing.T) {
	ep := newEndpoint(newNetwork(), 1)
	opts := fast
	opts.ID = 1
	r, err := New(opts, newRecorder(), ep)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x := startRun(r)
	time.Sleep(30 * time.Millisecond)
	ep.mu.Lock()
	ep.halted = true
	ep.mu.Unlock()
	r.Notify()
	x.wait(t)
	if x.err != nil {
		t.Fatal(x.err)
	}
	ep.mu.Lock()
	ep.halted = false
	ep.mu.Unlock()
	if _, err := r.Poll(1 << 40); err != nil { // halt does not stop the node
		t.Fatal(err)
	}
	x = startRun(r)
	time.Sleep(30 * time.Millisecond)
	r.Stop()
	x.wait(t)
	if x.err != nil {
		t.Fatal(x.err)
	}
	if err := r.Run(); !errors.Is(err, ErrShutdown) {
		t.Fatal(err)
	}
}

type exploding struct{}

func (exploding) ApplyTransition(id uint64, _ []byte) { panic(fmt.Sprint("apply ", id)) }

func TestAPanicInApplyEndsRunWithIt(t *testing.T) {
	opts := fast
	opts.ID = 1
	r := single(t, opts, exploding{})
	x := startRun(r)
	waitFor(t, 5*time.Second, "a single-node leader", func() bool { st, _ := r.Status(); return st.Role == RoleLeader })
	if err := r.Propose(77, []byte("boom")); err != nil {
		t.Fatal(err)
	}
	x.wait(t)
	if x.panicV != "apply 77" {
		t.Fatalf("Run panicked with %v", x.panicV)
	}
}

func TestProposalsFromManyGoroutines(t *testing.T) {
	sm := newRecorder()
	opts := fast
	opts.ID = 1
	r := single(t, opts, sm)
	x := startRun(r)
	waitFor(t, 5*time.Second, "a single-node leader", func() bool { st, _ := r.Status(); return st.Role == RoleLeader })
	var wg sync.WaitGroup
	for c := uint64(1); c <= 4; c++ {
		wg.Add(1)
		go func(c uint64) {
			defer wg.Done()
			for k := uint64(0); k < 100; k++ {
				if err := r.Propose(1000*c+k, []byte("c")); err != nil {
					t.Error(err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	waitFor(t, 10*time.Second, "400 applies", func() bool { return len(sm.log()) == 400 })
	last := map[uint64]uint64{}
	for _, a := range sm.log() {
		c := a.id / 1000
		if a.id%1000 != last[c] {
			t.Fatalf("client %d out of order at %d", c, a.id)
		}
		last[c]++
	}
	r.Close()
	x.wait(t)
}

func TestASecondDriverGetsBusy(t *testing.T) {
	opts := fast
	opts.ID = 1
	r := single(t, opts, newRecorder())
	x := startRun(r)
	waitFor(t, 5*time.Second, "the first election", func() bool { st, _ := r.Status(); return st.Term > 0 })
	if _, err := r.Poll(1 << 40); !errors.Is(err, ErrBusy) {
		t.Fatalf("second driver: %v", err)
	}
	select {
	case <-x.done:
		t.Fatal("the Busy call disturbed the running loop")
	default:
	}
	r.Close()
	x.wait(t)
}
