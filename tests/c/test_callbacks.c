/* The callback contract: what is called, in which order, with what, and which
 * library functions a callback may call back into. */
#include <string.h>

#include "cluster.h"
#include "test_util.h"

#define MAX_EVENTS 256

enum { EV_APPLY = 1, EV_STATE, EV_LEADER };

typedef struct event {
  int kind;
  uint64_t id;   /* transition id (apply, state) or leader id */
  int state;     /* EV_STATE */
  size_t len;    /* EV_APPLY */
  char data[32]; /* EV_APPLY: the first bytes */
} event;

/* A single node plus what its callbacks saw and what they should try. */
typedef struct recorder {
  raft_node* node;
  uint64_t now;
  event ev[MAX_EVENTS];
  int n_ev;
  /* Re-entrancy probes, run from inside callbacks. */
  int probe;
  int probes_run;
  int poll_rc, run_rc, propose_rc, status_rc;
  int stop_in_apply;
  int halt_after_applies;
  int halt_calls;
} recorder;

static void push(recorder* r, int kind, uint64_t id, int state, const void* data, size_t len) {
  event* e;
  assert_true(r->n_ev < MAX_EVENTS);
  e = &r->ev[r->n_ev++];
  e->kind = kind;
  e->id = id;
  e->state = state;
  e->len = len;
  memset(e->data, 0, sizeof e->data);
  if (len > 0) memcpy(e->data, data, len < sizeof e->data ? len : sizeof e->data);
}

/* Call back into the library from inside a callback, once per callback. */
static void run_probes(recorder* r) {
  raft_status st;
  if (!r->probe) return;
  r->probes_run++;
  r->poll_rc = raft_node_poll(r->node, r->now, NULL);
  r->run_rc = raft_node_run(r->node);
  raft_node_destroy(r->node); /* must do nothing */
  raft_status_init(&st);
  r->status_rc = raft_node_status(r->node, &st);
  raft_node_notify(r->node);
  r->propose_rc = raft_node_propose(r->node, 1000 + (uint64_t)r->probes_run, "re", 2);
  r->probe = 0;
}

static void rec_apply(uint64_t id, const void* data, size_t len, void* user) {
  recorder* r = user;
  push(r, EV_APPLY, id, 0, data, len);
  if (r->stop_in_apply) raft_node_stop(r->node);
  run_probes(r);
}

static void rec_state(uint64_t id, raft_transition_state state, void* user) {
  recorder* r = user;
  push(r, EV_STATE, id, (int)state, NULL, 0);
}

static void rec_leader(raft_id leader, void* user) {
  recorder* r = user;
  push(r, EV_LEADER, leader, 0, NULL, 0);
  run_probes(r);
}

static int rec_halt(void* user) {
  recorder* r = user;
  int applies = 0, i;
  r->halt_calls++;
  for (i = 0; i < r->n_ev; i++) applies += r->ev[i].kind == EV_APPLY;
  return r->halt_after_applies > 0 && applies >= r->halt_after_applies;
}

static int setup(void** state) {
  recorder* r = test_calloc(1, sizeof *r);
  raft_options opt;
  raft_callbacks cb;
  raft_options_init(&opt);
  opt.id = 1;
  opt.random_seed = 3;
  raft_callbacks_init(&cb);
  cb.apply = rec_apply;
  cb.transition_state = rec_state;
  cb.leader = rec_leader;
  cb.halt = rec_halt;
  assert_int_equal(raft_node_create(&r->node, &opt, &cb, r), RAFT_OK);
  *state = r;
  return 0;
}

static int teardown(void** state) {
  recorder* r = *state;
  raft_node_destroy(r->node);
  test_free(r);
  return 0;
}

static void poll_for(recorder* r, uint64_t ms) {
  uint64_t end = r->now + ms;
  while (r->now < end) {
    uint64_t next = 0;
    assert_int_equal(raft_node_poll(r->node, r->now, &next), RAFT_OK);
    r->now = next > r->now && next < end ? next : r->now + 1;
  }
}

static void become_leader(recorder* r) {
  raft_status st;
  poll_for(r, 1000);
  raft_status_init(&st);
  assert_int_equal(raft_node_status(r->node, &st), RAFT_OK);
  assert_int_equal(st.role, RAFT_LEADER);
}

static int find(const recorder* r, int kind, uint64_t id, int state, int from) {
  int i;
  for (i = from; i < r->n_ev; i++) {
    const event* e = &r->ev[i];
    if (e->kind == kind && e->id == id && (kind != EV_STATE || e->state == state)) return i;
  }
  return -1;
}

static int count(const recorder* r, int kind) {
  int i, n = 0;
  for (i = 0; i < r->n_ev; i++) n += r->ev[i].kind == kind;
  return n;
}

/* ---- tests ---------------------------------------------------------- */

