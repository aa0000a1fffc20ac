/* Whole clusters in one process through the public C API: replication under
 * loss, duplication and reordering; proposals on followers; a partitioned
 * leader.  Every run is reproducible from its seed (printed on failure). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "test_util.h"

/* ---- helpers --------------------------------------------------------- */

static int has_state(cluster* c, raft_id node, uint64_t id, raft_transition_state state) {
  size_t n, i;
  const cluster_transition* t = cluster_transitions(c, node, &n);
  for (i = 0; i < n; i++) {
    if (t[i].id == id && t[i].state == state) return 1;
  }
  return 0;
}

static int applied_anywhere(cluster* c, uint64_t id) {
  size_t n, i;
  int node;
  for (node = 1; node <= cluster_size(c); node++) {
    const cluster_applied* a = cluster_applied_log(c, (raft_id)node, &n);
    for (i = 0; i < n; i++) {
      if (a[i].id == id) return 1;
    }
  }
  return 0;
}

/* ---- replicating many transitions through faults -------------------- */

#define PAYLOAD_MAX 64

/* Logical transition k always carries the same bytes, whatever id it was
 * (re)proposed under: its index, then filler derived from it. */
static size_t payload(uint32_t k, unsigned char* out) {
  size_t len = 4 + k % 41, i;
  out[0] = (unsigned char)k;
  out[1] = (unsigned char)(k >> 8);
  out[2] = (unsigned char)(k >> 16);
  out[3] = (unsigned char)(k >> 24);
  for (i = 4; i < len; i++) out[i] = (unsigned char)(k * 31 + i);
  return len;
}

typedef struct workload {
  cluster* c;
  uint32_t total;
  uint64_t* current_id; /* per k: the id it is proposed under (0: not yet) */
  uint32_t* k_of_id;    /* per id: which k it carries */
  uint64_t next_id, max_ids;
  uint32_t* todo; /* ks waiting to be proposed (first proposals and retries) */
  size_t n_todo, todo_head;
  size_t seen[CLUSTER_MAX_NODES]; /* transition events already processed */
  long outstanding;
  unsigned retries;
  /* Proposed on a leader that had just been cut off: must be abandoned. */
  raft_id stranded_on[64];
  uint64_t stranded_id[64];
  unsigned n_stranded;
} workload;

static void workload_init(workload* w, cluster* c, uint32_t total) {
  uint32_t k;
  memset(w, 0, sizeof *w);
  w->c = c;
  w->total = total;
  w->max_ids = (uint64_t)total * 8 + 1;
  w->current_id = calloc(total, sizeof *w->current_id);
  w->k_of_id = calloc(w->max_ids, sizeof *w->k_of_id);
  /* Every k is queued at most once at a time, so total slots suffice for a
   * ring that is compacted as it drains. */
  w->todo = calloc((size_t)total * 2, sizeof *w->todo);
  assert_non_null(w->current_id);
  assert_non_null(w->k_of_id);
  assert_non_null(w->todo);
  for (k = 0; k < total; k++) w->todo[w->n_todo++] = k;
}

static void workload_free(workload* w) {
  free(w->current_id);
  free(w->k_of_id);
  free(w->todo);
}

static void todo_push(workload* w, uint32_t k) {
  if (w->n_todo == (size_t)w->total * 2) {
    memmove(w->todo, w->todo + w->todo_head, (w->n_todo - w->todo_head) * sizeof *w->todo);
    w->n_todo -= w->todo_head;
    w->todo_head = 0;
  }
  w->todo[w->n_todo++] = k;
}

/* Propose up to `batch` waiting transitions on `leader`. */
static void propose_batch(workload* w, raft_id leader, int batch) {
  unsigned char buf[PAYLOAD_MAX];
  while (batch-- > 0 && w->todo_head < w->n_todo) {
    uint32_t k = w->todo[w->todo_head];
    uint64_t id = w->next_id + 1;
    int rc;
    assert_true(id < w->max_ids);
    rc = cluster_propose(w->c, leader, id, buf, payload(k, buf));
    if (rc == RAFT_EBUSY) return;
    assert_int_equal(rc, RAFT_OK);
    w->next_id = id;
    w->k_of_id[id] = k;
    w->current_id[k] = id;
    w->todo_head++;
    w->outstanding++;
  }
}

/* Read new transition_state reports: a settled proposal leaves the window;
 * an abandoned one is proposed again under a new id. */
