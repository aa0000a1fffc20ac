/* raft_node_propose_batch: the same as one raft_node_propose per element, in
 * order, stopping at the first failure and saying how many were queued. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#define MAX_APPLIED 256

typedef struct recorder {
  uint64_t ids[MAX_APPLIED];
  char bytes[MAX_APPLIED][16];
  size_t n;
  size_t queued_reports, applied_reports;
  log_capture log;
} recorder;

static void record_apply(uint64_t id, const void* data, size_t len, void* user) {
  recorder* r = user;
  assert_true(r->n < MAX_APPLIED);
  assert_true(len < sizeof r->bytes[0]);
  r->ids[r->n] = id;
  memcpy(r->bytes[r->n], data, len);
  r->bytes[r->n][len] = '\0';
  r->n++;
}

static void record_state(uint64_t id, raft_transition_state state, void* user) {
  recorder* r = user;
  (void)id;
  if (state == RAFT_TRANSITION_QUEUED) r->queued_reports++;
  if (state == RAFT_TRANSITION_APPLIED) r->applied_reports++;
}

static void record_log(raft_log_level level, const char* msg, void* user) {
  log_capture_cb(level, msg, &((recorder*)user)->log);
}

/* A single voter (recording into *r, which it clears), driven by poll: it elects itself, then
 * commits alone. */
static raft_node* single_node(recorder* r, uint64_t max_queue_bytes, int with_reports) {
  raft_options opt;
  raft_callbacks cb;
  raft_node* node = NULL;
  raft_status st;
  uint64_t now = 0;
  memset(r, 0, sizeof *r);
  raft_options_init(&opt);
  opt.id = 1;
  opt.random_seed = 9;
  opt.max_entry_bytes = 15;
  opt.max_queue_bytes = max_queue_bytes;
  raft_callbacks_init(&cb);
  cb.apply = record_apply;
  cb.log = record_log;
  if (with_reports) cb.transition_state = record_state;
  assert_int_equal(raft_node_create(&node, &opt, &cb, r), RAFT_OK);
  raft_status_init(&st);
  for (; now < 5000; now += 10) {
    assert_int_equal(raft_node_poll(node, now, NULL), RAFT_OK);
    assert_int_equal(raft_node_status(node, &st), RAFT_OK);
    if (st.role == RAFT_LEADER) break;
  }
  assert_int_equal(st.role, RAFT_LEADER);
  return node;
}

static void turn(raft_node* node) {
  static uint64_t now = 10000;
  now += 1;
  assert_int_equal(raft_node_poll(node, now, NULL), RAFT_OK);
}

/* A lone voter commits and applies in the turn that takes the proposals;
 * a second turn makes sure nothing is left over. */
static void apply_queued(raft_node* node) {
  turn(node);
  turn(node);
}

static void fill(raft_proposal* p, char names[][16], size_t n, uint64_t first_id) {
  size_t i;
  for (i = 0; i < n; i++) {
    snprintf(names[i], sizeof names[i], "t%llu", (unsigned long long)(first_id + i));
    p[i].id = first_id + i;
    p[i].data = names[i];
    p[i].len = strlen(names[i]);
  }
}

static void test_batch_is_applied_in_order(void** state) {
  recorder r;
  raft_proposal p[40];
  char names[40][16];
  size_t queued = 99, i;
  raft_node* node;
  (void)state;
  node = single_node(&r, 1 << 20, 1);
  fill(p, names, 40, 1);
  assert_int_equal(raft_node_propose_batch(node, p, 40, &queued), RAFT_OK);
  assert_int_equal(queued, 40);
  apply_queued(node);
  assert_int_equal(r.n, 40);
  for (i = 0; i < 40; i++) {
    assert_int_equal(r.ids[i], i + 1);
    assert_string_equal(r.bytes[i], names[i]);
  }
  /* With a transition_state callback every proposal is reported. */
  assert_int_equal(r.queued_reports, 40);
  assert_int_equal(r.applied_reports, 40);
  raft_node_destroy(node);
}

/* A queue that fills part way: a prefix is queued, RAFT_EBUSY says why, and
 * the rest goes through after a turn drained the queue. */
