package raft

import (
	"sync"
	"testing"
)

const testClusterID = 0x5eed

type applied struct {
	id   uint64
	data string
}

// recorder records applies and transition states; safe to read while Run appends.
type recorder struct {
	mu      sync.Mutex
	applied []applied
	states  map[uint64][]TransitionState
}

func newRecorder() *recorder { return &recorder{states: map[uint64][]TransitionState{}} }

func (r *recorder) ApplyTransition(id uint64, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = append(r.applied, applied{id, string(data)})
}

func (r *recorder) RegisterTransitionState(id uint64, state TransitionState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states[id] = append(r.states[id], state)
}

func (r *recorder) log() []applied {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]applied(nil), r.applied...)
}

func (r *recorder) statesOf(id uint64) []TransitionState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]TransitionState(nil), r.states[id]...)
}

// network holds one inbox per replica; isolation cuts both directions.
type network struct {
	mu       sync.Mutex
	inboxes  map[ReplicaID][][]byte
	isolated map[ReplicaID]bool
	wake     map[ReplicaID]*Replica // notified on delivery (Run mode)
}

func newNetwork() *network {
	return &network{
		inboxes:  map[ReplicaID][][]byte{},
		isolated: map[ReplicaID]bool{},
		wake:     map[ReplicaID]*Replica{},
	}
}

func (n *network) deliver(from, to ReplicaID, msg []byte) {
	n.mu.Lock()
	if n.isolated[from] || n.isolated[to] {
		n.mu.Unlock()
		return
	}
	if _, ok := n.inboxes[to]; !ok {
		n.mu.Unlock()
		return
	}
	n.inboxes[to] = append(n.inboxes[to], msg)
	target := n.wake[to]
	n.mu.Unlock()
	if target != nil {
		target.Notify()
	}
}

func (n *network) pending(id ReplicaID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.inboxes[id]) > 0
}

func (n *network) isolate(id ReplicaID, cut bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.isolated[id] = cut
	if cut {
		n.inboxes[id] = nil
	}
}

type endpoint struct {
	net     *network
	id      ReplicaID
	mu      sync.Mutex
	leaders []ReplicaID
	halted  bool
}

func newEndpoint(n *network, id ReplicaID) *endpoint {
	n.mu.Lock()
	n.inboxes[id] = nil
	n.mu.Unlock()
	return &endpoint{net: n, id: id}
}

func (e *endpoint) SendMessage(to ReplicaID, msg []byte) { e.net.deliver(e.id, to, msg) }

func (e *endpoint) ReceiveMessages() [][]byte {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	msgs := e.net.inboxes[e.id]
	e.net.inboxes[e.id] = nil
	return msgs
}

func (e *endpoint) Halt() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.halted
}

func (e *endpoint) RegisterLeader(leader ReplicaID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.leaders = append(e.leaders, leader)
}

func peersOf(id ReplicaID, n int) []ReplicaID {
	var peers []ReplicaID
	for p := ReplicaID(1); p <= ReplicaID(n); p++ {
		if p != id {
			peers = append(peers, p)
		}
	}
	return peers
}

// simCluster drives n replicas with Poll on a virtual clock, one millisecond at a
// time.  A replica is polled when its deadline passes or a message waits, as an
// event loop would; a wrong deadline stalls the cluster and fails the test.
type simCluster struct {
	t         *testing.T
	net       *network
	replicas  []*Replica
	machines  []*recorder
	endpoints []*endpoint
	deadlines []uint64
	now       uint64
}

func newSimCluster(t *testing.T, n int, seed uint64) *simCluster {
	return newSimClusterWith(t, n, seed, nil, nil)
}

