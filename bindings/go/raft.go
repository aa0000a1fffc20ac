// Package raft is the Go binding of libraft, a Raft consensus library with a
// stable C ABI.  It links libraft.so.0 through pkg-config (module "raft").
//
// The user side mirrors little_raft's traits: a StateMachine receives committed
// transitions (bytes with a uint64 id) in the same order on every replica, and a
// Cluster carries the library's messages between replicas.  A Replica is driven
// either by Run on a goroutine of its own or by Poll from an event loop; any
// goroutine may Propose, Notify, Stop and read Status.
//
// A panic inside a StateMachine or Cluster method never unwinds through C: it is
// recovered, and Run or Poll re-panics with the same value once the C call
// returned.  Callbacks must not call runtime.Goexit (nor t.FailNow in tests).
package raft

/*
#cgo pkg-config: raft
#include <raft.h>

#if RAFT_VERSION_MAJOR != 0 || RAFT_VERSION_MINOR < 1 || !defined(RAFT_OPTIONS_VERSION)
#error "this binding needs libraft 0.x from 0.1.0 on (is pkg-config finding another raft.pc?)"
#endif
*/
import "C"

// ReplicaID identifies a replica: chosen by the user, unique in the cluster, never 0.
type ReplicaID = uint64

// NoID is raft.h's RAFT_NO_ID: no replica (an unknown leader).
const NoID ReplicaID = 0

// LibraryVersion is the version of the libraft actually loaded, e.g. "0.1.0".
func LibraryVersion() string {
	return C.GoString(C.raft_version_string())
}

// libraryVersionNumber is raft_version_number() (MAJOR*10000 + MINOR*100 + PATCH).
func libraryVersionNumber() uint32 {
	return uint32(C.raft_version_number())
}