static void collect(workload* w) {
  int i;
  for (i = 0; i < cluster_size(w->c); i++) {
    size_t n, j;
    const cluster_transition* t = cluster_transitions(w->c, (raft_id)i + 1, &n);
    for (j = w->seen[i]; j < n; j++) {
      uint64_t id = t[j].id;
      uint32_t k;
      assert_true(id > 0 && id <= w->next_id);
      k = w->k_of_id[id];
      switch (t[j].state) {
        case RAFT_TRANSITION_ABANDONED_NOT_LEADER:
        case RAFT_TRANSITION_ABANDONED_CONFLICT:
          w->outstanding--;
          if (w->current_id[k] == id) {
            w->retries++;
            todo_push(w, k);
          }
          break;
        case RAFT_TRANSITION_APPLIED:
          w->outstanding--;
          break;
        default:
          break;
      }
    }
    w->seen[i] = n;
  }
}

static size_t min_applied(cluster* c) {
  size_t lo = (size_t)-1, n;
  int i;
  for (i = 1; i <= cluster_size(c); i++) {
    cluster_applied_log(c, (raft_id)i, &n);
    if (n < lo) lo = n;
  }
  return lo;
}

/* Every k applied exactly once, under an id it was proposed with, with its
 * own bytes. */
static void check_workload(workload* w) {
  size_t n, i;
  const cluster_applied* a = cluster_applied_log(w->c, 1, &n);
  unsigned char* hit = calloc(w->total, 1);
  unsigned char buf[PAYLOAD_MAX];
  assert_non_null(hit);
  assert_int_equal(n, w->total);
  for (i = 0; i < n; i++) {
    uint32_t k;
    assert_true(a[i].id > 0 && a[i].id <= w->next_id);
    k = w->k_of_id[a[i].id];
    assert_false(hit[k]);
    hit[k] = 1;
    assert_int_equal(a[i].len, payload(k, buf));
    assert_memory_equal(a[i].data, buf, a[i].len);
  }
  free(hit);
}

enum chaos {
  CHAOS_NONE,   /* faults on every message, nothing else */
  CHAOS_LEADER, /* now and then the leader is cut off for 400 ms */
  CHAOS_RANDOM  /* now and then random minorities or majorities are cut off */
};

typedef struct scenario {
  int n_nodes;
  uint64_t seed;
  uint32_t total;
  enum chaos chaos;
  int narrow_timeouts; /* election timeouts 150-160 ms: many split votes */
  int no_pre_vote;
} scenario;

static void tweak_scenario(raft_options* opt, int index, void* arg) {
  const scenario* sc = arg;
  (void)index;
  if (sc->narrow_timeouts) opt->election_timeout_max_ms = opt->election_timeout_min_ms + 10;
  if (sc->no_pre_vote) opt->pre_vote = 0;
}

/* Cut the leader off and propose on it while it still believes it leads:
 * what it logs now can only commit if it wins again before anyone overwrites
 * it (then it is applied), and must otherwise come back as a conflict. */
static void strand_leader(workload* w, raft_id leader) {
  int i;
  cluster_isolate(w->c, leader);
  for (i = 0; i < 3 && w->n_stranded < 64 && w->todo_head < w->n_todo; i++) {
    propose_batch(w, leader, 1);
    w->stranded_on[w->n_stranded] = leader;
    w->stranded_id[w->n_stranded++] = w->next_id;
  }
}

static void check_stranded(const workload* w, uint64_t seed) {
  unsigned i, abandoned = 0;
  for (i = 0; i < w->n_stranded; i++) {
    raft_id node = w->stranded_on[i];
    uint64_t id = w->stranded_id[i];
    int conflict = has_state(w->c, node, id, RAFT_TRANSITION_ABANDONED_CONFLICT);
    int applied = applied_anywhere(w->c, id);
    if (conflict == applied) {
      fail_msg("seed %llu: id %llu stranded on node %llu: conflict %d, applied %d",
               (unsigned long long)seed, (unsigned long long)id, (unsigned long long)node, conflict,
               applied);
    }
    if (applied) assert_true(has_state(w->c, node, id, RAFT_TRANSITION_APPLIED));
    abandoned += (unsigned)conflict;
  }
  print_message("%u of %u stranded proposals abandoned\n", abandoned, w->n_stranded);
}

/* Cut off a random set of up to half the nodes (sometimes none). */
static void random_partition(cluster* c) {
  int n = cluster_size(c), i, k = (int)(cluster_rand(c) % (uint64_t)(n / 2 + 1));
  for (i = 1; i <= n; i++) cluster_heal(c, (raft_id)i);
  while (k-- > 0) cluster_isolate(c, (raft_id)(1 + cluster_rand(c) % (uint64_t)n));
}

