/* Bad arguments, misuse and hostile input: every entry point answers with a
 * clear error code, never a crash. */
#include <stdlib.h>
#include <string.h>

#include "prng.h"
#include "test_util.h"

#define CLUSTER 0xc0ffeeULL
#define MAX_FRAMES 64

/* ---- a node whose inbound messages come from a script --------------- */

typedef struct frame {
  raft_id to;
  size_t len;
  unsigned char* data;
} frame;

typedef struct harness {
  log_capture log; /* first: log_capture_cb casts the user pointer */
  /* Messages the node sent. */
  frame sent[MAX_FRAMES];
  int n_sent;
  /* Messages receive() will hand out, in order; each is copied into an
   * exactly-sized heap buffer so a sanitizer sees any read past its end. */
  const unsigned char* script[MAX_FRAMES];
  size_t script_len[MAX_FRAMES];
  int n_script, next_script;
  unsigned char* current;
  int receive_result; /* nonzero: receive returns this instead */
  int null_message;   /* receive returns 1 with *msg == NULL */
} harness;

static void h_send(raft_id to, const void* msg, size_t len, void* user) {
  harness* h = user;
  frame* f;
  if (h->n_sent == MAX_FRAMES) return;
  f = &h->sent[h->n_sent++];
  f->to = to;
  f->len = len;
  f->data = malloc(len ? len : 1);
  assert_non_null(f->data);
  memcpy(f->data, msg, len);
}

static int h_receive(const void** msg, size_t* len, void* user) {
  harness* h = user;
  free(h->current);
  h->current = NULL;
  if (h->receive_result != 0) return h->receive_result;
  if (h->null_message) {
    h->null_message = 0;
    *msg = NULL;
    *len = 16;
    return 1;
  }
  if (h->next_script == h->n_script) return 0;
  *len = h->script_len[h->next_script];
  h->current = malloc(*len ? *len : 1);
  assert_non_null(h->current);
  memcpy(h->current, h->script[h->next_script], *len);
  h->next_script++;
  *msg = h->current;
  return 1;
}

static void h_clear(harness* h) {
  int i;
  for (i = 0; i < h->n_sent; i++) free(h->sent[i].data);
  h->n_sent = 0;
  h->n_script = h->next_script = 0;
  free(h->current);
  h->current = NULL;
}

static raft_node* h_create(harness* h, raft_id id, const raft_id* peers, size_t n_peers,
                           uint64_t cluster_id) {
  raft_options opt;
  raft_callbacks cb;
  raft_node* node = NULL;
  raft_options_init(&opt);
  opt.id = id;
  opt.peers = peers;
  opt.n_peers = n_peers;
  opt.cluster_id = cluster_id;
  opt.random_seed = 77 + id;
  opt.max_entry_bytes = 1000;
  raft_callbacks_init(&cb);
  cb.apply = ignore_apply;
  cb.send = h_send;
  cb.receive = h_receive;
  cb.log = log_capture_cb;
  assert_int_equal(raft_node_create(&node, &opt, &cb, h), RAFT_OK);
  return node;
}

static void status_of(raft_node* node, raft_status* st) {
  raft_status_init(st);
  assert_int_equal(raft_node_status(node, st), RAFT_OK);
}

/* Let a node's election timer fire so that it asks its peers for (pre-)votes,
 * and return a copy of the frame it sent to `to`. */
static frame capture_frame(raft_id from, const raft_id* peers, size_t n_peers, uint64_t cluster_id,
                           raft_id to) {
  harness* h = calloc(1, sizeof *h);
  raft_node* node;
  frame out = {0, 0, NULL};
  int i;
  assert_non_null(h);
  node = h_create(h, from, peers, n_peers, cluster_id);
  assert_int_equal(raft_node_poll(node, 0, NULL), RAFT_OK);
  assert_int_equal(raft_node_poll(node, 1000, NULL), RAFT_OK);
  for (i = 0; i < h->n_sent; i++) {
    if (h->sent[i].to == to && out.data == NULL) {
      out = h->sent[i];
      h->sent[i].data = NULL;
    }
  }
  assert_non_null(out.data);
  assert_true(out.len > 0);
  raft_node_destroy(node);
  h_clear(h);
  free(h);
  return out;
}

