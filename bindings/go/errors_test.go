package raft

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func createError(t *testing.T, opts Options, cluster Cluster) *Error {
	t.Helper()
	r, err := New(opts, newRecorder(), cluster)
	if err == nil {
		r.Close()
		t.Fatalf("New(%+v) succeeded", opts)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not a *raft.Error", err)
	}
	return e
}

func TestCreateErrorsCarryTheCodeAndTheReason(t *testing.T) {
	e := createError(t, Options{}, nil)
	if !errors.Is(e, ErrInvalid) || errors.Is(e, ErrBusy) || !strings.Contains(e.Detail, "id") {
		t.Fatalf("%#v", e)
	}
	if e.Error() != "raft: "+e.Detail+": "+ErrCodeInvalid.String() {
		t.Fatalf("message %q", e.Error())
	}
	for _, tc := range []struct {
		opts     Options
		fragment string
	}{
		{Options{ID: 1, Heartbeat: 200 * time.Millisecond, ElectionTimeoutMin: 150 * time.Millisecond}, "heartbeat"},
		{Options{ID: 1, ElectionTimeoutMin: 300 * time.Millisecond, ElectionTimeoutMax: 300 * time.Millisecond}, "election"},
		{Options{ID: 1, Heartbeat: -time.Second}, "Heartbeat"},
		{Options{ID: 1, Heartbeat: time.Duration(math.MaxInt64)}, "Heartbeat"},
		{Options{ID: 1, DataDir: "a\x00b"}, "NUL"},
		{Options{ID: 1, Peers: []ReplicaID{2, 3}}, "send"},
	} {
		if e := createError(t, tc.opts, nil); e.Code != ErrCodeInvalid || !strings.Contains(e.Detail, tc.fragment) {
			t.Errorf("%+v: %v", tc.opts, e)
		}
	}
	if e := createError(t, Options{ID: 1, Peers: []ReplicaID{1, 2}}, newEndpoint(newNetwork(), 1)); e.Code != ErrCodeInvalid {
		t.Errorf("a peer list naming the replica itself: %v", e)
	}
	if _, err := New(Options{ID: 1}, nil, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil state machine: %v", err)
	}
}

func TestCodesDescribeThemselves(t *testing.T) {
	seen := map[string]bool{}
	for code := ErrCodeInvalid; code >= ErrCodeNotSupported; code-- {
		if seen[code.String()] {
			t.Fatalf("%d shares its description", code)
		}
		seen[code.String()] = true
	}
	if ErrorCode(-99).String() == ErrCodeInvalid.String() {
		t.Fatal("an unknown code looks like a known one")
	}
}

func TestTooBigAndBusyProposals(t *testing.T) {
	sm := newRecorder()
	r := single(t, Options{MaxEntryBytes: 16, MaxQueueBytes: 1024}, sm)
	now := lead(t, r)
	if err := r.Propose(1, []byte(strings.Repeat("x", 16))); err != nil {
		t.Fatal(err)
	}
	if err := r.Propose(2, nil); err != nil {
		t.Fatal(err)
	}
	err := r.Propose(3, []byte(strings.Repeat("x", 17)))
	if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "max_entry_bytes") {
		t.Fatalf("oversized: %v", err)
	}
	for k := uint64(10); ; k++ {
		if err = r.Propose(k, []byte("q")); err != nil {
			break
		}
		if k > 10000 {
			t.Fatal("the queue never filled")
		}
	}
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("full queue: %v", err)
	}
	if st, _ := r.Status(); st.ProposalsQueued < 3 {
		t.Fatalf("queued %d", st.ProposalsQueued)
	}
	if _, err := r.Poll(now + 1); err != nil { // the loop drains the queue
		t.Fatal(err)
	}
	if err := r.Propose(20000, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Poll(now + 2); err != nil {
		t.Fatal(err)
	}
	log := sm.log()
	if log[0] != (applied{1, strings.Repeat("x", 16)}) || log[1] != (applied{2, ""}) || log[len(log)-1] != (applied{20000, "again"}) {
		t.Fatalf("applied %v...", log[:2])
	}
}

