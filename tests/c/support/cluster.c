#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

/* An inbox never holds more than this; beyond it a message is dropped, which
 * Raft tolerates and which bounds memory if a node floods. */
#define INBOX_CAP 100000

typedef struct message {
  raft_id from;
  size_t len;
  unsigned char* data;
} message;

typedef struct inbox {
  message* items;
  size_t head, tail, cap;
} inbox;

typedef struct node_ctx {
  cluster* c;
  raft_id id;
  raft_node* node;
  inbox in;
  unsigned char* current; /* what the last receive handed out */
  uint64_t next_deadline;
  int wake; /* poll at the next tick even if the deadline is later */
  int isolated;

  cluster_applied* applied;
  size_t n_applied, cap_applied;
  cluster_transition* transitions;
  size_t n_transitions, cap_transitions;
  raft_id* leaders;
  size_t n_leaders, cap_leaders;
  size_t warnings;
} node_ctx;

typedef struct term_leader {
  uint64_t term;
  raft_id id;
} term_leader;

struct cluster {
  int n;
  uint64_t now;
  prng rng;
  double drop, duplicate, reorder;
  int poll_every_ms;
  int verbose;
  node_ctx nodes[CLUSTER_MAX_NODES];
  cluster_net_stats net;
  term_leader* seen;
  size_t n_seen, cap_seen;
  int unsafe;
};

static void* xrealloc(void* p, size_t size) {
  void* q = realloc(p, size ? size : 1);
  if (q == NULL) {
    fprintf(stderr, "cluster: out of memory\n");
    abort();
  }
  return q;
}

/* Grow *items (n used, *cap allocated, elements of `size` bytes) by one. */
static void* grow(void* items, size_t n, size_t* cap, size_t size) {
  if (n < *cap) return items;
  *cap = *cap ? *cap * 2 : 64;
  return xrealloc(items, *cap * size);
}

static node_ctx* ctx_of(const cluster* c, raft_id id) {
  if (c == NULL || id < 1 || id > (raft_id)c->n) {
    fprintf(stderr, "cluster: no node %llu\n", (unsigned long long)id);
    abort();
  }
  return (node_ctx*)&c->nodes[id - 1];
}

/* ---- inbox ---------------------------------------------------------- */

static size_t inbox_size(const inbox* q) { return q->tail - q->head; }

static void inbox_push(inbox* q, raft_id from, const void* data, size_t len) {
  message* m;
  if (inbox_size(q) >= INBOX_CAP) return;
  if (q->tail == q->cap) {
    if (q->head > 0) { /* reclaim the consumed front before growing */
      memmove(q->items, q->items + q->head, inbox_size(q) * sizeof *q->items);
      q->tail -= q->head;
      q->head = 0;
    }
    q->items = grow(q->items, q->tail, &q->cap, sizeof *q->items);
  }
  m = &q->items[q->tail++];
  m->from = from;
  m->len = len;
  m->data = xrealloc(NULL, len);
  if (len > 0) memcpy(m->data, data, len);
}

static void inbox_clear(inbox* q) {
  size_t i;
  for (i = q->head; i < q->tail; i++) free(q->items[i].data);
  q->head = q->tail = 0;
}

/* ---- callbacks ------------------------------------------------------ */

static void cb_apply(uint64_t id, const void* data, size_t len, void* user) {
  node_ctx* n = user;
  cluster_applied* a;
  n->applied = grow(n->applied, n->n_applied, &n->cap_applied, sizeof *n->applied);
  a = &n->applied[n->n_applied++];
  a->id = id;
  a->len = len;
  a->data = xrealloc(NULL, len);
  if (len > 0) memcpy(a->data, data, len);
}

static void cb_transition(uint64_t id, raft_transition_state state, void* user) {
  node_ctx* n = user;
  cluster_transition* t;
  n->transitions =
      grow(n->transitions, n->n_transitions, &n->cap_transitions, sizeof *n->transitions);
  t = &n->transitions[n->n_transitions++];
  t->id = id;
  t->state = state;
  t->at_ms = n->c->now;
}

static void cb_send(raft_id to, const void* msg, size_t len, void* user) {
  node_ctx* n = user;
  cluster* c = n->c;
  node_ctx* dest;
  if (to < 1 || to > (raft_id)c->n || to == n->id) {
    fprintf(stderr, "cluster: node %llu sent to bad id %llu\n", (unsigned long long)n->id,
            (unsigned long long)to);
    c->unsafe = 1;
    return;
  }
  dest = &c->nodes[to - 1];
  c->net.sent++;
  if (n->isolated || dest->isolated) {
    c->net.cut++;
    return;
  }
  if (prng_chance(&c->rng, c->drop)) {
    c->net.dropped++;
    return;
  }
  inbox_push(&dest->in, n->id, msg, len);
  if (prng_chance(&c->rng, c->duplicate)) {
    c->net.duplicated++;
    inbox_push(&dest->in, n->id, msg, len);
  }
}