/* ---- fixtures -------------------------------------------------------- */

static const raft_id peers_of_1[] = {2, 3};

typedef struct fixture {
  harness h;
  raft_node* node; /* id 1 of a 3-node cluster */
} fixture;

static int setup(void** state) {
  fixture* f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->node = h_create(&f->h, 1, peers_of_1, 2, CLUSTER);
  *state = f;
  return 0;
}

static int teardown(void** state) {
  fixture* f = *state;
  raft_node_destroy(f->node);
  h_clear(&f->h);
  free(f);
  return 0;
}

/* ---- argument errors ------------------------------------------------ */

static void test_null_node(void** state) {
  raft_status st;
  uint64_t next;
  (void)state;
  raft_status_init(&st);
  assert_int_equal(raft_node_run(NULL), RAFT_EINVAL);
  assert_int_equal(raft_node_poll(NULL, 0, &next), RAFT_EINVAL);
  assert_int_equal(raft_node_poll(NULL, 0, NULL), RAFT_EINVAL);
  assert_int_equal(raft_node_propose(NULL, 1, "x", 1), RAFT_EINVAL);
  assert_int_equal(raft_node_status(NULL, &st), RAFT_EINVAL);
  assert_int_equal(raft_node_status(NULL, NULL), RAFT_EINVAL);
  raft_node_notify(NULL);
  raft_node_stop(NULL);
  raft_node_destroy(NULL);
  assert_string_equal(raft_node_errmsg(NULL), "invalid node");
}

static void test_null_arguments(void** state) {
  fixture* f = *state;
  assert_int_equal(raft_node_status(f->node, NULL), RAFT_EINVAL);
  assert_true(strlen(raft_node_errmsg(f->node)) > 0);
  /* next_deadline_ms is optional. */
  assert_int_equal(raft_node_poll(f->node, 0, NULL), RAFT_OK);
}

static void test_status_version(void** state) {
  fixture* f = *state;
  raft_status st;
  raft_status_init(&st);
  st.version = 999;
  assert_int_equal(raft_node_status(f->node, &st), RAFT_EVERSION);
  st.version = 0;
  assert_int_equal(raft_node_status(f->node, &st), RAFT_EVERSION);
  st.version = RAFT_STATUS_VERSION;
  assert_int_equal(raft_node_status(f->node, &st), RAFT_OK);
}

static void test_propose_arguments(void** state) {
  fixture* f = *state;
  static unsigned char big[1001];
  assert_int_equal(raft_node_propose(f->node, 1, NULL, 1), RAFT_EINVAL);
  assert_true(strlen(raft_node_errmsg(f->node)) > 0);
  assert_int_equal(raft_node_propose(f->node, 2, NULL, 0), RAFT_OK);
  assert_int_equal(raft_node_propose(f->node, 3, big, 1000), RAFT_OK);
  assert_int_equal(raft_node_propose(f->node, 4, big, 1001), RAFT_ETOOBIG);
  assert_int_equal(raft_node_propose(f->node, 5, big, (size_t)-1), RAFT_ETOOBIG);
  assert_true(strlen(raft_node_errmsg(f->node)) > 0);
}

