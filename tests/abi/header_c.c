/* raft.h on its own, as a C89/C99/C11 program sees it.  Compiled by check-headers.sh with
 * -pedantic -Wall -Wextra -Werror and more; it includes the header twice (include guard) and
 * names every type, macro and function so that each declaration is checked in this dialect. */
#include <raft.h>

/* Again: the include guard must make a second inclusion harmless. */
#include <raft.h>

/* Every public function, through a pointer of the declared type: a changed signature fails. */
static void take_functions(void) {
  uint32_t (*version_number)(void) = raft_version_number;
  const char* (*version_string)(void) = raft_version_string;
  const char* (*strerror_fn)(int) = raft_strerror;
  void (*options_init)(raft_options*) = raft_options_init;
  void (*callbacks_init)(raft_callbacks*) = raft_callbacks_init;
  void (*status_init)(raft_status*) = raft_status_init;
  void (*storage_init)(raft_storage*) = raft_storage_init;
  int (*create)(raft_node**, const raft_options*, const raft_callbacks*, void*) = raft_node_create;
  void (*destroy)(raft_node*) = raft_node_destroy;
  int (*run)(raft_node*) = raft_node_run;
  int (*poll)(raft_node*, uint64_t, uint64_t*) = raft_node_poll;
  int (*propose)(raft_node*, uint64_t, const void*, size_t) = raft_node_propose;
  int (*propose_batch)(raft_node*, const raft_proposal*, size_t, size_t*) = raft_node_propose_batch;
  void (*notify)(raft_node*) = raft_node_notify;
  void (*stop)(raft_node*) = raft_node_stop;
  int (*status)(raft_node*, raft_status*) = raft_node_status;
  const char* (*errmsg)(const raft_node*) = raft_node_errmsg;
  int (*snapshot_write)(raft_snapshot_writer*, const void*, size_t) = raft_snapshot_write;
  int64_t (*snapshot_read)(raft_snapshot_reader*, void*, size_t) = raft_snapshot_read;
  (void)version_number;
  (void)version_string;
  (void)strerror_fn;
  (void)options_init;
  (void)callbacks_init;
  (void)status_init;
  (void)storage_init;
  (void)create;
  (void)destroy;
  (void)run;
  (void)poll;
  (void)propose;
  (void)propose_batch;
  (void)notify;
  (void)stop;
  (void)status;
  (void)errmsg;
  (void)snapshot_write;
  (void)snapshot_read;
}

/* The snapshot callbacks and storage functions, through their declared types. */
static int save_cb(raft_snapshot_writer* w, uint64_t index, void* user) {
  (void)w;
  (void)index;
  (void)user;
  return RAFT_SNAPSHOT_MORE;
}
static int load_cb(raft_snapshot_reader* r, uint64_t index, void* user) {
  (void)r;
  (void)index;
  (void)user;
  return RAFT_OK;
}
static int meta_fn(void* ctx, void* buf, size_t cap, size_t* meta_len) {
  (void)ctx;
  (void)buf;
  *meta_len = 0;
  return cap >= RAFT_SNAPSHOT_META_MAX ? RAFT_OK : RAFT_EINVAL;
}
static int read_fn(void* ctx, uint64_t offset, void* buf, size_t cap, size_t* got) {
  (void)ctx;
  (void)offset;
  (void)buf;
  (void)cap;
  *got = 0;
  return RAFT_OK;
}

int main(void) {
  raft_options opt;
  raft_callbacks cb;
  raft_status st;
  raft_storage storage;
  raft_entry entry;
  raft_node* node = 0;
  raft_id id = RAFT_NO_ID;
  raft_role role = RAFT_LEADER;
  raft_transition_state ts = RAFT_TRANSITION_UNKNOWN;
  raft_log_level level = RAFT_LOG_DEBUG;
  int codes[13];
  unsigned long number = RAFT_VERSION_NUMBER;

  codes[0] = RAFT_OK;
  codes[1] = RAFT_EINVAL;
  codes[2] = RAFT_ENOMEM;
  codes[3] = RAFT_ENOTLEADER;
  codes[4] = RAFT_EBUSY;
  codes[5] = RAFT_ESHUTDOWN;
  codes[6] = RAFT_EIO;
  codes[7] = RAFT_ECORRUPT;
  codes[8] = RAFT_ETOOBIG;
  codes[9] = RAFT_ECALLBACK;
  codes[10] = RAFT_EVERSION;
  codes[11] = RAFT_EINTERNAL;
  codes[12] = RAFT_ENOTSUP;
  opt.version = RAFT_OPTIONS_VERSION;
  cb.version = RAFT_CALLBACKS_VERSION;
  st.version = RAFT_STATUS_VERSION;
  storage.version = RAFT_STORAGE_VERSION;
  entry.type = RAFT_ENTRY_COMMAND + RAFT_ENTRY_NOOP;
  opt.storage = &storage;
  opt.snapshot_interval = 1;
  opt.snapshot_trailing = 0;
  opt.max_snapshot_chunk_bytes = 1;
  cb.snapshot_save = save_cb;
  cb.snapshot_load = load_cb;
  storage.snapshot_meta = meta_fn;
  storage.snapshot_read = read_fn;
  take_functions();
  (void)opt;
  (void)cb;
  (void)st;
  (void)entry;
  (void)node;
  return (int)(id + (raft_id)role + (raft_id)ts + (raft_id)level + (raft_id)codes[0] +
               (number - RAFT_VERSION_MAJOR * 10000UL - RAFT_VERSION_MINOR * 100UL -
                RAFT_VERSION_PATCH));
}
