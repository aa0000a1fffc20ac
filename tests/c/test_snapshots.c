/* Snapshots through the public C API: option validation, the stream helpers'
 * argument checks, a 3-node cluster that compacts (and a follower that has to
 * install the leader's snapshot), a restart from data_dir, a save in steps and
 * a failing save.
 *
 * The state machine's state is the list of applied transition ids; its
 * snapshot is that list as raw bytes.  The transport is a plain in-memory one
 * (no faults): support/cluster.c does not register snapshot callbacks. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

#define MAX_APPLIED 4096
#define MAX_NODES 3
#define INBOX_CAP 4096

typedef struct msg {
  size_t len;
  unsigned char* data;
} msg;

typedef struct node node;

typedef struct net {
  node* nodes[MAX_NODES + 1]; /* by id */
  int isolated[MAX_NODES + 1];
} net;

struct node {
  raft_id id;
  net* net;
  raft_node* raft;
  msg inbox[INBOX_CAP];
  size_t in_head, in_tail;
  unsigned char* current;

  uint64_t applied[MAX_APPLIED];
  size_t n_applied;
  uint64_t applied_at_load; /* n_applied right after the last load */

  int save_steps;       /* calls per save (RAFT_SNAPSHOT_MORE in between) */
  int save_step;        /* of the save in progress; 0 when none */
  int fail_saves;       /* this many saves return RAFT_EIO first */
  int failed_saves;     /* how many did */
  uint64_t failed_at;   /* index of the first failed save */
  int applies_in_save;  /* apply calls between the steps of one save */
  int save_index_moved; /* a later step got another index than the first */
  uint64_t step_index;
  uint64_t saves[256];
  size_t n_saves;
  unsigned char* saved; /* the bytes of the last completed save */
  size_t saved_len;

  uint64_t loads[16];
  size_t n_loads;
  unsigned char* loaded; /* the bytes of the last load */
  size_t loaded_len;
  int bad_args_checked;
};

/* ---- state machine ---------------------------------------------------- */

static void sm_apply(uint64_t id, const void* data, size_t len, void* user) {
  node* n = user;
  (void)data;
  (void)len;
  if (n->save_step > 0) n->applies_in_save++;
  assert_true(n->n_applied < MAX_APPLIED);
  n->applied[n->n_applied++] = id;
}

static int sm_save(raft_snapshot_writer* w, uint64_t index, void* user) {
  node* n = user;
  const unsigned char* bytes = (const unsigned char*)n->applied;
  size_t total = n->n_applied * sizeof n->applied[0], from, to;
  int steps = n->save_steps > 0 ? n->save_steps : 1;
  int rc;
  if (!n->bad_args_checked) {
    /* A live writer still refuses NULL data with a length. */
    assert_int_equal(raft_snapshot_write(w, NULL, 4), RAFT_EINVAL);
    assert_int_equal(raft_snapshot_write(w, NULL, 0), RAFT_OK);
    n->bad_args_checked = 1;
  }
  if (n->fail_saves > 0) {
    if (n->failed_saves == 0) n->failed_at = index;
    n->fail_saves--;
    n->failed_saves++;
    return RAFT_EIO;
  }
  if (n->save_step == 0) n->step_index = index;
  if (index != n->step_index) n->save_index_moved = 1;
  /* Step k of `steps` writes its share of the state, which cannot change
   * between steps (no apply). */
  from = total * (size_t)n->save_step / (size_t)steps;
  to = total * (size_t)(n->save_step + 1) / (size_t)steps;
  rc = raft_snapshot_write(w, bytes + from, to - from);
  assert_int_equal(rc, RAFT_OK);
  if (++n->save_step < steps) return RAFT_SNAPSHOT_MORE;
  n->save_step = 0;
  assert_true(n->n_saves < 256);
  n->saves[n->n_saves++] = index;
  free(n->saved);
  n->saved = malloc(total ? total : 1);
  assert_non_null(n->saved);
  memcpy(n->saved, bytes, total);
  n->saved_len = total;
  return RAFT_OK;
}