static void test_queue_full(void** state) {
  raft_options opt;
  raft_callbacks cb;
  raft_node* node = NULL;
  raft_status st;
  unsigned char data[64];
  int accepted = 0, i, rc = RAFT_OK;
  (void)state;
  memset(data, 7, sizeof data);
  raft_options_init(&opt);
  opt.id = 1;
  opt.max_entry_bytes = 64;
  opt.max_queue_bytes = 256;
  raft_callbacks_init(&cb);
  cb.apply = ignore_apply;
  assert_int_equal(raft_node_create(&node, &opt, &cb, NULL), RAFT_OK);
  /* Nobody drains the queue: it must fill within 256 bytes of proposals. */
  for (i = 0; i < 100; i++) {
    rc = raft_node_propose(node, (uint64_t)i + 1, data, sizeof data);
    if (rc != RAFT_OK) break;
    accepted++;
  }
  assert_int_equal(rc, RAFT_EBUSY);
  assert_true(accepted >= 1);
  assert_true(accepted <= 4);
  assert_true(strlen(raft_node_errmsg(node)) > 0);
  /* A turn of the loop empties the queue; proposing works again. */
  assert_int_equal(raft_node_poll(node, 0, NULL), RAFT_OK);
  status_of(node, &st);
  assert_int_equal(st.proposals_queued, 0);
  assert_int_equal(raft_node_propose(node, 1000, data, sizeof data), RAFT_OK);
  raft_node_destroy(node);
}

static void test_after_stop(void** state) {
  fixture* f = *state;
  raft_status st;
  assert_int_equal(raft_node_poll(f->node, 0, NULL), RAFT_OK);
  raft_node_stop(f->node);
  assert_int_equal(raft_node_propose(f->node, 1, "x", 1), RAFT_ESHUTDOWN);
  assert_int_equal(raft_node_poll(f->node, 1, NULL), RAFT_ESHUTDOWN);
  assert_int_equal(raft_node_run(f->node), RAFT_ESHUTDOWN);
  raft_node_notify(f->node);
  /* Status still describes the stopped node. */
  status_of(f->node, &st);
  assert_int_equal(st.id, 1);
}

/* A clock that goes backwards is the caller's bug: refused or tolerated,
 * never a crash. */
static void test_clock_backwards(void** state) {
  fixture* f = *state;
  int rc;
  assert_int_equal(raft_node_poll(f->node, 5000, NULL), RAFT_OK);
  rc = raft_node_poll(f->node, 10, NULL);
  assert_true(rc == RAFT_OK || rc == RAFT_EINVAL);
  assert_int_equal(raft_node_poll(f->node, 5001, NULL), RAFT_OK);
}

/* Found by fuzz_node: a clock near 2^64 made deadlines wrap around. */
static void test_clock_too_large(void** state) {
  fixture* f = *state;
  uint64_t next = 0;
  assert_int_equal(raft_node_poll(f->node, UINT64_MAX, &next), RAFT_EINVAL);
  assert_non_null(strstr(raft_node_errmsg(f->node), "2^62"));
  assert_int_equal(raft_node_poll(f->node, (uint64_t)1 << 62, &next), RAFT_OK);
  assert_true(next >= (uint64_t)1 << 62);
}

static void test_receive_failure(void** state) {
  fixture* f = *state;
  f->h.receive_result = -1;
  assert_int_equal(raft_node_poll(f->node, 0, NULL), RAFT_ECALLBACK);
  assert_true(strlen(raft_node_errmsg(f->node)) > 0);
  /* A transport failure is not fatal: once receive recovers, so does poll. */
  f->h.receive_result = 0;
  assert_int_equal(raft_node_poll(f->node, 1, NULL), RAFT_OK);
}

/* A receive callback that claims a message but returns no buffer is a
 * broken transport: reported as a callback failure or rejected as a frame. */
static void test_receive_null_buffer(void** state) {
  fixture* f = *state;
  raft_status st;
  int rc;
  f->h.null_message = 1;
  rc = raft_node_poll(f->node, 0, NULL);
  status_of(f->node, &st);
  assert_true(rc == RAFT_ECALLBACK || (rc == RAFT_OK && st.msgs_rejected == 1));
  assert_int_equal(st.msgs_received, 0);
}