static void replicate(const scenario* sc) {
  cluster_config cfg;
  cluster* c;
  workload w;
  uint64_t deadline, next_chaos = 300, heal_at = 0;
  unsigned partitions = 0, i;
  int cut = 0;
  cluster_net_stats net;
  cluster_config_init(&cfg, sc->n_nodes, sc->seed);
  cfg.drop = 0.10;
  cfg.duplicate = 0.05;
  cfg.reorder = 0.30;
  cfg.tweak = tweak_scenario;
  cfg.tweak_arg = (void*)sc;
  c = cluster_create(&cfg);
  assert_non_null(c);
  print_message("%d nodes, seed %llu, chaos %d%s%s\n", sc->n_nodes, (unsigned long long)sc->seed,
                (int)sc->chaos, sc->narrow_timeouts ? ", narrow timeouts" : "",
                sc->no_pre_vote ? ", no pre-vote" : "");
  assert_int_not_equal(cluster_wait_leader(c, 10000), RAFT_NO_ID);

  workload_init(&w, c, sc->total);
  deadline = cluster_now(c) + 120000;
  while (min_applied(c) < sc->total || w.todo_head < w.n_todo) {
    raft_id leader = cluster_leader(c);
    if (cluster_now(c) >= deadline) {
      fail_msg("seed %llu: only %zu of %u applied everywhere by %llu ms",
               (unsigned long long)sc->seed, min_applied(c), sc->total,
               (unsigned long long)cluster_now(c));
    }
    if (cut && cluster_now(c) >= heal_at) {
      for (i = 1; i <= (unsigned)sc->n_nodes; i++) cluster_heal(c, (raft_id)i);
      cut = 0;
      next_chaos = cluster_now(c) + 200 + cluster_rand(c) % 300;
    } else if (!cut && sc->chaos != CHAOS_NONE && partitions < 8 && cluster_now(c) >= next_chaos &&
               leader != RAFT_NO_ID) {
      if (sc->chaos == CHAOS_LEADER) {
        strand_leader(&w, leader);
        heal_at = cluster_now(c) + 400;
      } else {
        random_partition(c);
        heal_at = cluster_now(c) + 100 + cluster_rand(c) % 400;
      }
      cut = 1;
      partitions++;
      leader = cluster_leader(c);
    }
    /* Paced under chaos, so that partitions hit a stream in progress. */
    if (leader != RAFT_NO_ID && w.outstanding < 1000) {
      propose_batch(&w, leader, sc->chaos != CHAOS_NONE ? 2 : 20);
    }
    assert_int_equal(cluster_step(c, 1), RAFT_OK);
    collect(&w);
    /* State machine safety, checked as we go: nobody diverges. */
    if (cluster_now(c) % 256 == 0 && !cluster_check_apply_prefix(c)) {
      fail_msg("seed %llu: apply logs diverged by %llu ms", (unsigned long long)sc->seed,
               (unsigned long long)cluster_now(c));
    }
    if (!cluster_check_safety(c)) {
      fail_msg("seed %llu: safety violated at %llu ms", (unsigned long long)sc->seed,
               (unsigned long long)cluster_now(c));
    }
  }
  /* Give reports in flight time to settle, then compare everything. */
  assert_int_equal(cluster_step(c, 500), RAFT_OK);
  collect(&w);
  net = cluster_stats(c);
  print_message(
      "done at %llu ms: %u partitions, %u retries; network: %llu sent, %llu dropped, "
      "%llu duplicated, %llu reordered\n",
      (unsigned long long)cluster_now(c), partitions, w.retries, (unsigned long long)net.sent,
      (unsigned long long)net.dropped, (unsigned long long)net.duplicated,
      (unsigned long long)net.reordered);
  assert_true(net.dropped > 0 && net.duplicated > 0 && net.reordered > 0);
  if (sc->chaos != CHAOS_NONE) assert_true(partitions > 0);
  if (sc->chaos == CHAOS_LEADER) {
    assert_true(w.n_stranded > 0);
    check_stranded(&w, sc->seed);
  }
  assert_true(cluster_check_same_apply_order(c));
  assert_true(cluster_check_no_duplicates(c));
  assert_true(cluster_check_safety(c));
  check_workload(&w);
  workload_free(&w);
  cluster_destroy(c);
}

