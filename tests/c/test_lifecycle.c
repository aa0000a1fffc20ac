/* Lifecycle of a node as a C program sees it: create, status, stop, destroy,
 * and the version and error-string functions. */
#include <limits.h>
#include <string.h>

#include "test_util.h"

static raft_node* make_single(void) {
  raft_options opt;
  raft_callbacks cb;
  raft_node* node = NULL;
  raft_options_init(&opt);
  opt.id = 7;
  opt.random_seed = 42;
  raft_callbacks_init(&cb);
  cb.apply = ignore_apply;
  assert_int_equal(raft_node_create(&node, &opt, &cb, NULL), RAFT_OK);
  assert_non_null(node);
  return node;
}

/* Poll the way an event loop would: at each deadline, for up to `span` ms. */
static void poll_until(raft_node* node, uint64_t* now, uint64_t span) {
  uint64_t end = *now + span;
  int turns = 0;
  while (*now < end) {
    uint64_t next = 0;
    assert_int_equal(raft_node_poll(node, *now, &next), RAFT_OK);
    /* A deadline in the past would make an event loop spin. */
    assert_true(next >= *now);
    *now = next > *now ? next : *now + 1;
    assert_true(++turns < 100000);
  }
}

static void test_create_destroy(void** state) {
  raft_node* node;
  (void)state;
  node = make_single();
  assert_string_equal(raft_node_errmsg(node), "");
  raft_node_destroy(node);
}

static void test_destroy_null(void** state) {
  (void)state;
  raft_node_destroy(NULL);
  raft_node_stop(NULL);
  raft_node_notify(NULL);
}

static void test_init_functions(void** state) {
  raft_options opt;
  raft_callbacks cb;
  raft_status st;
  (void)state;
  raft_options_init(NULL);
  raft_callbacks_init(NULL);
  raft_status_init(NULL);

  memset(&cb, 0xab, sizeof cb);
  raft_callbacks_init(&cb);
  assert_int_equal(cb.version, RAFT_CALLBACKS_VERSION);
  assert_null(cb.apply);
  assert_null(cb.transition_state);
  assert_null(cb.send);
  assert_null(cb.receive);
  assert_null(cb.halt);
  assert_null(cb.leader);
  assert_null(cb.log);

  memset(&st, 0xab, sizeof st);
  raft_status_init(&st);
  assert_int_equal(st.version, RAFT_STATUS_VERSION);
  assert_int_equal(st.id, 0);
  assert_int_equal(st.term, 0);
  assert_int_equal(st.msgs_rejected, 0);
  assert_int_equal(st.proposals_queued, 0);

  memset(&opt, 0xab, sizeof opt);
  raft_options_init(&opt);
  assert_int_equal(opt.version, RAFT_OPTIONS_VERSION);
  assert_int_equal(opt.id, 0);
  assert_null(opt.peers);
  assert_int_equal(opt.n_peers, 0);
  assert_null(opt.data_dir);
}

static void test_stop_idempotent(void** state) {
  raft_node* node = make_single();
  uint64_t next;
  (void)state;
  assert_int_equal(raft_node_poll(node, 0, &next), RAFT_OK);
  raft_node_stop(node);
  raft_node_stop(node);
  assert_int_equal(raft_node_poll(node, 1, &next), RAFT_ESHUTDOWN);
  raft_node_stop(node);
  assert_int_equal(raft_node_poll(node, 2, &next), RAFT_ESHUTDOWN);
  assert_int_equal(raft_node_run(node), RAFT_ESHUTDOWN);
  raft_node_destroy(node);
}

static void test_status_before_poll(void** state) {
  raft_node* node = make_single();
  raft_status st;
  (void)state;
  raft_status_init(&st);
  assert_int_equal(raft_node_status(node, &st), RAFT_OK);
  assert_int_equal(st.version, RAFT_STATUS_VERSION);
  assert_int_equal(st.id, 7);
  assert_int_equal(st.role, RAFT_FOLLOWER);
  assert_int_equal(st.term, 0);
  assert_int_equal(st.leader, RAFT_NO_ID);
  assert_int_equal(st.commit_index, 0);
  assert_int_equal(st.applied_index, 0);
  assert_int_equal(st.last_index, 0);
  assert_int_equal(st.snapshot_index, 0);
  assert_int_equal(st.msgs_sent, 0);
  assert_int_equal(st.msgs_received, 0);
  assert_int_equal(st.msgs_rejected, 0);
  assert_int_equal(st.elections_started, 0);
  assert_int_equal(st.proposals_queued, 0);
  raft_node_destroy(node);
}

/* A single voter is its own majority: it must elect itself once its election
 * timeout passes, and commit the new leader's no-op. */
static void test_status_after_polls(void** state) {
  raft_node* node = make_single();
  raft_status st;
  uint64_t now = 1000;
  (void)state;
  poll_until(node, &now, 1000);
  raft_status_init(&st);
  assert_int_equal(raft_node_status(node, &st), RAFT_OK);
  assert_int_equal(st.id, 7);
  assert_int_equal(st.role, RAFT_LEADER);
  assert_true(st.term >= 1);
  assert_int_equal(st.leader, 7);
  assert_true(st.elections_started >= 1);
  assert_true(st.last_index >= 1);
  assert_int_equal(st.commit_index, st.last_index);
  assert_int_equal(st.applied_index, st.commit_index);
  assert_int_equal(st.msgs_sent, 0);
  raft_node_destroy(node);
}