static void test_single_node_leads_and_applies(void** state) {
  recorder* r = *state;
  become_leader(r);
  /* Exactly one leader report (the node itself); the no-op is never applied. */
  assert_int_equal(count(r, EV_LEADER), 1);
  assert_true(find(r, EV_LEADER, 1, 0, 0) >= 0);
  assert_int_equal(count(r, EV_APPLY), 0);

  assert_int_equal(raft_node_propose(r->node, 11, "alpha", 5), RAFT_OK);
  assert_int_equal(raft_node_propose(r->node, 12, "", 0), RAFT_OK);
  assert_int_equal(raft_node_propose(r->node, 13, "gamma!", 6), RAFT_OK);
  poll_for(r, 10);
  assert_int_equal(count(r, EV_APPLY), 3);
  {
    int a = find(r, EV_APPLY, 11, 0, 0), b = find(r, EV_APPLY, 12, 0, 0),
        c = find(r, EV_APPLY, 13, 0, 0);
    assert_true(a >= 0 && a < b && b < c);
    assert_int_equal(r->ev[a].len, 5);
    assert_memory_equal(r->ev[a].data, "alpha", 5);
    assert_int_equal(r->ev[b].len, 0);
    assert_int_equal(r->ev[c].len, 6);
    assert_memory_equal(r->ev[c].data, "gamma!", 6);
  }
}

/* QUEUED, then COMMITTED, then (after apply ran) APPLIED, once each. */
static void test_transition_state_order(void** state) {
  recorder* r = *state;
  uint64_t id;
  become_leader(r);
  for (id = 21; id <= 25; id++) assert_int_equal(raft_node_propose(r->node, id, "x", 1), RAFT_OK);
  poll_for(r, 10);
  for (id = 21; id <= 25; id++) {
    int q = find(r, EV_STATE, id, RAFT_TRANSITION_QUEUED, 0);
    int c = find(r, EV_STATE, id, RAFT_TRANSITION_COMMITTED, 0);
    int a = find(r, EV_APPLY, id, 0, 0);
    int d = find(r, EV_STATE, id, RAFT_TRANSITION_APPLIED, 0);
    assert_true(q >= 0);
    assert_true(c > q);
    assert_true(a > c);
    assert_true(d > a);
    assert_int_equal(find(r, EV_STATE, id, RAFT_TRANSITION_QUEUED, q + 1), -1);
    assert_int_equal(find(r, EV_STATE, id, RAFT_TRANSITION_COMMITTED, c + 1), -1);
    assert_int_equal(find(r, EV_STATE, id, RAFT_TRANSITION_APPLIED, d + 1), -1);
    assert_int_equal(find(r, EV_STATE, id, RAFT_TRANSITION_ABANDONED_NOT_LEADER, 0), -1);
    assert_int_equal(find(r, EV_STATE, id, RAFT_TRANSITION_ABANDONED_CONFLICT, 0), -1);
  }
}

/* A voter whose peers never answer is never leader: its proposals are
 * abandoned (once, never queued) and never applied. */
static void test_not_leader(void** state) {
  recorder* r = *state;
  raft_node* lonely = NULL;
  raft_options opt;
  raft_callbacks cb;
  const raft_id peers[] = {2, 3};
  raft_options_init(&opt);
  opt.id = 1;
  opt.peers = peers;
  opt.n_peers = 2;
  raft_callbacks_init(&cb);
  cb.apply = rec_apply;
  cb.transition_state = rec_state;
  cb.send = send_nowhere;
  cb.receive = receive_nothing;
  raft_node_destroy(r->node);
  assert_int_equal(raft_node_create(&lonely, &opt, &cb, r), RAFT_OK);
  r->node = lonely;
  assert_int_equal(raft_node_propose(r->node, 31, "early", 5), RAFT_OK);
  assert_int_equal(raft_node_poll(r->node, 0, NULL), RAFT_OK);
  assert_int_equal(raft_node_propose(r->node, 32, "later", 5), RAFT_OK);
  assert_int_equal(raft_node_poll(r->node, 2000, NULL), RAFT_OK);
  assert_int_equal(raft_node_poll(r->node, 2001, NULL), RAFT_OK);
  assert_int_equal(r->n_ev, 2);
  assert_true(find(r, EV_STATE, 31, RAFT_TRANSITION_ABANDONED_NOT_LEADER, 0) == 0);
  assert_true(find(r, EV_STATE, 32, RAFT_TRANSITION_ABANDONED_NOT_LEADER, 0) == 1);
}