static int sm_load(raft_snapshot_reader* r, uint64_t index, void* user) {
  node* n = user;
  unsigned char buf[1000]; /* not a multiple of 8: records straddle reads */
  size_t len = 0;
  int64_t got;
  assert_int_equal(raft_snapshot_read(r, NULL, 8), RAFT_EINVAL);
  free(n->loaded);
  n->loaded = malloc(MAX_APPLIED * sizeof n->applied[0]);
  assert_non_null(n->loaded);
  while ((got = raft_snapshot_read(r, buf, sizeof buf)) > 0) {
    assert_true(len + (size_t)got <= MAX_APPLIED * sizeof n->applied[0]);
    memcpy(n->loaded + len, buf, (size_t)got);
    len += (size_t)got;
  }
  assert_int_equal(got, 0);
  assert_int_equal(len % sizeof n->applied[0], 0);
  n->loaded_len = len;
  memcpy(n->applied, n->loaded, len);
  n->n_applied = len / sizeof n->applied[0];
  n->applied_at_load = n->n_applied;
  assert_true(n->n_loads < 16);
  n->loads[n->n_loads++] = index;
  return RAFT_OK;
}

/* ---- transport -------------------------------------------------------- */

static void tx_send(raft_id to, const void* data, size_t len, void* user) {
  node* n = user;
  node* d;
  msg* m;
  assert_true(to >= 1 && to <= MAX_NODES && to != n->id);
  d = n->net->nodes[to];
  if (d == NULL || n->net->isolated[n->id] || n->net->isolated[to]) return;
  if (d->in_tail - d->in_head == INBOX_CAP) return; /* full: lost, as a network may */
  m = &d->inbox[d->in_tail++ % INBOX_CAP];
  m->len = len;
  m->data = malloc(len ? len : 1);
  assert_non_null(m->data);
  memcpy(m->data, data, len);
}

static int tx_receive(const void** data, size_t* len, void* user) {
  node* n = user;
  msg* m;
  free(n->current);
  n->current = NULL;
  if (n->in_head == n->in_tail) return 0;
  m = &n->inbox[n->in_head++ % INBOX_CAP];
  n->current = m->data;
  *data = m->data;
  *len = m->len;
  return 1;
}

static void inbox_clear(node* n) {
  while (n->in_head != n->in_tail) free(n->inbox[n->in_head++ % INBOX_CAP].data);
  free(n->current);
  n->current = NULL;
}

/* ---- nodes -------------------------------------------------------------- */

static void base_options(raft_options* opt, raft_id id, int n_nodes, raft_id* peers) {
  int i, k = 0;
  raft_options_init(opt);
  opt->id = id;
  for (i = 1; i <= n_nodes; i++)
    if ((raft_id)i != id) peers[k++] = (raft_id)i;
  opt->peers = k > 0 ? peers : NULL;
  opt->n_peers = (size_t)k;
  opt->random_seed = 1000 + id;
  opt->cluster_id = 0x5eed;
}

static void base_callbacks(raft_callbacks* cb, int n_nodes) {
  raft_callbacks_init(cb);
  cb->apply = sm_apply;
  cb->snapshot_save = sm_save;
  cb->snapshot_load = sm_load;
  if (n_nodes > 1) {
    cb->send = tx_send;
    cb->receive = tx_receive;
  }
}

static node* node_new(net* nt, raft_id id) {
  node* n = calloc(1, sizeof *n);
  assert_non_null(n);
  n->id = id;
  n->net = nt;
  if (nt != NULL) nt->nodes[id] = n;
  return n;
}

static void node_free(node* n) {
  if (n == NULL) return;
  raft_node_destroy(n->raft);
  inbox_clear(n);
  free(n->saved);
  free(n->loaded);
  free(n);
}

static raft_status status_of(node* n) {
  raft_status st;
  raft_status_init(&st);
  assert_int_equal(raft_node_status(n->raft, &st), RAFT_OK);
  return st;
}

static void poll_all(node** nodes, int count, uint64_t now) {
  int i;
  for (i = 0; i < count; i++) assert_int_equal(raft_node_poll(nodes[i]->raft, now, NULL), RAFT_OK);
}