/* A voter that cannot reach its peers: with pre-vote it must not inflate its
 * term (the point of pre-vote); without it, each timeout starts an election. */
static void run_unreachable(int pre_vote, raft_status* st) {
  raft_options opt;
  raft_callbacks cb;
  raft_node* node = NULL;
  raft_id peers[2] = {2, 3};
  uint64_t now = 0;
  raft_options_init(&opt);
  opt.id = 1;
  opt.peers = peers;
  opt.n_peers = 2;
  opt.random_seed = 9;
  opt.pre_vote = pre_vote;
  raft_callbacks_init(&cb);
  cb.apply = ignore_apply;
  cb.send = send_nowhere;
  cb.receive = receive_nothing;
  assert_int_equal(raft_node_create(&node, &opt, &cb, NULL), RAFT_OK);
  poll_until(node, &now, 3000);
  raft_status_init(st);
  assert_int_equal(raft_node_status(node, st), RAFT_OK);
  raft_node_destroy(node);
}

static void test_unreachable_with_pre_vote(void** state) {
  raft_status st;
  (void)state;
  run_unreachable(1, &st);
  assert_int_equal(st.term, 0);
  assert_int_equal(st.elections_started, 0);
  assert_true(st.role == RAFT_FOLLOWER || st.role == RAFT_PRE_CANDIDATE);
  assert_int_equal(st.leader, RAFT_NO_ID);
  assert_true(st.msgs_sent >= 2); /* it did ask both peers */
}

static void test_unreachable_without_pre_vote(void** state) {
  raft_status st;
  (void)state;
  run_unreachable(0, &st);
  /* 3000 ms with timeouts of at most 300 ms: about ten campaigns. */
  assert_true(st.term >= 8);
  assert_true(st.elections_started >= 8);
  assert_int_equal(st.elections_started, st.term);
  assert_int_equal(st.role, RAFT_CANDIDATE);
  assert_int_equal(st.leader, RAFT_NO_ID);
}

static void test_version(void** state) {
  (void)state;
  assert_int_equal(RAFT_VERSION_NUMBER, 100);
  assert_int_equal(raft_version_number(), RAFT_VERSION_NUMBER);
  assert_non_null(raft_version_string());
  assert_string_equal(raft_version_string(), "0.1.0");
}

static void test_strerror(void** state) {
  static const int known[] = {RAFT_OK,      RAFT_EINVAL,    RAFT_ENOMEM,   RAFT_ENOTLEADER,
                              RAFT_EBUSY,   RAFT_ESHUTDOWN, RAFT_EIO,      RAFT_ECORRUPT,
                              RAFT_ETOOBIG, RAFT_ECALLBACK, RAFT_EVERSION, RAFT_EINTERNAL};
  static const int unknown[] = {1, 2, -12, -100, 12345, INT_MAX, INT_MIN};
  const size_t n_known = sizeof known / sizeof known[0];
  size_t i, j;
  (void)state;
  /* The codes are fixed forever. */
  assert_int_equal(RAFT_EINVAL, -1);
  assert_int_equal(RAFT_EINTERNAL, -11);
  for (i = 0; i < n_known; i++) {
    const char* s = raft_strerror(known[i]);
    assert_non_null(s);
    assert_true(strlen(s) > 0);
    for (j = 0; j < i; j++) assert_string_not_equal(s, raft_strerror(known[j]));
  }
  for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char* s = raft_strerror(unknown[i]);
    assert_non_null(s);
    assert_true(strlen(s) > 0);
    for (j = 0; j < n_known; j++) assert_string_not_equal(s, raft_strerror(known[j]));
  }
}

static void test_errmsg(void** state) {
  raft_node* node = make_single();
  (void)state;
  assert_non_null(raft_node_errmsg(NULL));
  assert_string_equal(raft_node_errmsg(NULL), "invalid node");
  assert_string_equal(raft_node_errmsg(node), "");
  /* A failing call leaves a detail behind. */
  assert_int_equal(raft_node_propose(node, 1, NULL, 5), RAFT_EINVAL);
  assert_true(strlen(raft_node_errmsg(node)) > 0);
  raft_node_destroy(node);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_destroy),
      cmocka_unit_test(test_destroy_null),
      cmocka_unit_test(test_init_functions),
      cmocka_unit_test(test_stop_idempotent),
      cmocka_unit_test(test_status_before_poll),
      cmocka_unit_test(test_status_after_polls),
      cmocka_unit_test(test_unreachable_with_pre_vote),
      cmocka_unit_test(test_unreachable_without_pre_vote),
      cmocka_unit_test(test_version),
      cmocka_unit_test(test_strerror),
      cmocka_unit_test(test_errmsg),
  };
  test_watchdog(60);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
