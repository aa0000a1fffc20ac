package raft

/*
#include <raft.h>
*/
import "C"

import "unsafe"

// The structs as this package compiled them, field by field.  layout_test.go
// compares them with a separately compiled C program: the field lists below are
// what this binding was written against, so a change of raft.h (a field added,
// removed or moved) fails the test until the binding has been reviewed for it.

type fieldLayout struct {
	name         string
	offset, size uintptr
}

type structLayout struct {
	name   string
	size   uintptr
	fields []fieldLayout
}

func cgoLayouts() []structLayout {
	var o C.raft_options
	var e C.raft_entry
	var s C.raft_storage
	var cb C.raft_callbacks
	var st C.raft_status
	var p C.raft_proposal
	f := func(name string, offset, size uintptr) fieldLayout { return fieldLayout{name, offset, size} }
	return []structLayout{
		{"raft_options", unsafe.Sizeof(o), []fieldLayout{
			f("version", unsafe.Offsetof(o.version), unsafe.Sizeof(o.version)),
			f("id", unsafe.Offsetof(o.id), unsafe.Sizeof(o.id)),
			f("peers", unsafe.Offsetof(o.peers), unsafe.Sizeof(o.peers)),
			f("n_peers", unsafe.Offsetof(o.n_peers), unsafe.Sizeof(o.n_peers)),
			f("heartbeat_ms", unsafe.Offsetof(o.heartbeat_ms), unsafe.Sizeof(o.heartbeat_ms)),
			f("election_timeout_min_ms", unsafe.Offsetof(o.election_timeout_min_ms), unsafe.Sizeof(o.election_timeout_min_ms)),
			f("election_timeout_max_ms", unsafe.Offsetof(o.election_timeout_max_ms), unsafe.Sizeof(o.election_timeout_max_ms)),
			f("data_dir", unsafe.Offsetof(o.data_dir), unsafe.Sizeof(o.data_dir)),
			f("cluster_id", unsafe.Offsetof(o.cluster_id), unsafe.Sizeof(o.cluster_id)),
			f("random_seed", unsafe.Offsetof(o.random_seed), unsafe.Sizeof(o.random_seed)),
			f("pre_vote", unsafe.Offsetof(o.pre_vote), unsafe.Sizeof(o.pre_vote)),
			f("check_quorum", unsafe.Offsetof(o.check_quorum), unsafe.Sizeof(o.check_quorum)),
			f("max_batch_bytes", unsafe.Offsetof(o.max_batch_bytes), unsafe.Sizeof(o.max_batch_bytes)),
			f("max_inflight", unsafe.Offsetof(o.max_inflight), unsafe.Sizeof(o.max_inflight)),
			f("max_entry_bytes", unsafe.Offsetof(o.max_entry_bytes), unsafe.Sizeof(o.max_entry_bytes)),
			f("max_queue_bytes", unsafe.Offsetof(o.max_queue_bytes), unsafe.Sizeof(o.max_queue_bytes)),
			f("log_level", unsafe.Offsetof(o.log_level), unsafe.Sizeof(o.log_level)),
			f("storage", unsafe.Offsetof(o.storage), unsafe.Sizeof(o.storage)), // not wrapped yet
			f("snapshot_interval", unsafe.Offsetof(o.snapshot_interval), unsafe.Sizeof(o.snapshot_interval)),
			f("snapshot_trailing", unsafe.Offsetof(o.snapshot_trailing), unsafe.Sizeof(o.snapshot_trailing)),
			f("max_snapshot_chunk_bytes", unsafe.Offsetof(o.max_snapshot_chunk_bytes), unsafe.Sizeof(o.max_snapshot_chunk_bytes)),
			f("busy_poll_us", unsafe.Offsetof(o.busy_poll_us), unsafe.Sizeof(o.busy_poll_us)),
			f("max_uncommitted_bytes", unsafe.Offsetof(o.max_uncommitted_bytes), unsafe.Sizeof(o.max_uncommitted_bytes)),
		}},
		{"raft_entry", unsafe.Sizeof(e), []fieldLayout{
			f("term", unsafe.Offsetof(e.term), unsafe.Sizeof(e.term)),
			f("id", unsafe.Offsetof(e.id), unsafe.Sizeof(e.id)),
			f("type", unsafe.Offsetof(e._type), unsafe.Sizeof(e._type)),
			f("data", unsafe.Offsetof(e.data), unsafe.Sizeof(e.data)),
			f("len", unsafe.Offsetof(e.len), unsafe.Sizeof(e.len)),
		}},
		{"raft_storage", unsafe.Sizeof(s), []fieldLayout{
			f("version", unsafe.Offsetof(s.version), unsafe.Sizeof(s.version)),
			f("ctx", unsafe.Offsetof(s.ctx), unsafe.Sizeof(s.ctx)),
			f("load", unsafe.Offsetof(s.load), unsafe.Sizeof(s.load)),
			f("save_hard_state", unsafe.Offsetof(s.save_hard_state), unsafe.Sizeof(s.save_hard_state)),
			f("append", unsafe.Offsetof(s.append), unsafe.Sizeof(s.append)),
			f("truncate", unsafe.Offsetof(s.truncate), unsafe.Sizeof(s.truncate)),
			f("sync", unsafe.Offsetof(s.sync), unsafe.Sizeof(s.sync)),
			f("close", unsafe.Offsetof(s.close), unsafe.Sizeof(s.close)),
			f("snapshot_begin", unsafe.Offsetof(s.snapshot_begin), unsafe.Sizeof(s.snapshot_begin)),
			f("snapshot_write", unsafe.Offsetof(s.snapshot_write), unsafe.Sizeof(s.snapshot_write)),
			f("snapshot_commit", unsafe.Offsetof(s.snapshot_commit), unsafe.Sizeof(s.snapshot_commit)),
			f("snapshot_meta", unsafe.Offsetof(s.snapshot_meta), unsafe.Sizeof(s.snapshot_meta)),
			f("snapshot_read", unsafe.Offsetof(s.snapshot_read), unsafe.Sizeof(s.snapshot_read)),
			f("compact", unsafe.Offsetof(s.compact), unsafe.Sizeof(s.compact)),
		}},
		{"raft_callbacks", unsafe.Sizeof(cb), []fieldLayout{
			f("version", unsafe.Offsetof(cb.version), unsafe.Sizeof(cb.version)),
			f("apply", unsafe.Offsetof(cb.apply), unsafe.Sizeof(cb.apply)),
			f("transition_state", unsafe.Offsetof(cb.transition_state), unsafe.Sizeof(cb.transition_state)),
			f("send", unsafe.Offsetof(cb.send), unsafe.Sizeof(cb.send)),
			f("receive", unsafe.Offsetof(cb.receive), unsafe.Sizeof(cb.receive)),
			f("halt", unsafe.Offsetof(cb.halt), unsafe.Sizeof(cb.halt)),
			f("leader", unsafe.Offsetof(cb.leader), unsafe.Sizeof(cb.leader)),
			f("log", unsafe.Offsetof(cb.log), unsafe.Sizeof(cb.log)),
			f("snapshot_save", unsafe.Offsetof(cb.snapshot_save), unsafe.Sizeof(cb.snapshot_save)),
			f("snapshot_load", unsafe.Offsetof(cb.snapshot_load), unsafe.Sizeof(cb.snapshot_load)),
		}},
		{"raft_status", unsafe.Sizeof(st), []fieldLayout{
			f("version", unsafe.Offsetof(st.version), unsafe.Sizeof(st.version)),
			f("id", unsafe.Offsetof(st.id), unsafe.Sizeof(st.id)),
			f("role", unsafe.Offsetof(st.role), unsafe.Sizeof(st.role)),
			f("term", unsafe.Offsetof(st.term), unsafe.Sizeof(st.term)),
			f("leader", unsafe.Offsetof(st.leader), unsafe.Sizeof(st.leader)),
			f("commit_index", unsafe.Offsetof(st.commit_index), unsafe.Sizeof(st.commit_index)),
			f("applied_index", unsafe.Offsetof(st.applied_index), unsafe.Sizeof(st.applied_index)),
			f("last_index", unsafe.Offsetof(st.last_index), unsafe.Sizeof(st.last_index)),
			f("snapshot_index", unsafe.Offsetof(st.snapshot_index), unsafe.Sizeof(st.snapshot_index)),
			f("msgs_sent", unsafe.Offsetof(st.msgs_sent), unsafe.Sizeof(st.msgs_sent)),
			f("msgs_received", unsafe.Offsetof(st.msgs_received), unsafe.Sizeof(st.msgs_received)),
			f("msgs_rejected", unsafe.Offsetof(st.msgs_rejected), unsafe.Sizeof(st.msgs_rejected)),
			f("elections_started", unsafe.Offsetof(st.elections_started), unsafe.Sizeof(st.elections_started)),
			f("proposals_queued", unsafe.Offsetof(st.proposals_queued), unsafe.Sizeof(st.proposals_queued)),
		}},
		{"raft_proposal", unsafe.Sizeof(p), []fieldLayout{
			f("id", unsafe.Offsetof(p.id), unsafe.Sizeof(p.id)),
			f("data", unsafe.Offsetof(p.data), unsafe.Sizeof(p.data)),
			f("len", unsafe.Offsetof(p.len), unsafe.Sizeof(p.len)),
		}},
	}
}