static node* leader_of(node** nodes, int count) {
  int i;
  node* found = NULL;
  for (i = 0; i < count; i++) {
    if (nodes[i]->net && nodes[i]->net->isolated[nodes[i]->id]) continue;
    if (status_of(nodes[i]).role == RAFT_LEADER) {
      if (found != NULL) return NULL;
      found = nodes[i];
    }
  }
  return found;
}

static node* wait_leader(node** nodes, int count, uint64_t* now) {
  uint64_t end = *now + 10000;
  node* l;
  while ((l = leader_of(nodes, count)) == NULL) {
    assert_true(*now < end);
    poll_all(nodes, count, ++*now);
  }
  return l;
}

/* ---- option validation ------------------------------------------------ */

/* A user storage whose log is always empty; only its shape matters here. */
static int st_load(void* ctx, uint64_t* term, raft_id* vote, uint64_t* first,
                   int (*entry)(void*, const raft_entry*), void* arg) {
  (void)ctx;
  (void)entry;
  (void)arg;
  *term = 0;
  *vote = RAFT_NO_ID;
  *first = 1;
  return RAFT_OK;
}
static int st_hard_state(void* ctx, uint64_t term, raft_id vote) {
  (void)ctx;
  (void)term;
  (void)vote;
  return RAFT_OK;
}
static int st_append(void* ctx, uint64_t first, const raft_entry* e, size_t n) {
  (void)ctx;
  (void)first;
  (void)e;
  (void)n;
  return RAFT_OK;
}
static int st_index(void* ctx, uint64_t index) {
  (void)ctx;
  (void)index;
  return RAFT_OK;
}
static int st_sync(void* ctx) {
  (void)ctx;
  return RAFT_OK;
}

static int create_rc(const raft_options* opt, const raft_callbacks* cb, log_capture* log) {
  raft_node* out = (raft_node*)(void*)log; /* any non-NULL value: must become NULL */
  int rc = raft_node_create(&out, opt, cb, log);
  if (rc == RAFT_OK) {
    assert_non_null(out);
    raft_node_destroy(out);
  } else {
    assert_null(out);
  }
  return rc;
}

static void test_option_validation(void** state) {
  raft_options opt;
  raft_callbacks cb;
  raft_storage st;
  log_capture log;
  raft_id peers[MAX_NODES];
  (void)state;
  base_options(&opt, 1, 1, peers);
  raft_callbacks_init(&cb);
  cb.apply = ignore_apply;
  cb.log = log_capture_cb;

  log_capture_reset(&log);
  opt.snapshot_interval = 10; /* without callbacks */
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_EINVAL);
  assert_true(contains_nocase(log.last, "snapshot"));

  cb.snapshot_save = sm_save; /* only one of the pair */
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_EINVAL);
  opt.snapshot_interval = 0;
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_EINVAL);
  cb.snapshot_save = NULL;
  cb.snapshot_load = sm_load;
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_EINVAL);
  cb.snapshot_save = sm_save;
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_OK);

  opt.max_snapshot_chunk_bytes = 0;
  log_capture_reset(&log);
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_EINVAL);
  assert_true(contains_nocase(log.last, "max_snapshot_chunk_bytes"));
  raft_options_init(&opt);
  base_options(&opt, 1, 1, peers);

  /* A user storage with some but not all six snapshot functions. */
  raft_storage_init(&st);
  st.load = st_load;
  st.save_hard_state = st_hard_state;
  st.append = st_append;
  st.truncate = st_index;
  st.sync = st_sync;
  opt.storage = &st;
  cb.snapshot_save = NULL;
  cb.snapshot_load = NULL;
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_OK); /* none: fine without snapshots */
  st.compact = st_index;
  log_capture_reset(&log);
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_EINVAL);
  assert_true(contains_nocase(log.last, "snapshot"));
  st.compact = NULL;

  /* Snapshot callbacks with a user storage that cannot hold snapshots. */
  cb.snapshot_save = sm_save;
  cb.snapshot_load = sm_load;
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_ENOTSUP);
  opt.snapshot_interval = 5;
  assert_int_equal(create_rc(&opt, &cb, &log), RAFT_ENOTSUP);
}