static int cb_receive(const void** msg, size_t* len, void* user) {
  node_ctx* n = user;
  inbox* q = &n->in;
  message m;
  free(n->current);
  n->current = NULL;
  if (inbox_size(q) == 0) return 0;
  if (inbox_size(q) > 1 && prng_chance(&n->c->rng, n->c->reorder)) {
    size_t pick = q->head + (size_t)prng_below(&n->c->rng, inbox_size(q));
    message tmp = q->items[pick];
    if (pick != q->head) n->c->net.reordered++;
    q->items[pick] = q->items[q->head];
    q->items[q->head] = tmp;
  }
  m = q->items[q->head++];
  if (q->head == q->tail) q->head = q->tail = 0;
  n->current = m.data;
  n->c->net.delivered++;
  *msg = m.data;
  *len = m.len;
  return 1;
}

static void cb_leader(raft_id leader, void* user) {
  node_ctx* n = user;
  n->leaders = grow(n->leaders, n->n_leaders, &n->cap_leaders, sizeof *n->leaders);
  n->leaders[n->n_leaders++] = leader;
}

static void cb_log(raft_log_level level, const char* msg, void* user) {
  node_ctx* n = user;
  if (level <= RAFT_LOG_WARN) n->warnings++;
  if (n->c->verbose) {
    fprintf(stderr, "[%6llu ms] node %llu L%d: %s\n", (unsigned long long)n->c->now,
            (unsigned long long)n->id, (int)level, msg);
  }
}

/* ---- lifecycle ------------------------------------------------------ */

void cluster_config_init(cluster_config* cfg, int n_nodes, uint64_t seed) {
  memset(cfg, 0, sizeof *cfg);
  cfg->n_nodes = n_nodes;
  cfg->seed = seed;
}

cluster* cluster_create(const cluster_config* cfg) {
  cluster* c;
  int i, j, rc;
  const char* verbose = getenv("RAFT_TEST_VERBOSE");
  if (cfg == NULL || cfg->n_nodes < 1 || cfg->n_nodes > CLUSTER_MAX_NODES) return NULL;
  c = xrealloc(NULL, sizeof *c);
  memset(c, 0, sizeof *c);
  c->n = cfg->n_nodes;
  prng_seed(&c->rng, cfg->seed);
  c->drop = cfg->drop;
  c->duplicate = cfg->duplicate;
  c->reorder = cfg->reorder;
  c->poll_every_ms = cfg->poll_every_ms;
  c->verbose = verbose != NULL && verbose[0] != '\0' && verbose[0] != '0';

  for (i = 0; i < c->n; i++) {
    node_ctx* n = &c->nodes[i];
    raft_id peers[CLUSTER_MAX_NODES];
    size_t n_peers = 0;
    raft_options opt;
    raft_callbacks cb;

    n->c = c;
    n->id = (raft_id)(i + 1);
    for (j = 0; j < c->n; j++) {
      if (j != i) peers[n_peers++] = (raft_id)(j + 1);
    }
    raft_options_init(&opt);
    opt.id = n->id;
    opt.peers = peers;
    opt.n_peers = n_peers;
    opt.cluster_id = CLUSTER_ID;
    opt.random_seed = prng_mix(cfg->seed ^ (0x1000u + (uint64_t)i));
    if (c->verbose) opt.log_level = RAFT_LOG_DEBUG;
    if (cfg->tweak != NULL) cfg->tweak(&opt, i, cfg->tweak_arg);

    raft_callbacks_init(&cb);
    cb.apply = cb_apply;
    cb.transition_state = cb_transition;
    cb.send = cb_send;
    cb.receive = cb_receive;
    cb.leader = cb_leader;
    cb.log = cb_log;

    rc = raft_node_create(&n->node, &opt, &cb, n);
    /* The library must have copied the options: scribble over them. */
    memset(peers, 0xff, sizeof peers);
    memset(&opt, 0xff, sizeof opt);
    memset(&cb, 0xff, sizeof cb);
    if (rc != RAFT_OK) {
      fprintf(stderr, "cluster: creating node %d failed: %s\n", i + 1, raft_strerror(rc));
      cluster_destroy(c);
      return NULL;
    }
  }
  return c;
}