static void test_reentrant_calls_from_apply(void** state) {
  recorder* r = *state;
  raft_status st;
  become_leader(r);
  assert_int_equal(raft_node_propose(r->node, 41, "probe", 5), RAFT_OK);
  r->probe = 1;
  poll_for(r, 20);
  assert_int_equal(r->probes_run, 1);
  assert_int_equal(r->poll_rc, RAFT_EBUSY);
  assert_int_equal(r->run_rc, RAFT_EBUSY);
  assert_int_equal(r->status_rc, RAFT_OK);
  assert_int_equal(r->propose_rc, RAFT_OK);
  /* destroy did nothing: the node still works, and the proposal made from
   * inside apply was applied in a later turn. */
  raft_status_init(&st);
  assert_int_equal(raft_node_status(r->node, &st), RAFT_OK);
  assert_int_equal(st.role, RAFT_LEADER);
  assert_true(find(r, EV_APPLY, 1001, 0, 0) > find(r, EV_APPLY, 41, 0, 0));
  assert_true(find(r, EV_STATE, 1001, RAFT_TRANSITION_APPLIED, 0) >= 0);
}

static void test_reentrant_calls_from_leader_callback(void** state) {
  recorder* r = *state;
  r->probe = 1;
  become_leader(r);
  assert_int_equal(r->probes_run, 1);
  assert_int_equal(r->poll_rc, RAFT_EBUSY);
  assert_int_equal(r->run_rc, RAFT_EBUSY);
  assert_int_equal(r->status_rc, RAFT_OK);
  assert_int_equal(r->propose_rc, RAFT_OK);
  poll_for(r, 20);
  assert_true(find(r, EV_APPLY, 1001, 0, 0) >= 0);
}

/* halt is consulted after every turn of run; nonzero makes run return OK. */
static void test_halt_stops_run(void** state) {
  recorder* r = *state;
  uint64_t id;
  become_leader(r);
  for (id = 54; id <= 56; id++) assert_int_equal(raft_node_propose(r->node, id, "h", 1), RAFT_OK);
  r->halt_after_applies = 3;
  r->halt_calls = 0;
  assert_int_equal(raft_node_run(r->node), RAFT_OK);
  assert_true(r->halt_calls >= 1);
  assert_int_equal(count(r, EV_APPLY), 3);
  /* run can be called again after a halt, and checks halt after its turn. */
  r->halt_calls = 0;
  assert_int_equal(raft_node_run(r->node), RAFT_OK);
  assert_int_equal(r->halt_calls, 1);
}

static void test_stop_from_apply(void** state) {
  recorder* r = *state;
  become_leader(r);
  r->stop_in_apply = 1;
  assert_int_equal(raft_node_propose(r->node, 61, "s", 1), RAFT_OK);
  assert_int_equal(raft_node_run(r->node), RAFT_OK);
  assert_true(find(r, EV_APPLY, 61, 0, 0) >= 0);
  assert_int_equal(raft_node_poll(r->node, r->now + 1, NULL), RAFT_ESHUTDOWN);
  assert_int_equal(raft_node_propose(r->node, 62, "s", 1), RAFT_ESHUTDOWN);
}

/* A leader that loses its majority steps down (check-quorum) and reports an
 * unknown leader; the others report the new one; after healing everybody
 * reports the new leader. */
static void test_leader_callback_in_cluster(void** state) {
  cluster_config cfg;
  cluster* c;
  raft_id old, fresh;
  size_t n, i;
  const raft_id* log;
  (void)state;
  cluster_config_init(&cfg, 3, 4242);
  c = cluster_create(&cfg);
  assert_non_null(c);
  old = cluster_wait_leader(c, 5000);
  assert_int_not_equal(old, RAFT_NO_ID);
  assert_int_equal(cluster_step(c, 200), RAFT_OK);
  for (i = 1; i <= 3; i++) {
    log = cluster_leader_log(c, i, &n);
    assert_true(n >= 1);
    assert_int_equal(log[n - 1], old);
  }
  cluster_isolate(c, old);
  assert_int_equal(cluster_step(c, 2000), RAFT_OK);
  fresh = cluster_leader(c);
  assert_int_not_equal(fresh, RAFT_NO_ID);
  assert_int_not_equal(fresh, old);
  log = cluster_leader_log(c, old, &n);
  assert_int_equal(log[n - 1], RAFT_NO_ID);
  for (i = 1; i <= 3; i++) {
    if (i == old) continue;
    log = cluster_leader_log(c, i, &n);
    assert_int_equal(log[n - 1], fresh);
  }
  cluster_heal(c, old);
  assert_int_equal(cluster_step(c, 1000), RAFT_OK);
  for (i = 1; i <= 3; i++) {
    log = cluster_leader_log(c, i, &n);
    assert_int_equal(log[n - 1], fresh);
    /* Only changes are reported. */
    for (; n > 1; n--) assert_int_not_equal(log[n - 1], log[n - 2]);
  }
  assert_true(cluster_check_safety(c));
  cluster_destroy(c);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_single_node_leads_and_applies),
      T(test_transition_state_order),
      T(test_not_leader),
      T(test_reentrant_calls_from_apply),
      T(test_reentrant_calls_from_leader_callback),
      T(test_halt_stops_run),
      T(test_stop_from_apply),
      cmocka_unit_test(test_leader_callback_in_cluster),
  };
  test_watchdog(60);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