static void test_stream_helpers_refuse_null_handles(void** state) {
  unsigned char buf[8] = {0};
  (void)state;
  assert_int_equal(raft_snapshot_write(NULL, buf, sizeof buf), RAFT_EINVAL);
  assert_int_equal(raft_snapshot_write(NULL, NULL, 0), RAFT_EINVAL);
  assert_int_equal(raft_snapshot_read(NULL, buf, sizeof buf), RAFT_EINVAL);
  assert_int_equal(raft_snapshot_read(NULL, NULL, 0), RAFT_EINVAL);
  assert_true(strlen(raft_strerror(RAFT_ENOTSUP)) > 0);
  assert_string_not_equal(raft_strerror(RAFT_ENOTSUP), raft_strerror(-99));
}

/* ---- a 3-node cluster ------------------------------------------------- */

typedef struct trio {
  net nt;
  node* nodes[MAX_NODES];
  raft_id peers[MAX_NODES][MAX_NODES];
  uint64_t now;
} trio;

static trio* trio_new(uint64_t interval, uint64_t trailing, uint32_t chunk) {
  trio* t = calloc(1, sizeof *t);
  int i;
  assert_non_null(t);
  for (i = 0; i < MAX_NODES; i++) {
    raft_options opt;
    raft_callbacks cb;
    node* n = node_new(&t->nt, (raft_id)i + 1);
    base_options(&opt, n->id, MAX_NODES, t->peers[i]);
    opt.snapshot_interval = interval;
    opt.snapshot_trailing = trailing;
    if (chunk) opt.max_snapshot_chunk_bytes = chunk;
    base_callbacks(&cb, MAX_NODES);
    assert_int_equal(raft_node_create(&n->raft, &opt, &cb, n), RAFT_OK);
    t->nodes[i] = n;
  }
  return t;
}

static void trio_free(trio* t) {
  int i;
  for (i = 0; i < MAX_NODES; i++) node_free(t->nodes[i]);
  free(t);
}

/* Proposes ids first..last on the leader, a few per virtual ms. */
static void trio_propose(trio* t, node* leader, uint64_t first, uint64_t last) {
  uint64_t id;
  for (id = first; id <= last; id++) {
    unsigned char payload[16];
    memset(payload, (int)id, sizeof payload);
    assert_int_equal(raft_node_propose(leader->raft, id, payload, sizeof payload), RAFT_OK);
    if (id % 5 == 0) poll_all(t->nodes, MAX_NODES, ++t->now);
  }
}

static void trio_wait_applied(trio* t, size_t count, const int* which) {
  uint64_t end = t->now + 20000;
  int i, done = 0;
  while (!done) {
    done = 1;
    for (i = 0; i < MAX_NODES; i++)
      if (which[i] && t->nodes[i]->n_applied < count) done = 0;
    if (done) break;
    assert_true(t->now < end);
    poll_all(t->nodes, MAX_NODES, ++t->now);
  }
}

static void assert_applied_in_order(const node* n, uint64_t count) {
  uint64_t i;
  assert_int_equal(n->n_applied, count);
  for (i = 0; i < count; i++) assert_int_equal(n->applied[i], i + 1);
}

static void test_cluster_compacts_everywhere(void** state) {
  const int all[MAX_NODES] = {1, 1, 1};
  trio* t = trio_new(50, 10, 0);
  node* leader;
  int i;
  (void)state;
  leader = wait_leader(t->nodes, MAX_NODES, &t->now);
  trio_propose(t, leader, 1, 500);
  trio_wait_applied(t, 500, all);
  for (i = 0; i < 200; i++) poll_all(t->nodes, MAX_NODES, ++t->now);
  for (i = 0; i < MAX_NODES; i++) {
    node* n = t->nodes[i];
    raft_status st = status_of(n);
    assert_applied_in_order(n, 500);
    assert_true(n->n_saves >= 5);
    assert_true(st.snapshot_index > 0);
    assert_int_equal(st.snapshot_index, n->saves[n->n_saves - 1]);
    assert_true(st.snapshot_index <= st.applied_index);
    assert_int_equal(n->n_loads, 0); /* nobody fell behind */
    assert_int_equal(n->applies_in_save, 0);
  }
  trio_free(t);
}