static void replicate_seeds(int n_nodes, uint64_t first_seed, int n_seeds, uint32_t total,
                            enum chaos chaos) {
  int i;
  for (i = 0; i < n_seeds; i++) {
    scenario sc;
    memset(&sc, 0, sizeof sc);
    sc.n_nodes = n_nodes;
    sc.seed = first_seed + (uint64_t)i;
    sc.total = total;
    sc.chaos = chaos;
    /* Alternate the harder timing settings across seeds. */
    sc.narrow_timeouts = chaos == CHAOS_RANDOM && i % 2 == 1;
    sc.no_pre_vote = chaos == CHAOS_RANDOM && i % 3 == 2;
    replicate(&sc);
  }
}

static void test_three_nodes_with_faults(void** state) {
  (void)state;
  replicate_seeds(3, 1001, 1, 10000, CHAOS_NONE);
}

static void test_five_nodes_with_faults(void** state) {
  (void)state;
  replicate_seeds(5, 2002, 1, 10000, CHAOS_NONE);
}

static void test_three_nodes_leader_partitions(void** state) {
  (void)state;
  replicate_seeds(3, 3001, 5, 10000, CHAOS_LEADER);
}

static void test_five_nodes_leader_partitions(void** state) {
  (void)state;
  replicate_seeds(5, 5001, 5, 10000, CHAOS_LEADER);
}

static void test_three_nodes_random_partitions(void** state) {
  (void)state;
  replicate_seeds(3, 7001, 12, 8000, CHAOS_RANDOM);
}

static void test_five_nodes_random_partitions(void** state) {
  (void)state;
  replicate_seeds(5, 9001, 12, 8000, CHAOS_RANDOM);
}

/* ---- proposals on a follower ----------------------------------------- */

static void test_propose_on_follower(void** state) {
  cluster_config cfg;
  cluster* c;
  raft_id leader, follower;
  size_t n;
  (void)state;
  cluster_config_init(&cfg, 3, 77);
  c = cluster_create(&cfg);
  assert_non_null(c);
  leader = cluster_wait_leader(c, 5000);
  assert_int_not_equal(leader, RAFT_NO_ID);
  assert_int_equal(cluster_step(c, 200), RAFT_OK);
  follower = leader % 3 + 1;
  assert_int_equal(cluster_propose(c, follower, 500, "f", 1), RAFT_OK);
  assert_int_equal(cluster_propose(c, leader, 501, "l", 1), RAFT_OK);
  assert_true(cluster_wait_applied(c, 1, 2000));
  assert_int_equal(cluster_step(c, 500), RAFT_OK);
  assert_true(has_state(c, follower, 500, RAFT_TRANSITION_ABANDONED_NOT_LEADER));
  cluster_transitions(c, follower, &n);
  assert_int_equal(n, 1);
  assert_false(applied_anywhere(c, 500));
  assert_true(has_state(c, leader, 501, RAFT_TRANSITION_APPLIED));
  assert_true(cluster_check_same_apply_order(c));
  cluster_destroy(c);
}

/* ---- a partitioned leader -------------------------------------------- */

static void no_check_quorum(raft_options* opt, int index, void* arg) {
  (void)index;
  (void)arg;
  opt->check_quorum = 0;
}