static void test_partial_batch_when_the_queue_fills(void** state) {
  recorder r;
  raft_proposal p[100];
  char names[100][16];
  size_t queued = 0, done = 0, i;
  int rounds = 0;
  raft_node* node;
  (void)state;
  node = single_node(&r, 400, 0); /* room for about 10 proposals */
  fill(p, names, 100, 1);
  assert_int_equal(raft_node_propose_batch(node, p, 100, &queued), RAFT_EBUSY);
  assert_true(queued > 0);
  assert_true(queued < 100);
  assert_true(contains_nocase(raft_node_errmsg(node), "queue full"));
  assert_true(contains_nocase(raft_node_errmsg(node), "batch stopped at proposal"));
  done = queued;
  while (done < 100) {
    assert_true(++rounds < 100);
    turn(node);
    queued = 0;
    (void)raft_node_propose_batch(node, p + done, 100 - done, &queued);
    done += queued;
  }
  apply_queued(node);
  assert_int_equal(r.n, 100);
  for (i = 0; i < 100; i++) assert_int_equal(r.ids[i], i + 1);
  raft_node_destroy(node);
}

/* A bad element stops the batch there; what came before it goes ahead. */
static void test_bad_element_stops_the_batch(void** state) {
  recorder r;
  raft_proposal p[5];
  char names[5][16];
  static const char too_long[] = "sixteen bytes!!!";
  size_t queued = 99;
  raft_node* node;
  (void)state;
  node = single_node(&r, 1 << 20, 0);
  fill(p, names, 5, 1);
  p[2].data = NULL; /* with len > 0 */
  assert_int_equal(raft_node_propose_batch(node, p, 5, &queued), RAFT_EINVAL);
  assert_int_equal(queued, 2);
  assert_true(contains_nocase(raft_node_errmsg(node), "proposal 2"));
  fill(p, names, 5, 3);
  p[1].data = too_long;
  p[1].len = sizeof too_long - 1; /* max_entry_bytes is 15 */
  assert_int_equal(raft_node_propose_batch(node, p, 5, &queued), RAFT_ETOOBIG);
  assert_int_equal(queued, 1);
  assert_true(contains_nocase(raft_node_errmsg(node), "max_entry_bytes"));
  apply_queued(node);
  assert_int_equal(r.n, 3);
  assert_int_equal(r.ids[0], 1);
  assert_int_equal(r.ids[1], 2);
  assert_int_equal(r.ids[2], 3);
  raft_node_destroy(node);
}

static void test_empty_null_and_stopped(void** state) {
  recorder r;
  raft_proposal p[2];
  char names[2][16];
  size_t queued = 99;
  raft_node* node;
  (void)state;
  node = single_node(&r, 1 << 20, 0);
  fill(p, names, 2, 1);
  /* n == 0 queues nothing; the array may then be NULL. */
  assert_int_equal(raft_node_propose_batch(node, NULL, 0, &queued), RAFT_OK);
  assert_int_equal(queued, 0);
  queued = 99;
  assert_int_equal(raft_node_propose_batch(node, NULL, 3, &queued), RAFT_EINVAL);
  assert_int_equal(queued, 0);
  assert_true(strlen(raft_node_errmsg(node)) > 0);
  queued = 99;
  assert_int_equal(raft_node_propose_batch(NULL, p, 2, &queued), RAFT_EINVAL);
  assert_int_equal(queued, 0);
  /* queued is optional. */
  assert_int_equal(raft_node_propose_batch(node, p, 2, NULL), RAFT_OK);
  apply_queued(node);
  assert_int_equal(r.n, 2);
  raft_node_stop(node);
  queued = 99;
  assert_int_equal(raft_node_propose_batch(node, p, 2, &queued), RAFT_ESHUTDOWN);
  assert_int_equal(queued, 0);
  raft_node_destroy(node);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_batch_is_applied_in_order),
      cmocka_unit_test(test_partial_batch_when_the_queue_fills),
      cmocka_unit_test(test_bad_element_stops_the_batch),
      cmocka_unit_test(test_empty_null_and_stopped),
  };
  test_watchdog(60);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