/* A follower cut off while the others compact past its log must install the
 * leader's snapshot (sent in many small chunks), then catch up from the log. */
static void test_lagging_follower_installs_a_snapshot(void** state) {
  const int all[MAX_NODES] = {1, 1, 1};
  int others[MAX_NODES] = {1, 1, 1};
  trio* t = trio_new(50, 10, 100);
  node *leader, *lagger;
  raft_status lst, fst;
  int i;
  (void)state;
  leader = wait_leader(t->nodes, MAX_NODES, &t->now);
  lagger = t->nodes[leader->id % MAX_NODES]; /* some follower */
  trio_propose(t, leader, 1, 20);
  trio_wait_applied(t, 20, all);

  t->nt.isolated[lagger->id] = 1;
  inbox_clear(lagger);
  others[lagger->id - 1] = 0;
  trio_propose(t, leader, 21, 400);
  trio_wait_applied(t, 400, others);
  for (i = 0; i < 100; i++) poll_all(t->nodes, MAX_NODES, ++t->now);
  assert_int_equal(lagger->n_applied, 20);

  t->nt.isolated[lagger->id] = 0;
  trio_propose(t, leader, 401, 450);
  trio_wait_applied(t, 450, all);
  for (i = 0; i < 300; i++) poll_all(t->nodes, MAX_NODES, ++t->now);

  assert_true(lagger->n_loads >= 1);
  assert_true(lagger->loads[0] > 20 + 10); /* beyond what the leader still had in its log */
  /* What it loaded is exactly what the leader saved at that index. */
  assert_int_equal(lagger->loaded_len, (lagger->loads[lagger->n_loads - 1] - 1) * 8);
  for (i = 0; i < MAX_NODES; i++) assert_applied_in_order(t->nodes[i], 450);
  lst = status_of(leader);
  fst = status_of(lagger);
  assert_int_equal(fst.commit_index, lst.commit_index);
  assert_int_equal(fst.applied_index, lst.applied_index);
  assert_true(fst.snapshot_index >= lagger->loads[0]);
  trio_free(t);
}

/* ---- a single node with data_dir ------------------------------------- */

typedef struct solo {
  char dir[256];
  node* n;
  uint64_t now;
  raft_id peers[1];
} solo;

static void solo_start(solo* s, uint64_t interval, uint64_t trailing, int steps, int fails) {
  raft_options opt;
  raft_callbacks cb;
  s->n = node_new(NULL, 1);
  s->n->save_steps = steps;
  s->n->fail_saves = fails;
  base_options(&opt, 1, 1, s->peers);
  opt.data_dir = s->dir[0] ? s->dir : NULL;
  opt.snapshot_interval = interval;
  opt.snapshot_trailing = trailing;
  base_callbacks(&cb, 1);
  assert_int_equal(raft_node_create(&s->n->raft, &opt, &cb, s->n), RAFT_OK);
}

static void solo_stop(solo* s) {
  node_free(s->n);
  s->n = NULL;
}

static void solo_lead(solo* s) {
  node* one[1];
  one[0] = s->n;
  s->now = 0;
  wait_leader(one, 1, &s->now);
}

/* Proposes ids first..last, one per turn, then polls until they are applied. */
static void solo_propose(solo* s, uint64_t first, uint64_t last) {
  uint64_t id, end;
  for (id = first; id <= last; id++) {
    assert_int_equal(raft_node_propose(s->n->raft, id, "p", 1), RAFT_OK);
    assert_int_equal(raft_node_poll(s->n->raft, ++s->now, NULL), RAFT_OK);
  }
  end = s->now + 1000;
  while (s->n->n_applied < last) {
    assert_true(s->now < end);
    assert_int_equal(raft_node_poll(s->n->raft, ++s->now, NULL), RAFT_OK);
  }
}

