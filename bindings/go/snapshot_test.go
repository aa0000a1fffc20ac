package raft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"
)

// snapRecorder is a recorder whose whole apply history is its snapshot.
type snapRecorder struct {
	*recorder
	steps          int // SaveSnapshot calls per snapshot
	saving         []byte
	inSave         bool
	appliesInSave  int
	saves          []uint64
	loads          [][2]uint64 // index, entries loaded
	failFirstSave  bool
	failedSaveAt   uint64
	staleWriterErr error
	lastWriter     *SnapshotWriter
}

func newSnapRecorder(r *recorder, steps int) *snapRecorder {
	return &snapRecorder{recorder: r, steps: steps}
}

func (s *snapRecorder) ApplyTransition(id uint64, data []byte) {
	if s.inSave {
		s.appliesInSave++
	}
	s.recorder.ApplyTransition(id, data)
}

func (s *snapRecorder) SaveSnapshot(w *SnapshotWriter, index uint64) (bool, error) {
	if s.failFirstSave {
		s.failFirstSave, s.failedSaveAt = false, index
		return false, &Error{Code: ErrCodeIO, Detail: "disk full"}
	}
	if s.lastWriter != nil && s.staleWriterErr == nil {
		_, s.staleWriterErr = s.lastWriter.Write([]byte("late"))
	}
	s.lastWriter = w
	if !s.inSave {
		var b bytes.Buffer
		for _, a := range s.log() {
			binary.Write(&b, binary.LittleEndian, a.id)
			binary.Write(&b, binary.LittleEndian, uint32(len(a.data)))
			b.WriteString(a.data)
		}
		s.saving, s.inSave = b.Bytes(), true
	}
	part := (len(s.saving) + s.steps - 1) / s.steps
	if part > len(s.saving) {
		part = len(s.saving)
	}
	if _, err := w.Write(s.saving[:part]); err != nil {
		return false, err
	}
	s.saving = s.saving[part:]
	if len(s.saving) > 0 {
		return true, nil
	}
	s.inSave = false
	s.saves = append(s.saves, index)
	return false, nil
}

func (s *snapRecorder) LoadSnapshot(r *SnapshotReader, index uint64) error {
	blob, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var log []applied
	for rd := bytes.NewReader(blob); rd.Len() > 0; {
		var id uint64
		var n uint32
		binary.Read(rd, binary.LittleEndian, &id)
		binary.Read(rd, binary.LittleEndian, &n)
		data := make([]byte, n)
		io.ReadFull(rd, data)
		log = append(log, applied{id, string(data)})
	}
	s.mu.Lock()
	s.applied = log
	s.mu.Unlock()
	s.loads = append(s.loads, [2]uint64{index, uint64(len(log))})
	return nil
}

func TestClusterTakesSnapshots(t *testing.T) {
	machines := map[*recorder]*snapRecorder{}
	c := newSimClusterWith(t, 3, 3, func(o *Options) { o.SnapshotInterval, o.SnapshotTrailing = 20, 5 },
		func(r *recorder) StateMachine { machines[r] = newSnapRecorder(r, 1); return machines[r] })
	leader := c.waitLeader()
	var want []applied
	for k := uint64(1); k <= 120; k++ {
		data := fmt.Sprintf("v%d", k)
		if err := c.replica(leader).Propose(k, []byte(data)); err != nil {
			t.Fatal(err)
		}
		want = append(want, applied{k, data})
		if k%10 == 0 {
			c.step(5)
		}
	}
	c.waitApplied(120, c.ids())
	c.step(200)
	for _, id := range c.ids() {
		m := machines[c.machine(id)]
		st, _ := c.replica(id).Status()
		if fmt.Sprint(m.log()) != fmt.Sprint(want) {
			t.Fatalf("replica %d applied another sequence", id)
		}
		if len(m.saves) == 0 || st.SnapshotIndex == 0 || st.SnapshotIndex != m.saves[len(m.saves)-1] || st.SnapshotIndex > st.AppliedIndex {
			t.Fatalf("replica %d: saves %v, status %+v", id, m.saves, st)
		}
	}
}

func TestRestartFromDataDirLoadsTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	opts := Options{ID: 1, RandomSeed: 9, DataDir: dir, SnapshotInterval: 20, SnapshotNoTrailing: true}
	first := newSnapRecorder(newRecorder(), 1)
	r, err := New(opts, first, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := lead(t, r)
	for k := uint64(1); k <= 50; k++ {
		if err := r.Propose(k, []byte(fmt.Sprint(k))); err != nil {
			t.Fatal(err)
		}
		now++
		if _, err := r.Poll(now); err != nil { // one entry per turn: several snapshots
			t.Fatal(err)
		}
	}
	st, _ := r.Status()
	if len(first.log()) != 50 || len(first.saves) < 2 || st.SnapshotIndex != first.saves[len(first.saves)-1] {
		t.Fatalf("applied %d, saves %v, status %+v", len(first.log()), first.saves, st)
	}
	last := st.SnapshotIndex
	r.Close()

	second := newSnapRecorder(newRecorder(), 1)
	r, err = New(opts, second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Loaded inside New, before any apply; the leader's no-op at index 1 is no transition.
	if len(second.loads) != 1 || second.loads[0] != [2]uint64{last, last - 1} {
		t.Fatalf("loads %v, want [[%d %d]]", second.loads, last, last-1)
	}
	for now = 0; len(second.log()) < 50; {
		now++
		if _, err := r.Poll(now); err != nil {
			t.Fatal(err)
		}
		if now > 5000 {
			t.Fatal("the log after the snapshot was not replayed")
		}
	}
	if fmt.Sprint(second.log()) != fmt.Sprint(first.log()) {
		t.Fatal("the restored state differs")
	}
}

func TestSaveInStepsAndAFailedSave(t *testing.T) {
	sm := newSnapRecorder(newRecorder(), 4)
	sm.failFirstSave = true
	r := single(t, Options{SnapshotInterval: 10}, sm)
	now := lead(t, r)
	for k := uint64(1); k <= 60; k++ {
		if err := r.Propose(k, []byte("x")); err != nil {
			t.Fatal(err)
		}
		now++
		if _, err := r.Poll(now); err != nil {
			t.Fatal(err)
		}
	}
	// A save in progress holds apply back: a few more turns finish it.
	for i := 0; i < 20 && len(sm.log()) < 60; i++ {
		now++
		if _, err := r.Poll(now); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := r.Status()
	if len(sm.log()) != 60 || sm.failedSaveAt != 10 || len(sm.saves) < 2 || sm.saves[0] <= 10 || st.SnapshotIndex != sm.saves[len(sm.saves)-1] {
		t.Fatalf("applied %d, failed save at %d, saves %v, status %+v", len(sm.log()), sm.failedSaveAt, sm.saves, st)
	}
	if sm.appliesInSave != 0 {
		t.Fatalf("%d transitions applied while a save was in progress", sm.appliesInSave)
	}
	if !errors.Is(sm.staleWriterErr, ErrInvalid) {
		t.Fatalf("a writer used after its call: %v", sm.staleWriterErr)
	}
}

func TestSnapshotOptionsNeedASnapshotter(t *testing.T) {
	_, err := New(Options{ID: 1, SnapshotInterval: 10}, newRecorder(), nil)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("SnapshotInterval without a Snapshotter: %v", err)
	}
}
