#include "shim.h"

#include "_cgo_export.h"

static uintptr_t handle_of(void* user) { return *(const uintptr_t*)user; }

static void apply_tramp(uint64_t id, const void* data, size_t len, void* user) {
  goRaftApply(handle_of(user), id, (void*)data, len);
}

static void transition_state_tramp(uint64_t id, raft_transition_state state, void* user) {
  goRaftTransitionState(handle_of(user), id, state);
}

static void send_tramp(raft_id to, const void* msg, size_t len, void* user) {
  goRaftSend(handle_of(user), to, (void*)msg, len);
}

static int receive_tramp(const void** msg, size_t* len, void* user) {
  return goRaftReceive(handle_of(user), (void**)msg, len);
}

static int halt_tramp(void* user) { return goRaftHalt(handle_of(user)); }

static void leader_tramp(raft_id leader, void* user) { goRaftLeader(handle_of(user), leader); }

static void log_tramp(raft_log_level level, const char* msg, void* user) {
  goRaftLog(handle_of(user), level, (char*)msg);
}

static int snapshot_save_tramp(raft_snapshot_writer* w, uint64_t index, void* user) {
  return goRaftSnapshotSave(handle_of(user), w, index);
}

static int snapshot_load_tramp(raft_snapshot_reader* r, uint64_t index, void* user) {
  return goRaftSnapshotLoad(handle_of(user), r, index);
}

void raft_go_callbacks(raft_callbacks* cb, int with_cluster, int with_snapshots) {
  raft_callbacks_init(cb);
  cb->apply = apply_tramp;
  cb->transition_state = transition_state_tramp;
  cb->halt = halt_tramp; /* always: a pending panic must end run */
  cb->log = log_tramp;   /* always: it carries raft_node_create's reason */
  if (with_cluster) {
    cb->send = send_tramp;
    cb->receive = receive_tramp;
    cb->leader = leader_tramp;
  }
  if (with_snapshots) {
    cb->snapshot_save = snapshot_save_tramp;
    cb->snapshot_load = snapshot_load_tramp;
  }
}

/* A callback runs on the thread that called run/poll, so a thread-local marker
 * tells whether Close is called from inside one. */
static _Thread_local void* driving;

int raft_go_run(raft_node* node, void* user) {
  void* outer = driving;
  driving = user;
  int rc = raft_node_run(node);
  driving = outer;
  return rc;
}

int raft_go_poll(raft_node* node, uint64_t now_ms, uint64_t* next_ms, void* user) {
  void* outer = driving;
  driving = user;
  int rc = raft_node_poll(node, now_ms, next_ms);
  driving = outer;
  return rc;
}

int raft_go_in_callback(void* user) { return user != NULL && driving == user; }