/* ---- hostile frames ------------------------------------------------- */

/* Hand `n` frames to node 1 in one turn; return how many it rejected and
 * check that it accepted the others. */
static uint64_t deliver(fixture* f, const unsigned char* const* data, const size_t* lens, int n,
                        uint64_t now) {
  raft_status before, after;
  int i;
  status_of(f->node, &before);
  for (i = 0; i < n; i++) {
    f->h.script[i] = data[i];
    f->h.script_len[i] = lens[i];
  }
  f->h.n_script = n;
  f->h.next_script = 0;
  assert_int_equal(raft_node_poll(f->node, now, NULL), RAFT_OK);
  assert_int_equal(f->h.next_script, n); /* all were consumed */
  status_of(f->node, &after);
  assert_int_equal(
      (after.msgs_rejected - before.msgs_rejected) + (after.msgs_received - before.msgs_received),
      (uint64_t)n);
  return after.msgs_rejected - before.msgs_rejected;
}

static uint64_t deliver_one(fixture* f, const unsigned char* data, size_t len, uint64_t now) {
  return deliver(f, &data, &len, 1, now);
}

static void test_valid_frame_accepted(void** state) {
  fixture* f = *state;
  const raft_id peers[] = {1, 3};
  frame fr = capture_frame(2, peers, 2, CLUSTER, 1);
  assert_int_equal(raft_node_poll(f->node, 0, NULL), RAFT_OK);
  assert_int_equal(deliver_one(f, fr.data, fr.len, 1), 0);
  free(fr.data);
}

static void test_garbage_rejected(void** state) {
  fixture* f = *state;
  static unsigned char zeros[64], ones[64], random[40][100], tiny[7];
  const unsigned char* frames[MAX_FRAMES];
  size_t lens[MAX_FRAMES];
  prng rng;
  int n = 0, i, j;
  size_t warn_before;

  memset(ones, 0xff, sizeof ones);
  prng_seed(&rng, 1234);
  frames[n] = zeros;
  lens[n++] = 0;
  frames[n] = zeros;
  lens[n++] = 1;
  frames[n] = tiny;
  lens[n++] = sizeof tiny;
  frames[n] = zeros;
  lens[n++] = sizeof zeros;
  frames[n] = ones;
  lens[n++] = sizeof ones;
  for (i = 0; i < 40; i++) {
    for (j = 0; j < 100; j++) random[i][j] = (unsigned char)prng_next(&rng);
    frames[n] = random[i];
    lens[n++] = 1 + (size_t)prng_below(&rng, 100);
  }
  assert_int_equal(raft_node_poll(f->node, 0, NULL), RAFT_OK);
  warn_before = (size_t)f->h.log.by_level[RAFT_LOG_WARN];
  assert_int_equal(deliver(f, frames, lens, n, 1), (uint64_t)n);
  assert_true((size_t)f->h.log.by_level[RAFT_LOG_WARN] > warn_before);
}

/* Every prefix, every single-bit flip and a trailing extra byte of a valid
 * frame must be rejected; the untouched frame afterwards is still accepted. */
static void test_damaged_frames_rejected(void** state) {
  fixture* f = *state;
  const raft_id peers[] = {1, 3};
  frame fr = capture_frame(2, peers, 2, CLUSTER, 1);
  unsigned char* copy = malloc(fr.len + 1);
  uint64_t now = 1;
  size_t i;
  int bit;
  assert_non_null(copy);
  assert_int_equal(raft_node_poll(f->node, 0, NULL), RAFT_OK);
  for (i = 0; i < fr.len; i++) {
    if (deliver_one(f, fr.data, i, now++) != 1) fail_msg("prefix of %zu bytes accepted", i);
  }
  for (i = 0; i < fr.len; i++) {
    for (bit = 0; bit < 8; bit++) {
      memcpy(copy, fr.data, fr.len);
      copy[i] ^= (unsigned char)(1u << bit);
      if (deliver_one(f, copy, fr.len, now++) != 1) {
        fail_msg("frame with bit %d of byte %zu flipped accepted", bit, i);
      }
    }
  }
  memcpy(copy, fr.data, fr.len);
  copy[fr.len] = 0;
  assert_int_equal(deliver_one(f, copy, fr.len + 1, now++), 1);
  assert_int_equal(deliver_one(f, fr.data, fr.len, now++), 0);
  free(copy);
  free(fr.data);
}

