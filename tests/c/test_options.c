/* raft_node_create validates every option and callback: a bad one gives a
 * clear error code, *out == NULL and a log line that names the problem. */
#include <string.h>

#include "test_util.h"

typedef struct fixture {
  raft_id peers[4];
  raft_options opt;
  raft_callbacks cb;
  log_capture log;
} fixture;

static int setup(void** state) {
  fixture* f = test_calloc(1, sizeof *f);
  f->peers[0] = 2;
  f->peers[1] = 3;
  raft_options_init(&f->opt);
  f->opt.id = 1;
  f->opt.peers = f->peers;
  f->opt.n_peers = 2;
  f->opt.random_seed = 5;
  raft_callbacks_init(&f->cb);
  f->cb.apply = ignore_apply;
  f->cb.send = send_nowhere;
  f->cb.receive = receive_nothing;
  f->cb.log = log_capture_cb;
  *state = f;
  return 0;
}

static int teardown(void** state) {
  test_free(*state);
  return 0;
}

/* Any non-NULL value: create must overwrite it with NULL on failure. */
static int sentinel;
#define SENTINEL ((raft_node*)(void*)&sentinel)

static void expect_ok(fixture* f) {
  raft_node* node = SENTINEL;
  int rc = raft_node_create(&node, &f->opt, &f->cb, &f->log);
  assert_int_equal(rc, RAFT_OK);
  assert_non_null(node);
  assert_ptr_not_equal(node, SENTINEL);
  raft_node_destroy(node);
}

/* Create must fail with `code`, leave *out NULL, and log (at WARN or ERROR) a
 * line containing one of the '|'-separated keywords (no log check if NULL). */
static void expect_fail(fixture* f, int code, const char* keywords) {
  raft_node* node = SENTINEL;
  char words[128];
  char* word;
  int found = 0;
  log_capture_reset(&f->log);
  assert_int_equal(raft_node_create(&node, &f->opt, &f->cb, &f->log), code);
  assert_null(node);
  if (keywords == NULL) return;
  assert_true(f->log.lines >= 1);
  assert_true(f->log.last_level == RAFT_LOG_ERROR || f->log.last_level == RAFT_LOG_WARN);
  assert_true(strlen(f->log.last) > 0);
  strncpy(words, keywords, sizeof words - 1);
  words[sizeof words - 1] = '\0';
  for (word = strtok(words, "|"); word != NULL; word = strtok(NULL, "|")) {
    if (contains_nocase(f->log.last, word)) found = 1;
  }
  if (!found) print_error("log line \"%s\" names none of: %s\n", f->log.last, keywords);
  assert_true(found);
}

static void test_valid_baseline(void** state) { expect_ok(*state); }

static void test_defaults(void** state) {
  raft_options opt;
  (void)state;
  raft_options_init(&opt);
  assert_int_equal(opt.version, RAFT_OPTIONS_VERSION);
  assert_int_equal(opt.heartbeat_ms, 50);
  assert_int_equal(opt.election_timeout_min_ms, 150);
  assert_int_equal(opt.election_timeout_max_ms, 300);
  assert_int_equal(opt.pre_vote, 1);
  assert_int_equal(opt.check_quorum, 1);
  assert_int_equal(opt.max_batch_bytes, 1024 * 1024);
  assert_int_equal(opt.max_inflight, 64);
  assert_int_equal(opt.max_entry_bytes, 4 * 1024 * 1024);
  assert_int_equal(opt.max_queue_bytes, 64 * 1024 * 1024);
  assert_int_equal(opt.log_level, RAFT_LOG_WARN);
  assert_int_equal(opt.cluster_id, 0);
  assert_int_equal(opt.random_seed, 0);
  assert_int_equal(opt.busy_poll_us, 20);
  assert_true(opt.max_uncommitted_bytes == 256ull * 1024 * 1024);
}

static void test_null_arguments(void** state) {
  fixture* f = *state;
  raft_node* node = SENTINEL;
  assert_int_equal(raft_node_create(NULL, &f->opt, &f->cb, NULL), RAFT_EINVAL);

  log_capture_reset(&f->log);
  assert_int_equal(raft_node_create(&node, NULL, &f->cb, &f->log), RAFT_EINVAL);
  assert_null(node);
  /* The callbacks are known, so the reason can be logged. */
  assert_true(f->log.lines >= 1);

  node = SENTINEL;
  assert_int_equal(raft_node_create(&node, &f->opt, NULL, NULL), RAFT_EINVAL);
  assert_null(node);
}

