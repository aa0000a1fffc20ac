/* C side of the Go binding: trampolines with raft.h's exact signatures (cgo
 * exports cannot say `const`) and the driving-thread marker. */
#ifndef RAFT_GO_SHIM_H
#define RAFT_GO_SHIM_H

#include <raft.h>
#include <stdint.h>

/* Fill *cb with the trampolines; send/receive/leader only when with_cluster,
 * snapshot_save/snapshot_load only when with_snapshots.  `user` of the node
 * must point to a uintptr_t holding the cgo.Handle. */
void raft_go_callbacks(raft_callbacks* cb, int with_cluster, int with_snapshots);

/* raft_node_run/poll that mark the calling thread as driving `user`'s node. */
int raft_go_run(raft_node* node, void* user);
int raft_go_poll(raft_node* node, uint64_t now_ms, uint64_t* next_ms, void* user);

/* Nonzero when the calling thread is inside run/poll of `user`'s node, i.e. in
 * one of its callbacks. */
int raft_go_in_callback(void* user);

#endif