static void isolate_leader(int n_nodes, uint64_t seed, int check_quorum) {
  cluster_config cfg;
  cluster* c;
  raft_id old, fresh;
  raft_status st_old, st_new;
  uint64_t old_term, id;
  size_t applied;
  cluster_config_init(&cfg, n_nodes, seed);
  if (!check_quorum) cfg.tweak = no_check_quorum;
  c = cluster_create(&cfg);
  assert_non_null(c);
  old = cluster_wait_leader(c, 5000);
  assert_int_not_equal(old, RAFT_NO_ID);
  for (id = 1; id <= 50; id++) assert_int_equal(cluster_propose(c, old, id, "a", 1), RAFT_OK);
  assert_true(cluster_wait_applied(c, 50, 2000));
  assert_int_equal(cluster_status(c, old, &st_old), RAFT_OK);
  old_term = st_old.term;

  cluster_isolate(c, old);
  /* Proposed on the cut-off leader while it still believes it leads. */
  for (id = 901; id <= 905; id++) assert_int_equal(cluster_propose(c, old, id, "x", 1), RAFT_OK);
  fresh = cluster_wait_leader(c, 5000);
  assert_int_not_equal(fresh, RAFT_NO_ID);
  assert_int_not_equal(fresh, old);
  assert_int_equal(cluster_status(c, fresh, &st_new), RAFT_OK);
  assert_true(st_new.term > old_term);
  for (id = 51; id <= 100; id++) assert_int_equal(cluster_propose(c, fresh, id, "b", 1), RAFT_OK);
  assert_true(cluster_wait_applied(c, 100, 3000));
  assert_int_equal(cluster_step(c, 1000), RAFT_OK);
  assert_int_equal(cluster_status(c, old, &st_old), RAFT_OK);
  if (check_quorum) {
    /* It cannot hear a majority: it stepped down on its own. */
    assert_int_not_equal(st_old.role, RAFT_LEADER);
  } else {
    assert_int_equal(st_old.role, RAFT_LEADER);
    assert_int_equal(st_old.term, old_term);
  }
  /* With pre-vote, the isolated node never inflates its term. */
  assert_int_equal(st_old.term, old_term);

  cluster_heal(c, old);
  assert_int_equal(cluster_step(c, 2000), RAFT_OK);
  assert_int_equal(cluster_leader(c), fresh);
  assert_int_equal(cluster_status(c, old, &st_old), RAFT_OK);
  assert_int_equal(cluster_status(c, fresh, &st_new), RAFT_OK);
  assert_int_equal(st_old.role, RAFT_FOLLOWER);
  assert_int_equal(st_old.leader, fresh);
  assert_int_equal(st_old.term, st_new.term);
  assert_int_equal(st_old.commit_index, st_new.commit_index);
  assert_true(cluster_check_same_apply_order(c));
  cluster_applied_log(c, old, &applied);
  assert_int_equal(applied, 100);
  /* What the partitioned leader logged never committed, and it says so. */
  for (id = 901; id <= 905; id++) {
    assert_false(applied_anywhere(c, id));
    assert_true(has_state(c, old, id, RAFT_TRANSITION_QUEUED));
    assert_true(has_state(c, old, id, RAFT_TRANSITION_ABANDONED_CONFLICT));
    assert_false(has_state(c, old, id, RAFT_TRANSITION_COMMITTED));
  }
  assert_true(cluster_check_safety(c));
  cluster_destroy(c);
}

static void test_isolate_leader_3(void** state) {
  (void)state;
  isolate_leader(3, 31, 1);
}

static void test_isolate_leader_5(void** state) {
  (void)state;
  isolate_leader(5, 51, 1);
}

static void test_isolate_leader_without_check_quorum(void** state) {
  (void)state;
  isolate_leader(3, 32, 0);
}

/* ---- determinism ----------------------------------------------------- */

typedef struct fingerprint {
  uint64_t now, sent[CLUSTER_MAX_NODES], term[CLUSTER_MAX_NODES];
  size_t applied;
} fingerprint;

static void short_run(uint64_t seed, fingerprint* fp) {
  cluster_config cfg;
  cluster* c;
  uint64_t id = 0;
  int i;
  cluster_config_init(&cfg, 3, seed);
  cfg.drop = 0.2;
  cfg.duplicate = 0.1;
  cfg.reorder = 0.5;
  c = cluster_create(&cfg);
  assert_non_null(c);
  memset(fp, 0, sizeof *fp);
  while (cluster_now(c) < 3000) {
    raft_id leader = cluster_leader(c);
    if (leader != RAFT_NO_ID) cluster_propose(c, leader, ++id, "d", 1);
    assert_int_equal(cluster_step(c, 1), RAFT_OK);
  }
  fp->now = cluster_now(c);
  for (i = 1; i <= 3; i++) {
    raft_status st;
    assert_int_equal(cluster_status(c, (raft_id)i, &st), RAFT_OK);
    fp->sent[i - 1] = st.msgs_sent;
    fp->term[i - 1] = st.term;
  }
  cluster_applied_log(c, 1, &fp->applied);
  assert_true(fp->applied > 0);
  cluster_destroy(c);
}

/* Equal seeds give identical runs: what the simulator relies on. */
static void test_same_seed_same_run(void** state) {
  fingerprint a, b;
  (void)state;
  short_run(555, &a);
  short_run(555, &b);
  assert_memory_equal(&a, &b, sizeof a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_propose_on_follower),
      cmocka_unit_test(test_isolate_leader_3),
      cmocka_unit_test(test_isolate_leader_5),
      cmocka_unit_test(test_isolate_leader_without_check_quorum),
      cmocka_unit_test(test_same_seed_same_run),
      cmocka_unit_test(test_three_nodes_with_faults),
      cmocka_unit_test(test_five_nodes_with_faults),
      cmocka_unit_test(test_three_nodes_leader_partitions),
      cmocka_unit_test(test_five_nodes_leader_partitions),
      cmocka_unit_test(test_three_nodes_random_partitions),
      cmocka_unit_test(test_five_nodes_random_partitions),
  };
  test_watchdog(60);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