static void test_id_zero(void** state) {
  fixture* f = *state;
  f->opt.id = 0;
  expect_fail(f, RAFT_EINVAL, "id");
}

static void test_peer_zero(void** state) {
  fixture* f = *state;
  f->peers[1] = 0;
  expect_fail(f, RAFT_EINVAL, "peer");
}

static void test_peer_is_self(void** state) {
  fixture* f = *state;
  f->peers[1] = 1;
  expect_fail(f, RAFT_EINVAL, "peer");
}

static void test_peer_duplicate(void** state) {
  fixture* f = *state;
  f->peers[2] = 2;
  f->opt.n_peers = 3;
  expect_fail(f, RAFT_EINVAL, "peer|duplicate");
}

static void test_peers_null(void** state) {
  fixture* f = *state;
  f->opt.peers = NULL;
  expect_fail(f, RAFT_EINVAL, "peer");
  /* NULL with n_peers == 0 is a single-node cluster. */
  f->opt.n_peers = 0;
  expect_ok(f);
}

static void test_heartbeat_zero(void** state) {
  fixture* f = *state;
  f->opt.heartbeat_ms = 0;
  expect_fail(f, RAFT_EINVAL, "heartbeat");
}

static void test_election_min_not_above_heartbeat(void** state) {
  fixture* f = *state;
  f->opt.election_timeout_min_ms = f->opt.heartbeat_ms;
  expect_fail(f, RAFT_EINVAL, "election|heartbeat");
  f->opt.election_timeout_min_ms = f->opt.heartbeat_ms - 1;
  expect_fail(f, RAFT_EINVAL, "election|heartbeat");
  f->opt.election_timeout_min_ms = 0;
  expect_fail(f, RAFT_EINVAL, "election|heartbeat");
  f->opt.election_timeout_min_ms = f->opt.heartbeat_ms + 1;
  expect_ok(f);
}

static void test_election_max_not_above_min(void** state) {
  fixture* f = *state;
  f->opt.election_timeout_max_ms = f->opt.election_timeout_min_ms - 1;
  expect_fail(f, RAFT_EINVAL, "election|max");
  /* The header says the max must exceed the min. */
  f->opt.election_timeout_max_ms = f->opt.election_timeout_min_ms;
  expect_fail(f, RAFT_EINVAL, "election|max");
  f->opt.election_timeout_max_ms = f->opt.election_timeout_min_ms + 1;
  expect_ok(f);
}

static int noop_load(void* ctx, uint64_t* term, raft_id* vote, uint64_t* first,
                     int (*entry)(void*, const raft_entry*), void* arg) {
  (void)ctx;
  (void)entry;
  (void)arg;
  *term = 0;
  *vote = RAFT_NO_ID;
  *first = 1;
  return RAFT_OK;
}

static void test_storage_options(void** state) {
  fixture* f = *state;
  raft_storage st;
  f->opt.data_dir = "";
  expect_fail(f, RAFT_EINVAL, "data_dir");
  raft_storage_init(&st);
  st.load = noop_load;
  f->opt.data_dir = "/tmp/libraft-test-should-not-be-created";
  f->opt.storage = &st;
  expect_fail(f, RAFT_EINVAL, "exclude");
  f->opt.data_dir = NULL;
  expect_fail(f, RAFT_EINVAL, "required");
  st.version = 999;
  expect_fail(f, RAFT_EVERSION, "version");
}

static void test_options_version(void** state) {
  fixture* f = *state;
  f->opt.version = 999;
  expect_fail(f, RAFT_EVERSION, "version");
  f->opt.version = 0;
  expect_fail(f, RAFT_EVERSION, "version");
}

/* With an unknown callbacks layout, even cb->log cannot be trusted: no log
 * line is required. */
static void test_callbacks_version(void** state) {
  fixture* f = *state;
  f->cb.version = 999;
  expect_fail(f, RAFT_EVERSION, NULL);
  f->cb.version = 0;
  expect_fail(f, RAFT_EVERSION, NULL);
}