void cluster_destroy(cluster* c) {
  int i;
  size_t k;
  if (c == NULL) return;
  for (i = 0; i < c->n; i++) {
    node_ctx* n = &c->nodes[i];
    raft_node_destroy(n->node);
    inbox_clear(&n->in);
    free(n->in.items);
    free(n->current);
    for (k = 0; k < n->n_applied; k++) free(n->applied[k].data);
    free(n->applied);
    free(n->transitions);
    free(n->leaders);
  }
  free(c->seen);
  free(c);
}

int cluster_size(const cluster* c) { return c->n; }
uint64_t cluster_now(const cluster* c) { return c->now; }
raft_node* cluster_node(cluster* c, raft_id id) { return ctx_of(c, id)->node; }
uint64_t cluster_rand(cluster* c) { return prng_next(&c->rng); }

void cluster_set_faults(cluster* c, double drop, double duplicate, double reorder) {
  c->drop = drop;
  c->duplicate = duplicate;
  c->reorder = reorder;
}

/* ---- driving -------------------------------------------------------- */

/* Remember who led each term; two leaders in one term break Raft. */
static void check_leaders(cluster* c) {
  int i;
  size_t k;
  for (i = 0; i < c->n; i++) {
    raft_status st;
    raft_status_init(&st);
    if (raft_node_status(c->nodes[i].node, &st) != RAFT_OK) {
      c->unsafe = 1;
      continue;
    }
    if (st.role != RAFT_LEADER) continue;
    for (k = c->n_seen; k-- > 0;) {
      if (c->seen[k].term == st.term) break;
    }
    if (k == (size_t)-1) {
      c->seen = grow(c->seen, c->n_seen, &c->cap_seen, sizeof *c->seen);
      c->seen[c->n_seen].term = st.term;
      c->seen[c->n_seen].id = st.id;
      c->n_seen++;
    } else if (c->seen[k].id != st.id) {
      fprintf(stderr, "cluster: nodes %llu and %llu both led term %llu\n",
              (unsigned long long)c->seen[k].id, (unsigned long long)st.id,
              (unsigned long long)st.term);
      c->unsafe = 1;
    }
  }
}

static int poll_node(cluster* c, node_ctx* n) {
  uint64_t next = 0;
  int rc = raft_node_poll(n->node, c->now, &next);
  free(n->current); /* the receive buffer only had to live until poll returned */
  n->current = NULL;
  n->wake = 0;
  n->next_deadline = next;
  if (rc != RAFT_OK) {
    fprintf(stderr, "cluster: poll of node %llu at %llu ms: %s (%s)\n", (unsigned long long)n->id,
            (unsigned long long)c->now, raft_strerror(rc), raft_node_errmsg(n->node));
  }
  return rc;
}

int cluster_step(cluster* c, uint64_t ms) {
  int result = RAFT_OK;
  uint64_t t;
  int i;
  for (t = 0; t < ms; t++) {
    c->now++;
    for (i = 0; i < c->n; i++) {
      node_ctx* n = &c->nodes[i];
      int due = c->poll_every_ms || n->wake || inbox_size(&n->in) > 0 || n->next_deadline <= c->now;
      if (due) {
        int rc = poll_node(c, n);
        if (rc != RAFT_OK && result == RAFT_OK) result = rc;
      }
    }
    check_leaders(c);
  }
  if (result != RAFT_OK) c->unsafe = 1;
  return result;
}

raft_id cluster_leader(cluster* c) {
  raft_id leader = RAFT_NO_ID;
  uint64_t leader_term = 0, max_term = 0;
  int i, leaders = 0;
  for (i = 0; i < c->n; i++) {
    raft_status st;
    if (c->nodes[i].isolated) continue;
    raft_status_init(&st);
    if (raft_node_status(c->nodes[i].node, &st) != RAFT_OK) return RAFT_NO_ID;
    if (st.term > max_term) max_term = st.term;
    if (st.role == RAFT_LEADER) {
      leaders++;
      leader = st.id;
      leader_term = st.term;
    }
  }
  /* A leader in an older term than some connected node is about to fall. */
  if (leaders != 1 || leader_term != max_term) return RAFT_NO_ID;
  return leader;
}

raft_id cluster_wait_leader(cluster* c, uint64_t max_ms) {
  uint64_t waited;
  for (waited = 0; waited <= max_ms; waited++) {
    raft_id id = cluster_leader(c);
    if (id != RAFT_NO_ID) return id;
    if (cluster_step(c, 1) != RAFT_OK) return RAFT_NO_ID;
  }
  return RAFT_NO_ID;
}

int cluster_wait_applied(cluster* c, size_t count, uint64_t max_ms) {
  uint64_t waited;
  for (waited = 0; waited <= max_ms; waited++) {
    int i, done = 1;
    for (i = 0; i < c->n; i++) {
      if (!c->nodes[i].isolated && c->nodes[i].n_applied < count) done = 0;
    }
    if (done) return 1;
    if (cluster_step(c, 1) != RAFT_OK) return 0;
  }
  return 0;
}