static void make_dir(solo* s) {
  snprintf(s->dir, sizeof s->dir, "%s/raft-c-snapshot-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  assert_non_null(mkdtemp(s->dir));
}

static void remove_dir(const solo* s) {
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
  assert_int_equal(system(cmd), 0);
}

static void test_restart_loads_the_snapshot_then_replays(void** state) {
  solo s;
  unsigned char* saved;
  size_t saved_len;
  uint64_t last, i;
  (void)state;
  memset(&s, 0, sizeof s);
  make_dir(&s);
  solo_start(&s, 20, 0, 1, 0);
  solo_lead(&s);
  solo_propose(&s, 1, 50);
  assert_true(s.n->n_saves >= 2);
  last = s.n->saves[s.n->n_saves - 1];
  assert_int_equal(status_of(s.n).snapshot_index, last);
  saved_len = s.n->saved_len;
  saved = malloc(saved_len);
  assert_non_null(saved);
  memcpy(saved, s.n->saved, saved_len);
  solo_stop(&s);

  solo_start(&s, 20, 0, 1, 0);
  /* Loaded during create, before any apply, byte for byte what was saved. */
  assert_int_equal(s.n->n_loads, 1);
  assert_int_equal(s.n->loads[0], last);
  assert_int_equal(s.n->loaded_len, saved_len);
  assert_memory_equal(s.n->loaded, saved, saved_len);
  assert_int_equal(s.n->n_applied, s.n->applied_at_load);
  solo_lead(&s);
  while (s.n->n_applied < 50) {
    assert_true(s.now < 10000);
    assert_int_equal(raft_node_poll(s.n->raft, ++s.now, NULL), RAFT_OK);
  }
  /* Then apply ran only for the entries after the snapshot: no id twice. */
  assert_applied_in_order(s.n, 50);
  for (i = 0; i < 50; i++) assert_int_equal(s.n->applied[i], i + 1);
  free(saved);
  solo_stop(&s);
  remove_dir(&s);
}

static void test_save_in_steps_holds_apply(void** state) {
  solo s;
  raft_status st;
  (void)state;
  memset(&s, 0, sizeof s);
  solo_start(&s, 10, 2, 4, 0);
  solo_lead(&s);
  solo_propose(&s, 1, 60);
  st = status_of(s.n);
  assert_applied_in_order(s.n, 60);
  assert_true(s.n->n_saves >= 3);
  assert_int_equal(s.n->applies_in_save, 0);
  assert_int_equal(s.n->save_index_moved, 0);
  assert_int_equal(st.snapshot_index, s.n->saves[s.n->n_saves - 1]);
  /* The saved bytes are the state as of the snapshot's index (index 1 is the no-op). */
  assert_int_equal(s.n->saved_len, (st.snapshot_index - 1) * 8);
  solo_stop(&s);
}

static void test_failing_save_is_retried(void** state) {
  solo s;
  raft_status st;
  (void)state;
  memset(&s, 0, sizeof s);
  make_dir(&s);
  solo_start(&s, 10, 0, 1, 2);
  solo_lead(&s);
  solo_propose(&s, 1, 25);
  assert_int_equal(s.n->failed_saves, 2);
  assert_int_equal(s.n->failed_at, 10);
  assert_int_equal(status_of(s.n).snapshot_index, 0); /* nothing was committed yet */
  solo_propose(&s, 26, 60);
  st = status_of(s.n);
  assert_applied_in_order(s.n, 60);
  assert_true(s.n->n_saves >= 1);
  assert_int_equal(st.snapshot_index, s.n->saves[s.n->n_saves - 1]);
  solo_stop(&s);
  /* And what was finally saved restores. */
  solo_start(&s, 10, 0, 1, 0);
  assert_int_equal(s.n->n_loads, 1);
  assert_int_equal(s.n->loads[0], st.snapshot_index);
  solo_stop(&s);
  remove_dir(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_option_validation),
      cmocka_unit_test(test_stream_helpers_refuse_null_handles),
      cmocka_unit_test(test_cluster_compacts_everywhere),
      cmocka_unit_test(test_lagging_follower_installs_a_snapshot),
      cmocka_unit_test(test_restart_loads_the_snapshot_then_replays),
      cmocka_unit_test(test_save_in_steps_holds_apply),
      cmocka_unit_test(test_failing_save_is_retried),
  };
  test_watchdog(60);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