static void test_missing_apply(void** state) {
  fixture* f = *state;
  f->cb.apply = NULL;
  expect_fail(f, RAFT_EINVAL, "apply");
}

static void test_missing_transport(void** state) {
  fixture* f = *state;
  f->cb.send = NULL;
  expect_fail(f, RAFT_EINVAL, "send");
  f->cb.send = send_nowhere;
  f->cb.receive = NULL;
  expect_fail(f, RAFT_EINVAL, "receive");
}

static void test_single_node_needs_no_transport(void** state) {
  fixture* f = *state;
  f->opt.n_peers = 0;
  f->opt.peers = NULL;
  f->cb.send = NULL;
  f->cb.receive = NULL;
  expect_ok(f);
}

static void test_max_entry_bytes_zero(void** state) {
  fixture* f = *state;
  f->opt.max_entry_bytes = 0;
  expect_fail(f, RAFT_EINVAL, "max_entry_bytes|entry");
}

/* The header leaves these limits without a meaning for 0 (the defaults come
 * from raft_options_init), so 0 can only be a caller's mistake. */
static void test_zero_limits(void** state) {
  fixture* f = *state;
  f->opt.max_inflight = 0;
  expect_fail(f, RAFT_EINVAL, "inflight");
  raft_options_init(&f->opt);
  f->opt.id = 1;
  f->opt.peers = f->peers;
  f->opt.n_peers = 2;
  f->opt.max_batch_bytes = 0;
  expect_fail(f, RAFT_EINVAL, "batch");
  f->opt.max_batch_bytes = 1024;
  f->opt.max_queue_bytes = 0;
  expect_fail(f, RAFT_EINVAL, "queue");
  f->opt.max_queue_bytes = 1024;
  f->opt.max_uncommitted_bytes = 0;
  expect_fail(f, RAFT_EINVAL, "uncommitted");
}

static void test_log_level_out_of_range(void** state) {
  fixture* f = *state;
  f->opt.log_level = (raft_log_level)0;
  expect_fail(f, RAFT_EINVAL, "log");
  f->opt.log_level = (raft_log_level)99;
  expect_fail(f, RAFT_EINVAL, "log");
  f->opt.log_level = RAFT_LOG_DEBUG;
  expect_ok(f);
}

/* 0 turns busy polling off; more than 10 ms of spinning is a mistake. */
static void test_busy_poll_bounds(void** state) {
  fixture* f = *state;
  f->opt.busy_poll_us = 0;
  expect_ok(f);
  f->opt.busy_poll_us = 10000;
  expect_ok(f);
  f->opt.busy_poll_us = 10001;
  expect_fail(f, RAFT_EINVAL, "busy_poll_us");
}

/* Everything create read came from copies: the caller may reuse its memory. */
static void test_options_are_copied(void** state) {
  fixture* f = *state;
  raft_node* node = NULL;
  raft_status st;
  assert_int_equal(raft_node_create(&node, &f->opt, &f->cb, &f->log), RAFT_OK);
  memset(f->peers, 0, sizeof f->peers);
  memset(&f->opt, 0, sizeof f->opt);
  memset(&f->cb, 0, sizeof f->cb);
  assert_int_equal(raft_node_poll(node, 0, NULL), RAFT_OK);
  assert_int_equal(raft_node_poll(node, 1000, NULL), RAFT_OK);
  raft_status_init(&st);
  assert_int_equal(raft_node_status(node, &st), RAFT_OK);
  assert_int_equal(st.id, 1);
  assert_true(st.msgs_sent >= 2);
  raft_node_destroy(node);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_valid_baseline),
      T(test_defaults),
      T(test_null_arguments),
      T(test_id_zero),
      T(test_peer_zero),
      T(test_peer_is_self),
      T(test_peer_duplicate),
      T(test_peers_null),
      T(test_heartbeat_zero),
      T(test_election_min_not_above_heartbeat),
      T(test_election_max_not_above_min),
      T(test_storage_options),
      T(test_options_version),
      T(test_callbacks_version),
      T(test_missing_apply),
      T(test_missing_transport),
      T(test_single_node_needs_no_transport),
      T(test_max_entry_bytes_zero),
      T(test_zero_limits),
      T(test_log_level_out_of_range),
      T(test_busy_poll_bounds),
      T(test_options_are_copied),
  };
  test_watchdog(60);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
