package raft

import (
	"fmt"
	"reflect"
	"testing"
)

func payload(k uint64) string {
	b := make([]byte, k%37)
	for j := range b {
		b[j] = byte((k*7 + uint64(j)) % 256)
	}
	return string(b)
}

func TestReplicates1000TransitionsInTheSameOrder(t *testing.T) {
	c := newSimCluster(t, 3, 7)
	leader := c.waitLeader()
	var want []applied
	for k := uint64(1); k <= 1000; k++ {
		if err := c.replica(leader).Propose(k, []byte(payload(k))); err != nil {
			t.Fatal(err)
		}
		want = append(want, applied{k, payload(k)})
		if k%100 == 0 {
			c.step(5) // replication overlaps new proposals
		}
	}
	c.waitApplied(1000, c.ids())
	for _, id := range c.ids() {
		if got := c.machine(id).log(); !reflect.DeepEqual(got, want) {
			t.Fatalf("replica %d applied another sequence", id)
		}
	}
	lifecycle := []TransitionState{TransitionQueued, TransitionCommitted, TransitionApplied}
	for k := uint64(1); k <= 1000; k++ {
		if got := c.machine(leader).statesOf(k); !reflect.DeepEqual(got, lifecycle) {
			t.Fatalf("transition %d went through %v", k, got)
		}
	}
	for _, id := range c.ids() {
		if id != leader && len(c.machine(id).states) != 0 {
			t.Fatalf("replica %d got states for transitions proposed elsewhere", id)
		}
	}
	c.step(200) // heartbeats carry the commit index to the followers
	first, _ := c.replica(1).Status()
	for _, id := range c.ids() {
		st, err := c.replica(id).Status()
		if err != nil {
			t.Fatal(err)
		}
		if st.Term != first.Term || st.CommitIndex != first.CommitIndex || st.AppliedIndex != first.AppliedIndex {
			t.Fatalf("replica %d disagrees: %+v vs %+v", id, st, first)
		}
		wantRole := RoleFollower
		if id == leader {
			wantRole = RoleLeader
		}
		if st.Leader != leader || st.Role != wantRole || st.MsgsRejected != 0 || st.ProposalsQueued != 0 {
			t.Fatalf("replica %d: %+v", id, st)
		}
		seen := c.endpoints[id-1].leaders
		if len(seen) == 0 || seen[len(seen)-1] != leader {
			t.Fatalf("replica %d reported leaders %v", id, seen)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] == seen[i-1] {
				t.Fatalf("replica %d reported a non-change: %v", id, seen)
			}
		}
	}
}

func TestAProposalOnAFollowerIsAbandonedNotLeader(t *testing.T) {
	c := newSimCluster(t, 3, 11)
	leader := c.waitLeader()
	follower := leader%3 + 1
	if err := c.replica(follower).Propose(42, []byte("nope")); err != nil {
		t.Fatal(err)
	}
	c.pollNow(follower)
	got := c.machine(follower).statesOf(42)
	if len(got) != 1 || got[0] != TransitionAbandonedNotLeader || !got[0].Abandoned() {
		t.Fatalf("states %v", got)
	}
	c.step(300)
	for _, id := range c.ids() {
		if n := len(c.machine(id).log()); n != 0 {
			t.Fatalf("replica %d applied %d transitions", id, n)
		}
	}
}

func TestAnIsolatedLeaderAbandonsWhatItCouldNotCommit(t *testing.T) {
	c := newSimCluster(t, 3, 31)
	old := c.waitLeader()
	for k := uint64(1); k <= 50; k++ {
		if err := c.replica(old).Propose(k, []byte("a")); err != nil {
			t.Fatal(err)
		}
	}
	c.waitApplied(50, c.ids())
	oldStatus, _ := c.replica(old).Status()

	c.net.isolate(old, true)
	for k := uint64(901); k <= 905; k++ {
		if err := c.replica(old).Propose(k, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	c.pollNow(old)
	fresh := c.waitLeader()
	freshStatus, _ := c.replica(fresh).Status()
	if fresh == old || freshStatus.Term <= oldStatus.Term {
		t.Fatalf("no new leader: %d term %d", fresh, freshStatus.Term)
	}
	for k := uint64(51); k <= 100; k++ {
		if err := c.replica(fresh).Propose(k, []byte("b")); err != nil {
			t.Fatal(err)
		}
	}
	c.waitApplied(100, c.connected())

	c.net.isolate(old, false)
	c.waitApplied(100, c.ids())
	c.step(1000)
	if c.leader() != fresh {
		t.Fatalf("leader %d, want %d", c.leader(), fresh)
	}
	reference := c.machine(fresh).log()
	for i, a := range reference {
		if a.id != uint64(i+1) {
			t.Fatalf("applied %v", reference)
		}
	}
	for _, id := range c.ids() {
		if !reflect.DeepEqual(c.machine(id).log(), reference) {
			t.Fatalf("replica %d applied another sequence", id)
		}
	}
	for k := uint64(901); k <= 905; k++ {
		got := fmt.Sprint(c.machine(old).statesOf(k))
		if want := fmt.Sprint([]TransitionState{TransitionQueued, TransitionAbandonedConflict}); got != want {
			t.Fatalf("transition %d: %s, want %s", k, got, want)
		}
	}
}
