package raft

/*
#include <stdlib.h>
#include <raft.h>
*/
import "C"

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unsafe"
)

// Options configures a replica.  Zero values take the linked library's defaults.
type Options struct {
	ID    ReplicaID   // this replica; required, nonzero
	Peers []ReplicaID // the other voters, not including ID

	Heartbeat          time.Duration // whole milliseconds
	ElectionTimeoutMin time.Duration // whole milliseconds; must exceed Heartbeat
	ElectionTimeoutMax time.Duration // whole milliseconds; must exceed the min

	DataDir    string // durable storage in this directory; "" keeps everything in memory
	ClusterID  uint64 // carried in every message; messages of other clusters are rejected
	RandomSeed uint64 // election jitter; equal seeds give identical runs; 0: from the clock

	DisablePreVote     bool
	DisableCheckQuorum bool

	MaxBatchBytes uint32
	MaxInflight   uint32
	MaxEntryBytes uint32 // the largest proposal
	MaxQueueBytes uint64 // proposal bytes waiting for the loop; beyond it Propose fails with ErrBusy

	// A leader's proposal bytes not yet committed (queued, plus its log beyond the
	// commit index); beyond it Propose fails with ErrBusy, so a leader whose
	// followers lag stops growing its log.  One is always admitted when nothing is
	// uncommitted.
	MaxUncommittedBytes uint64

	// Snapshots (the StateMachine must implement Snapshotter).  SnapshotInterval:
	// take one every this many applied entries; 0 never.  SnapshotTrailing: entries
	// kept behind a snapshot so slightly slow followers need none; 0 takes the
	// library's default, SnapshotNoTrailing keeps none.  MaxSnapshotChunkBytes:
	// snapshot bytes per message to a follower that needs the whole snapshot.
	SnapshotInterval      uint64
	SnapshotTrailing      uint64
	SnapshotNoTrailing    bool
	MaxSnapshotChunkBytes uint32

	// Run only: after a turn that sent or received messages, keep looking for a
	// proposal or Notify this many microseconds before sleeping (at most 10000).
	// BusyPollMicros 0 takes the library's default (20); DisableBusyPoll sleeps at
	// once (the C value 0) and wins over BusyPollMicros.
	BusyPollMicros  uint32
	DisableBusyPoll bool

	LogLevel LogLevel               // the most verbose level passed to Logger
	Logger   func(LogLevel, string) // diagnostics, one line each; nil: dropped
}

func millis(what string, d time.Duration) (C.uint32_t, error) {
	ms := d / time.Millisecond
	if d < 0 || ms > math.MaxUint32 {
		return 0, &Error{Code: ErrCodeInvalid, Detail: fmt.Sprintf("%s %v is out of range", what, d)}
	}
	return C.uint32_t(ms), nil
}

// toC builds the C struct.  Its pointers refer to C memory that release frees
// (cgo forbids handing C a Go pointer to memory holding Go pointers).
func (o *Options) toC() (opt C.raft_options, release func(), err error) {
	C.raft_options_init(&opt)
	var peers unsafe.Pointer
	var dataDir *C.char
	release = func() {
		C.free(peers)
		C.free(unsafe.Pointer(dataDir))
	}
	opt.id = C.raft_id(o.ID)
	if len(o.Peers) > 0 {
		peers = C.malloc(C.size_t(len(o.Peers)) * C.size_t(unsafe.Sizeof(C.raft_id(0))))
		dst := unsafe.Slice((*C.raft_id)(peers), len(o.Peers))
		for i, p := range o.Peers {
			dst[i] = C.raft_id(p)
		}
		opt.peers = (*C.raft_id)(peers)
		opt.n_peers = C.size_t(len(o.Peers))
	}
	if o.DataDir != "" {
		if strings.IndexByte(o.DataDir, 0) >= 0 {
			release()
			return opt, nil, &Error{Code: ErrCodeInvalid, Detail: "DataDir contains a NUL byte"}
		}
		dataDir = C.CString(o.DataDir)
		opt.data_dir = dataDir
	}
	for _, d := range []struct {
		what  string
		value time.Duration
		dst   *C.uint32_t
	}{
		{"Heartbeat", o.Heartbeat, &opt.heartbeat_ms},
		{"ElectionTimeoutMin", o.ElectionTimeoutMin, &opt.election_timeout_min_ms},
		{"ElectionTimeoutMax", o.ElectionTimeoutMax, &opt.election_timeout_max_ms},
	} {
		if d.value != 0 {
			if *d.dst, err = millis(d.what, d.value); err != nil {
				release()
				return opt, nil, err
			}
		}
	}
	opt.cluster_id = C.uint64_t(o.ClusterID)
	opt.random_seed = C.uint64_t(o.RandomSeed)
	if o.DisablePreVote {
		opt.pre_vote = 0
	}
	if o.DisableCheckQuorum {
		opt.check_quorum = 0
	}
	if o.MaxBatchBytes != 0 {
		opt.max_batch_bytes = C.uint32_t(o.MaxBatchBytes)
	}
	if o.MaxInflight != 0 {
		opt.max_inflight = C.uint32_t(o.MaxInflight)
	}
	if o.MaxEntryBytes != 0 {
		opt.max_entry_bytes = C.uint32_t(o.MaxEntryBytes)
	}
	if o.MaxQueueBytes != 0 {
		opt.max_queue_bytes = C.uint64_t(o.MaxQueueBytes)
	}
	opt.snapshot_interval = C.uint64_t(o.SnapshotInterval)
	if o.SnapshotNoTrailing {
		opt.snapshot_trailing = 0
	} else if o.SnapshotTrailing != 0 {
		opt.snapshot_trailing = C.uint64_t(o.SnapshotTrailing)
	}
	if o.MaxSnapshotChunkBytes != 0 {
		opt.max_snapshot_chunk_bytes = C.uint32_t(o.MaxSnapshotChunkBytes)
	}
	if o.DisableBusyPoll {
		opt.busy_poll_us = 0
	} else if o.BusyPollMicros != 0 {
		opt.busy_poll_us = C.uint32_t(o.BusyPollMicros)
	}
	if o.MaxUncommittedBytes != 0 {
		opt.max_uncommitted_bytes = C.uint64_t(o.MaxUncommittedBytes)
	}
	if o.LogLevel != 0 {
		opt.log_level = C.raft_log_level(o.LogLevel)
	}
	return opt, release, nil
}