// newSimClusterWith: tweak (optional) adjusts each replica's options, wrap
// (optional) makes the state machine handed to New around its recorder.
func newSimClusterWith(t *testing.T, n int, seed uint64, tweak func(*Options), wrap func(*recorder) StateMachine) *simCluster {
	c := &simCluster{t: t, net: newNetwork(), deadlines: make([]uint64, n)}
	for id := ReplicaID(1); id <= ReplicaID(n); id++ {
		sm, ep := newRecorder(), newEndpoint(c.net, id)
		opts := Options{ID: id, Peers: peersOf(id, n), ClusterID: testClusterID, RandomSeed: seed*1000 + id}
		if tweak != nil {
			tweak(&opts)
		}
		var machine StateMachine = sm
		if wrap != nil {
			machine = wrap(sm)
		}
		r, err := New(opts, machine, ep)
		if err != nil {
			t.Fatalf("New(%d): %v", id, err)
		}
		c.replicas, c.machines, c.endpoints = append(c.replicas, r), append(c.machines, sm), append(c.endpoints, ep)
	}
	t.Cleanup(func() {
		for _, r := range c.replicas {
			r.Close()
		}
	})
	return c
}

func (c *simCluster) ids() []ReplicaID {
	ids := make([]ReplicaID, len(c.replicas))
	for i := range ids {
		ids[i] = ReplicaID(i + 1)
	}
	return ids
}

func (c *simCluster) replica(id ReplicaID) *Replica  { return c.replicas[id-1] }
func (c *simCluster) machine(id ReplicaID) *recorder { return c.machines[id-1] }

func (c *simCluster) pollNow(id ReplicaID) {
	next, err := c.replica(id).Poll(c.now)
	if err != nil {
		c.t.Fatalf("Poll(%d): %v", id, err)
	}
	c.deadlines[id-1] = next
}

func (c *simCluster) step(ms int) {
	for i := 0; i < ms; i++ {
		c.now++
		for _, id := range c.ids() {
			if c.now >= c.deadlines[id-1] || c.net.pending(id) {
				c.pollNow(id)
			}
		}
	}
}

func (c *simCluster) runUntil(maxMs int, done func() bool) bool {
	for i := 0; i < maxMs; i++ {
		if done() {
			return true
		}
		c.step(1)
	}
	return done()
}

func (c *simCluster) connected() []ReplicaID {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	var ids []ReplicaID
	for _, id := range c.ids() {
		if !c.net.isolated[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// leader is the single connected leader, or NoID.
func (c *simCluster) leader() ReplicaID {
	found := NoID
	for _, id := range c.connected() {
		st, err := c.replica(id).Status()
		if err != nil {
			c.t.Fatal(err)
		}
		if st.Role == RoleLeader {
			if found != NoID {
				return NoID
			}
			found = id
		}
	}
	return found
}

func (c *simCluster) waitLeader() ReplicaID {
	c.t.Helper()
	if !c.runUntil(5000, func() bool { return c.leader() != NoID }) {
		c.t.Fatal("no leader elected")
	}
	return c.leader()
}

func (c *simCluster) waitApplied(count int, ids []ReplicaID) {
	c.t.Helper()
	ok := c.runUntil(5000, func() bool {
		for _, id := range ids {
			if len(c.machine(id).log()) < count {
				return false
			}
		}
		return true
	})
	if !ok {
		c.t.Fatalf("not every replica of %v applied %d transitions", ids, count)
	}
}

// single is a one-replica cluster; lead polls it until it elected itself.
func single(t *testing.T, opts Options, sm StateMachine) *Replica {
	t.Helper()
	if opts.ID == 0 {
		opts.ID = 1
	}
	if opts.RandomSeed == 0 {
		opts.RandomSeed = 1
	}
	r, err := New(opts, sm, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func lead(t *testing.T, r *Replica) uint64 {
	t.Helper()
	var now uint64
	for {
		st, err := r.Status()
		if err != nil {
			t.Fatal(err)
		}
		if st.Role == RoleLeader {
			return now
		}
		if now, err = r.Poll(now + 1); err != nil {
			t.Fatal(err)
		}
		if now > 10000 {
			t.Fatal("no self-election")
		}
	}
}