int cluster_propose(cluster* c, raft_id id, uint64_t tid, const void* data, size_t len) {
  node_ctx* n = ctx_of(c, id);
  unsigned char* copy = NULL;
  int rc;
  if (len > 0) {
    copy = xrealloc(NULL, len);
    memcpy(copy, data, len);
  }
  rc = raft_node_propose(n->node, tid, copy, len);
  if (copy != NULL) memset(copy, 0xa5, len); /* the library must not keep our buffer */
  free(copy);
  n->wake = 1;
  return rc;
}

int cluster_status(cluster* c, raft_id id, raft_status* st) {
  raft_status_init(st);
  return raft_node_status(ctx_of(c, id)->node, st);
}

void cluster_isolate(cluster* c, raft_id id) {
  node_ctx* n = ctx_of(c, id);
  n->isolated = 1;
  inbox_clear(&n->in);
}

void cluster_heal(cluster* c, raft_id id) { ctx_of(c, id)->isolated = 0; }
int cluster_is_isolated(const cluster* c, raft_id id) { return ctx_of(c, id)->isolated; }

/* ---- records and checks --------------------------------------------- */

const cluster_applied* cluster_applied_log(const cluster* c, raft_id id, size_t* count) {
  const node_ctx* n = ctx_of(c, id);
  *count = n->n_applied;
  return n->applied;
}

const cluster_transition* cluster_transitions(const cluster* c, raft_id id, size_t* count) {
  const node_ctx* n = ctx_of(c, id);
  *count = n->n_transitions;
  return n->transitions;
}

const raft_id* cluster_leader_log(const cluster* c, raft_id id, size_t* count) {
  const node_ctx* n = ctx_of(c, id);
  *count = n->n_leaders;
  return n->leaders;
}

size_t cluster_warnings(const cluster* c, raft_id id) { return ctx_of(c, id)->warnings; }

static int same_entry(const cluster_applied* a, const cluster_applied* b) {
  return a->id == b->id && a->len == b->len && (a->len == 0 || !memcmp(a->data, b->data, a->len));
}

/* Compare every node with node 1 over the first `upto(n)` entries. */
static int compare_logs(const cluster* c, int require_equal_length) {
  const node_ctx* longest = &c->nodes[0];
  int i;
  size_t k;
  for (i = 1; i < c->n; i++) {
    if (c->nodes[i].n_applied > longest->n_applied) longest = &c->nodes[i];
  }
  for (i = 0; i < c->n; i++) {
    const node_ctx* n = &c->nodes[i];
    if (require_equal_length && n->n_applied != longest->n_applied) {
      fprintf(stderr, "cluster: node %llu applied %zu entries, node %llu applied %zu\n",
              (unsigned long long)n->id, n->n_applied, (unsigned long long)longest->id,
              longest->n_applied);
      return 0;
    }
    for (k = 0; k < n->n_applied; k++) {
      if (!same_entry(&n->applied[k], &longest->applied[k])) {
        fprintf(stderr, "cluster: apply #%zu differs: node %llu id %llu, node %llu id %llu\n", k,
                (unsigned long long)n->id, (unsigned long long)n->applied[k].id,
                (unsigned long long)longest->id, (unsigned long long)longest->applied[k].id);
        return 0;
      }
    }
  }
  return 1;
}

int cluster_check_same_apply_order(const cluster* c) { return compare_logs(c, 1); }
int cluster_check_apply_prefix(const cluster* c) { return compare_logs(c, 0); }

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

int cluster_check_no_duplicates(const cluster* c) {
  int i, ok = 1;
  size_t k;
  for (i = 0; i < c->n && ok; i++) {
    const node_ctx* n = &c->nodes[i];
    uint64_t* ids = xrealloc(NULL, n->n_applied * sizeof *ids);
    for (k = 0; k < n->n_applied; k++) ids[k] = n->applied[k].id;
    qsort(ids, n->n_applied, sizeof *ids, cmp_u64);
    for (k = 1; k < n->n_applied; k++) {
      if (ids[k] == ids[k - 1]) {
        fprintf(stderr, "cluster: node %llu applied id %llu twice\n", (unsigned long long)n->id,
                (unsigned long long)ids[k]);
        ok = 0;
        break;
      }
    }
    free(ids);
  }
  return ok;
}

int cluster_check_safety(const cluster* c) { return !c->unsafe; }

cluster_net_stats cluster_stats(const cluster* c) { return c->net; }