/* Random multi-byte damage: a checksummed format rejects all of it. */
static void test_mutated_frames_rejected(void** state) {
  fixture* f = *state;
  const raft_id peers[] = {1, 3};
  frame fr = capture_frame(2, peers, 2, CLUSTER, 1);
  unsigned char* copy = malloc(fr.len + 16);
  prng rng;
  uint64_t now = 1;
  int round, k;
  assert_non_null(copy);
  prng_seed(&rng, 99);
  assert_int_equal(raft_node_poll(f->node, 0, NULL), RAFT_OK);
  for (round = 0; round < 2000; round++) {
    size_t len = fr.len;
    int changes = 1 + (int)prng_below(&rng, 4);
    memcpy(copy, fr.data, fr.len);
    for (k = 0; k < changes; k++) {
      size_t at = (size_t)prng_below(&rng, fr.len);
      copy[at] ^= (unsigned char)(1 + prng_below(&rng, 255));
    }
    if (prng_chance(&rng, 0.2)) len = (size_t)prng_below(&rng, fr.len + 16);
    if (len > fr.len) memset(copy + fr.len, 0x5a, len - fr.len);
    if (deliver_one(f, copy, len, now++) != 1) fail_msg("mutation round %d accepted", round);
  }
  free(copy);
  free(fr.data);
}

static void test_foreign_frames_rejected(void** state) {
  fixture* f = *state;
  const raft_id peers_2[] = {1, 3};
  const raft_id peers_9[] = {1, 2, 3};
  /* Right sender and receiver, but another cluster. */
  frame foreign = capture_frame(2, peers_2, 2, CLUSTER + 1, 1);
  /* Right cluster, but a sender node 1 does not know. */
  frame stranger = capture_frame(9, peers_9, 3, CLUSTER, 1);
  /* Right cluster and sender, but addressed to node 3. */
  frame misaddressed = capture_frame(2, peers_2, 2, CLUSTER, 3);
  size_t warn_before;
  raft_status st;

  assert_int_equal(raft_node_poll(f->node, 0, NULL), RAFT_OK);
  warn_before = (size_t)f->h.log.by_level[RAFT_LOG_WARN];
  assert_int_equal(deliver_one(f, foreign.data, foreign.len, 1), 1);
  assert_int_equal(deliver_one(f, stranger.data, stranger.len, 2), 1);
  assert_int_equal(deliver_one(f, misaddressed.data, misaddressed.len, 3), 1);
  assert_true((size_t)f->h.log.by_level[RAFT_LOG_WARN] > warn_before);
  /* None of them may have influenced the node. */
  status_of(f->node, &st);
  assert_int_equal(st.term, 0);
  assert_int_equal(st.msgs_received, 0);
  free(foreign.data);
  free(stranger.data);
  free(misaddressed.data);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_null_node),
      T(test_null_arguments),
      T(test_status_version),
      T(test_propose_arguments),
      cmocka_unit_test(test_queue_full),
      T(test_after_stop),
      T(test_clock_backwards),
      T(test_clock_too_large),
      T(test_receive_failure),
      T(test_receive_null_buffer),
      T(test_valid_frame_accepted),
      T(test_garbage_rejected),
      T(test_damaged_frames_rejected),
      T(test_mutated_frames_rejected),
      T(test_foreign_frames_rejected),
  };
  test_watchdog(60);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
