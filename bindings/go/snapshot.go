package raft

/*
#include <raft.h>
*/
import "C"

import (
	"io"
	"unsafe"
)

// Snapshotter is optionally implemented by a StateMachine to take part in
// snapshots: only then can Options.SnapshotInterval be set and can the replica
// install a leader's snapshot.  Its methods run on the goroutine inside Run or
// Poll (or inside New, for the load of a restart).
type Snapshotter interface {
	// SaveSnapshot writes the state as it is now -- every transition up to index
	// applied, none after -- to w.  more == true asks to be called again in the
	// next turn (a large state saved in steps while heartbeats flow); no transition
	// is applied in between.  An error, or a panic (re-raised by Run/Poll), gives
	// this snapshot up; the library tries again one interval later.
	SaveSnapshot(w *SnapshotWriter, index uint64) (more bool, err error)
	// LoadSnapshot replaces the whole state with the snapshot read from r, which
	// covers every transition up to index.  Called by New when storage holds a
	// snapshot, and when the replica installs its leader's.  An error stops the
	// replica: its state machine is in an unknown state.
	LoadSnapshot(r *SnapshotReader, index uint64) error
}

// SnapshotWriter is the io.Writer a snapshot is saved through.  It is valid only
// during the SaveSnapshot call it was given to.
type SnapshotWriter struct{ raw *C.raft_snapshot_writer }

// Write appends p to the snapshot.  A storage failure gives the snapshot up,
// whatever SaveSnapshot then returns.
func (w *SnapshotWriter) Write(p []byte) (int, error) {
	if w.raw == nil {
		return 0, &Error{Code: ErrCodeInvalid, Detail: "the snapshot writer outlived its SaveSnapshot call"}
	}
	var data unsafe.Pointer
	if len(p) > 0 {
		data = unsafe.Pointer(&p[0])
	}
	if rc := C.raft_snapshot_write(w.raw, data, C.size_t(len(p))); rc != C.RAFT_OK {
		return 0, &Error{Code: ErrorCode(rc), Detail: "raft_snapshot_write"}
	}
	return len(p), nil
}

// SnapshotReader is the io.Reader a snapshot is loaded from.  It is valid only
// during the LoadSnapshot call it was given to.
type SnapshotReader struct{ raw *C.raft_snapshot_reader }

// Read fills p from the snapshot; io.EOF at the end.  An *Error with
// ErrCodeCorrupt means the bytes failed their checksum (reported at the end).
func (r *SnapshotReader) Read(p []byte) (int, error) {
	if r.raw == nil {
		return 0, &Error{Code: ErrCodeInvalid, Detail: "the snapshot reader outlived its LoadSnapshot call"}
	}
	if len(p) == 0 {
		return 0, nil
	}
	got := C.raft_snapshot_read(r.raw, unsafe.Pointer(&p[0]), C.size_t(len(p)))
	switch {
	case got < 0:
		return 0, &Error{Code: ErrorCode(got), Detail: "raft_snapshot_read"}
	case got == 0:
		return 0, io.EOF
	}
	return int(got), nil
}

// failureCode is what C gets for a failed save or load: the error's RAFT_E*
// code when it carries one, else ECALLBACK.
func failureCode(err error) C.int {
	if e, ok := err.(*Error); ok && e.Code < 0 {
		return C.int(e.Code)
	}
	return C.RAFT_ECALLBACK
}

//export goRaftSnapshotSave
func goRaftSnapshotSave(h C.uintptr_t, w unsafe.Pointer, index C.uint64_t) C.int {
	c := lookup(h)
	writer := &SnapshotWriter{raw: (*C.raft_snapshot_writer)(w)}
	defer func() { writer.raw = nil }()
	var more bool
	var err error
	if !c.guard(func() { more, err = c.snapshots.SaveSnapshot(writer, uint64(index)) }) {
		return C.RAFT_ECALLBACK
	}
	switch {
	case err != nil:
		return failureCode(err)
	case more:
		return C.RAFT_SNAPSHOT_MORE
	}
	return C.RAFT_OK
}

//export goRaftSnapshotLoad
func goRaftSnapshotLoad(h C.uintptr_t, r unsafe.Pointer, index C.uint64_t) C.int {
	c := lookup(h)
	reader := &SnapshotReader{raw: (*C.raft_snapshot_reader)(r)}
	defer func() { reader.raw = nil }()
	var err error
	if !c.guard(func() { err = c.snapshots.LoadSnapshot(reader, uint64(index)) }) {
		err = ErrCallback
	}
	if err != nil {
		c.poisoned = true // the library stops the node; apply nothing to a half-loaded state
		return failureCode(err)
	}
	return C.RAFT_OK
}
