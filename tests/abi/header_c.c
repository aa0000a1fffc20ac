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
  void (*notify)(raft_node*) = raft_node_notify;
  void (*stop)(raft_node*) = raft_node_stop;
  int (*status)(raft_node*, raft_status*) = raft_node_status;
  const char* (*errmsg)(const raft_node*) = raft_node_errmsg;
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
  (void)notify;
  (void)stop;
  (void)status;
  (void)errmsg;
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
  raft_transition_state ts = RAFT_TRANSITION_ABANDONED_CONFLICT;
  raft_log_level level = RAFT_LOG_DEBUG;
  int codes[12];
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
  opt.version = RAFT_OPTIONS_VERSION;
  cb.version = RAFT_CALLBACKS_VERSION;
  st.version = RAFT_STATUS_VERSION;
  storage.version = RAFT_STORAGE_VERSION;
  entry.type = RAFT_ENTRY_COMMAND + RAFT_ENTRY_NOOP;
  opt.storage = &storage;
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