func TestTooMuchUncommittedIsBusyUntilItCommits(t *testing.T) {
	sm := newRecorder()
	r := single(t, Options{MaxUncommittedBytes: 64}, sm)
	now := lead(t, r)
	big := strings.Repeat("x", 100)
	if err := r.Propose(1, []byte(big)); err != nil { // over the limit, but nothing was uncommitted
		t.Fatal(err)
	}
	err := r.Propose(2, []byte("y"))
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "max_uncommitted_bytes") {
		t.Fatalf("propose: %v", err)
	}
	if n, err := r.ProposeBatch([]Proposal{{2, []byte("y")}}); n != 0 || !errors.Is(err, ErrBusy) ||
		!strings.Contains(err.Error(), "max_uncommitted_bytes") {
		t.Fatalf("batch: %d, %v", n, err)
	}
	now = pollFor(t, r, now, 1) // a single replica commits at once: nothing is uncommitted after it
	if got, want := sm.log(), []applied{{1, big}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("applied %v, want %v", got, want)
	}
	// (20 + 24) + (20 + 24) bytes would pass 64: a short batch, the rest goes later.
	a, b := strings.Repeat("a", 20), strings.Repeat("b", 20)
	if n, err := r.ProposeBatch([]Proposal{{3, []byte(a)}, {4, []byte(b)}}); n != 1 || !errors.Is(err, ErrBusy) {
		t.Fatalf("short batch: %d, %v", n, err)
	}
	now = pollFor(t, r, now, 1)
	if err := r.Propose(4, []byte(b)); err != nil {
		t.Fatal(err)
	}
	pollFor(t, r, now, 1)
	if got, want := sm.log(), []applied{{1, big}, {3, a}, {4, b}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("applied %v, want %v", got, want)
	}
}

// What MaxUncommittedBytes puts into raft_options.max_uncommitted_bytes: the zero
// value takes the library's default, so Go never passes the C value 0 (RAFT_EINVAL).
func TestMaxUncommittedBytesReachesTheCStruct(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want uint64
	}{
		{Options{ID: 1}, 256 << 20}, // raft_options_init's default
		{Options{ID: 1, MaxUncommittedBytes: 64}, 64},
		{Options{ID: 1, MaxUncommittedBytes: math.MaxUint64}, math.MaxUint64},
	} {
		opt, release, err := tc.opts.toC()
		if err != nil {
			t.Fatal(err)
		}
		got := uint64(opt.max_uncommitted_bytes)
		release()
		if got != tc.want {
			t.Errorf("MaxUncommittedBytes %d: max_uncommitted_bytes %d, want %d", tc.opts.MaxUncommittedBytes, got, tc.want)
		}
	}
}

// pollFor polls r once per millisecond from now+1 to now+ms.
func pollFor(t *testing.T, r *Replica, now uint64, ms int) uint64 {
	t.Helper()
	for i := 0; i < ms; i++ {
		now++
		if _, err := r.Poll(now); err != nil {
			t.Fatal(err)
		}
	}
	return now
}

func TestABatchIsAppliedInOrder(t *testing.T) {
	sm := newRecorder()
	r := single(t, Options{}, sm)
	now := lead(t, r)
	if n, err := r.ProposeBatch(nil); n != 0 || err != nil {
		t.Fatalf("empty batch: %d, %v", n, err)
	}
	small := []Proposal{{1, []byte("one")}, {2, []byte("a\x00b")}, {3, nil}, {4, []byte{}}, {5, []byte("five")}}
	if n, err := r.ProposeBatch(small); n != len(small) || err != nil {
		t.Fatalf("small batch: %d, %v", n, err)
	}
	if err := r.Propose(6, []byte("single")); err != nil { // interleaves in call order
		t.Fatal(err)
	}
	var big []Proposal
	for k := uint64(7); k < 50; k++ {
		big = append(big, Proposal{k, []byte(fmt.Sprint("g", k))})
	}
	if n, err := r.ProposeBatch(big); n != len(big) || err != nil {
		t.Fatalf("big batch: %d, %v", n, err)
	}
	pollFor(t, r, now, 20)
	want := []applied{{1, "one"}, {2, "a\x00b"}, {3, ""}, {4, ""}, {5, "five"}, {6, "single"}}
	for _, p := range big {
		want = append(want, applied{p.ID, string(p.Data)})
	}
	if got := sm.log(); !reflect.DeepEqual(got, want) {
		t.Fatalf("applied %v, want %v", got, want)
	}
	full := []TransitionState{TransitionQueued, TransitionCommitted, TransitionApplied}
	for _, a := range want {
		if got := sm.statesOf(a.id); !reflect.DeepEqual(got, full) {
			t.Fatalf("states of %d: %v", a.id, got)
		}
	}
}

func TestAFullQueueGivesAShortBatchAndTheRestGoesLater(t *testing.T) {
	sm := newRecorder()
	r := single(t, Options{MaxQueueBytes: 512}, sm)
	now := lead(t, r)
	var batch []Proposal
	for k := uint64(100); k < 200; k++ {
		batch = append(batch, Proposal{k, []byte(fmt.Sprint("p", k, "............"))}) // 16 bytes
	}
	first, err := r.ProposeBatch(batch)
	if first == 0 || first >= len(batch) || !errors.Is(err, ErrBusy) {
		t.Fatalf("%d of %d queued, %v; want a part and ErrBusy", first, len(batch), err)
	}
	if n, err := r.ProposeBatch(batch[first:]); n != 0 || !errors.Is(err, ErrBusy) {
		t.Fatalf("a full queue took %d, %v", n, err)
	}
	for done := first; done < len(batch); {
		now = pollFor(t, r, now, 1) // the loop drains the queue
		n, err := r.ProposeBatch(batch[done:])
		if err != nil && !errors.Is(err, ErrBusy) {
			t.Fatal(err)
		}
		done += n
		if now > 10000 {
			t.Fatal("the rest was never queued")
		}
	}
	pollFor(t, r, now, 20)
	got := sm.log()
	if len(got) != len(batch) {
		t.Fatalf("applied %d of %d", len(got), len(batch))
	}
	for i, p := range batch { // each once, in order
		if got[i] != (applied{p.ID, string(p.Data)}) {
			t.Fatalf("applied[%d] = %v, want %d %q", i, got[i], p.ID, p.Data)
		}
	}
}

func TestABatchStopsAtTheFirstError(t *testing.T) {
	sm := newRecorder()
	r := single(t, Options{MaxEntryBytes: 8}, sm)
	now := lead(t, r)
	batch := []Proposal{{1, []byte("ok")}, {2, []byte("123456789")}, {3, []byte("later")}}
	n, err := r.ProposeBatch(batch)
	if n != 1 || !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "max_entry_bytes") {
		t.Fatalf("got %d, %v; want 1 and ErrTooBig", n, err)
	}
	if n, err := r.ProposeBatch(batch[1:]); n != 0 || !errors.Is(err, ErrTooBig) {
		t.Fatalf("got %d, %v; want 0 and ErrTooBig", n, err)
	}
	if n, err := r.ProposeBatch(batch[2:]); n != 1 || err != nil {
		t.Fatalf("got %d, %v", n, err)
	}
	pollFor(t, r, now, 20)
	if got, want := sm.log(), []applied{{1, "ok"}, {3, "later"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("applied %v, want %v", got, want)
	}
	r.Stop()
	if n, err := r.ProposeBatch(batch); n != 0 || !errors.Is(err, ErrShutdown) {
		t.Fatalf("stopped: %d, %v", n, err)
	}
	r.Close()
	if n, err := r.ProposeBatch(batch); n != 0 || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("closed: %d, %v", n, err)
	}
}

func TestAStoppedReplicaRefusesWork(t *testing.T) {
	r := single(t, Options{}, newRecorder())
	r.Stop()
	r.Stop() // idempotent
	if _, err := r.Poll(1); !errors.Is(err, ErrShutdown) {
		t.Fatal(err)
	}
	if err := r.Run(); !errors.Is(err, ErrShutdown) {
		t.Fatal(err)
	}
	if err := r.Propose(1, nil); !errors.Is(err, ErrShutdown) {
		t.Fatal(err)
	}
	if st, err := r.Status(); err != nil || st.ID != 1 {
		t.Fatal(st, err)
	}
}

func TestAClosedReplicaRefusesWork(t *testing.T) {
	r := single(t, Options{}, newRecorder())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	r.Notify() // harmless
	r.Stop()
	if _, err := r.Poll(1); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := r.Run(); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if err := r.Propose(1, nil); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "closed") {
		t.Fatal(err)
	}
	if _, err := r.Status(); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

func TestDataDirKeepsTheLog(t *testing.T) {
	dir := t.TempDir()
	sm := newRecorder()
	r := single(t, Options{DataDir: dir}, sm)
	now := lead(t, r)
	if err := r.Propose(7, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Poll(now + 1); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if log := sm.log(); len(log) != 1 || log[0] != (applied{7, "kept"}) {
		t.Fatalf("first run applied %v", log)
	}
	again := newRecorder()
	r = single(t, Options{DataDir: dir}, again)
	now = lead(t, r) // the entry of the old term commits under the new one
	for ms := now + 1; ms < now+20; ms++ {
		if _, err := r.Poll(ms); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := r.Status(); st.Term != 2 {
		t.Fatalf("term %d", st.Term)
	}
	if log := again.log(); len(log) != 1 || log[0] != (applied{7, "kept"}) {
		t.Fatalf("second run applied %v", log)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

func TestGarbageMessagesAreCountedNotFatal(t *testing.T) {
	c := newSimCluster(t, 3, 6)
	leader := c.waitLeader()
	follower := leader%3 + 1
	for _, junk := range []string{"", strings.Repeat("\x00", 64), "not a raft frame", "\xff\xff\xff"} {
		c.net.deliver(leader, follower, []byte(junk))
	}
	c.step(10)
	if st, _ := c.replica(follower).Status(); st.MsgsRejected != 4 {
		t.Fatalf("rejected %d", st.MsgsRejected)
	}
	if err := c.replica(leader).Propose(1, []byte("still fine")); err != nil {
		t.Fatal(err)
	}
	c.waitApplied(1, c.ids())
}
