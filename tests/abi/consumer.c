/* An installed-library consumer: built by check-install.sh against a staged `make install`,
 * once through pkg-config and once through CMake's find_package(raft).  It uses nothing but
 * the public header and runs a real three-replica cluster in one process:
 *   - transport: one in-memory FIFO inbox per replica, filled by send() and drained by receive();
 *   - clock: a fake millisecond counter, every replica polled once per simulated millisecond;
 *   - it waits for a leader all replicas agree on, proposes N_PROPOSALS transitions there, and
 *     runs until every replica has applied them.
 * Exit status 0 only if all three applied the identical sequence of (id, payload) pairs, the
 * leader saw each of its transitions reach APPLIED, and the status counters agree. */
#include <raft.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_REPLICAS 3
#define N_PROPOSALS 100
#define ELECTION_LIMIT_MS 20000 /* many election timeouts (150-300 ms) */
#define COMMIT_LIMIT_MS 20000

struct msg {
  struct msg* next;
  size_t len;
  unsigned char data[];
};

struct applied {
  uint64_t id;
  size_t len;
  unsigned char data[32];
};

struct cluster;

struct replica {
  struct cluster* cluster;
  raft_id id;
  raft_node* node;
  struct msg *head, *tail; /* inbox */
  struct msg* lent;        /* the message receive() handed out; freed on the next receive */
  struct applied applied[N_PROPOSALS];
  size_t n_applied;
  int reached_applied[N_PROPOSALS + 1]; /* transition_state APPLIED seen, by proposal id */
  raft_id leader;                       /* last leader() callback */
};

struct cluster {
  struct replica r[N_REPLICAS];
  uint64_t now_ms;
  int failed;
};

static void fail(struct cluster* c, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("consumer: FAIL: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  c->failed = 1;
}

static void payload_for(uint64_t id, unsigned char* buf, size_t* len) {
  *len = (size_t)sprintf((char*)buf, "transition #%llu", (unsigned long long)id);
}

static void on_apply(uint64_t id, const void* data, size_t len, void* user) {
  struct replica* r = user;
  unsigned char want[32];
  size_t want_len;
  struct applied* a;
  if (r->n_applied == N_PROPOSALS) {
    fail(r->cluster, "replica %llu applied more than %d transitions", (unsigned long long)r->id,
         N_PROPOSALS);
    return;
  }
  payload_for(id, want, &want_len);
  if (id < 1 || id > N_PROPOSALS || len != want_len || memcmp(data, want, len) != 0) {
    fail(r->cluster, "replica %llu applied an unknown transition (id %llu, %zu bytes)",
         (unsigned long long)r->id, (unsigned long long)id, len);
    return;
  }
  a = &r->applied[r->n_applied++];
  a->id = id;
  a->len = len;
  memcpy(a->data, data, len);
}

static void on_transition_state(uint64_t id, raft_transition_state state, void* user) {
  struct replica* r = user;
  if (id < 1 || id > N_PROPOSALS) {
    fail(r->cluster, "state %d reported for unknown transition %llu", (int)state,
         (unsigned long long)id);
  } else if (state == RAFT_TRANSITION_ABANDONED_NOT_LEADER ||
             state == RAFT_TRANSITION_ABANDONED_CONFLICT) {
    fail(r->cluster, "transition %llu abandoned (state %d) in a fault-free run",
         (unsigned long long)id, (int)state);
  } else if (state == RAFT_TRANSITION_APPLIED) {
    r->reached_applied[id] = 1;
  }
}

static struct replica* find(struct cluster* c, raft_id id) {
  int i;
  for (i = 0; i < N_REPLICAS; i++) {
    if (c->r[i].id == id) return &c->r[i];
  }
  return NULL;
}

static void on_send(raft_id to, const void* data, size_t len, void* user) {
  struct replica* from = user;
  struct replica* dst = find(from->cluster, to);
  struct msg* m;
  if (dst == NULL || dst == from) {
    fail(from->cluster, "replica %llu sent to unknown replica %llu", (unsigned long long)from->id,
         (unsigned long long)to);
    return;
  }
  m = malloc(sizeof *m + len);
  if (m == NULL) {
    fail(from->cluster, "out of memory");
    return;
  }
  m->next = NULL;
  m->len = len;
  memcpy(m->data, data, len);
  if (dst->tail) {
    dst->tail->next = m;
  } else {
    dst->head = m;
  }
  dst->tail = m;
}

static int on_receive(const void** data, size_t* len, void* user) {
  struct replica* r = user;
  free(r->lent); /* the previous message may be released now (borrowing rule) */
  r->lent = r->head;
  if (r->lent == NULL) return 0;
  r->head = r->lent->next;
  if (r->head == NULL) r->tail = NULL;
  *data = r->lent->data;
  *len = r->lent->len;
  return 1;
}

static void on_leader(raft_id leader, void* user) {
  struct replica* r = user;
  r->leader = leader;
}

static void on_log(raft_log_level level, const char* msg, void* user) {
  struct replica* r = user;
  fprintf(stderr, "consumer: replica %llu log[%d]: %s\n", (unsigned long long)r->id, (int)level,
          msg);
}

static int start(struct cluster* c) {
  int i, j, rc;
  for (i = 0; i < N_REPLICAS; i++) {
    struct replica* r = &c->r[i];
    raft_id peers[N_REPLICAS - 1];
    raft_options opt;
    raft_callbacks cb;
    size_t n = 0;
    for (j = 0; j < N_REPLICAS; j++) {
      if (j != i) peers[n++] = c->r[j].id;
    }
    raft_options_init(&opt);
    opt.id = r->id;
    opt.peers = peers; /* copied by raft_node_create */
    opt.n_peers = n;
    opt.cluster_id = 0x5eedc0ffeeULL;
    opt.random_seed = 42; /* with the id mixed in: reproducible, yet different timeouts */
    raft_callbacks_init(&cb);
    cb.apply = on_apply;
    cb.transition_state = on_transition_state;
    cb.send = on_send;
    cb.receive = on_receive;
    cb.leader = on_leader;
    cb.log = on_log;
    rc = raft_node_create(&r->node, &opt, &cb, r);
    if (rc != RAFT_OK) {
      fprintf(stderr, "consumer: FAIL: raft_node_create(%llu): %s\n", (unsigned long long)r->id,
              raft_strerror(rc));
      return -1;
    }
  }
  return 0;
}

/* One simulated millisecond: every replica gets one poll turn. */
static int step(struct cluster* c) {
  int i, rc;
  c->now_ms++;
  for (i = 0; i < N_REPLICAS; i++) {
    struct replica* r = &c->r[i];
    uint64_t next = 0;
    rc = raft_node_poll(r->node, c->now_ms, &next);
    free(r->lent); /* poll returned: the lent message is ours again */
    r->lent = NULL;
    if (rc != RAFT_OK) {
      fprintf(stderr, "consumer: FAIL: raft_node_poll(%llu) at %llu ms: %s (%s)\n",
              (unsigned long long)r->id, (unsigned long long)c->now_ms, raft_strerror(rc),
              raft_node_errmsg(r->node));
      return -1;
    }
  }
  return c->failed ? -1 : 0;
}

static int status_of(struct replica* r, raft_status* st) {
  int rc;
  raft_status_init(st);
  rc = raft_node_status(r->node, st);
  if (rc != RAFT_OK) {
    fprintf(stderr, "consumer: FAIL: raft_node_status(%llu): %s\n", (unsigned long long)r->id,
            raft_strerror(rc));
  }
  return rc;
}

/* The leader every replica agrees on (status and leader callback), or NULL. */
static struct replica* agreed_leader(struct cluster* c) {
  struct replica* leader = NULL;
  raft_status st[N_REPLICAS];
  int i;
  for (i = 0; i < N_REPLICAS; i++) {
    if (status_of(&c->r[i], &st[i]) != RAFT_OK) return NULL;
    if (st[i].role == RAFT_LEADER) {
      if (leader != NULL) return NULL; /* two leaders is fine across terms; wait it out */
      leader = &c->r[i];
    }
  }
  if (leader == NULL) return NULL;
  for (i = 0; i < N_REPLICAS; i++) {
    if (st[i].leader != leader->id || c->r[i].leader != leader->id) return NULL;
  }
  return leader;
}

static int all_applied(struct cluster* c) {
  int i;
  for (i = 0; i < N_REPLICAS; i++) {
    if (c->r[i].n_applied < N_PROPOSALS) return 0;
  }
  return 1;
}

static int verify(struct cluster* c, struct replica* leader) {
  int i;
  size_t k;
  uint64_t id;
  int seen[N_PROPOSALS + 1];
  memset(seen, 0, sizeof seen);
  /* Every id exactly once. */
  for (k = 0; k < N_PROPOSALS; k++) {
    id = c->r[0].applied[k].id;
    if (seen[id]++) {
      fail(c, "transition %llu applied twice", (unsigned long long)id);
      return -1;
    }
  }
  /* The same sequence on every replica: state machine safety. */
  for (i = 1; i < N_REPLICAS; i++) {
    for (k = 0; k < N_PROPOSALS; k++) {
      const struct applied *a = &c->r[0].applied[k], *b = &c->r[i].applied[k];
      if (a->id != b->id || a->len != b->len || memcmp(a->data, b->data, a->len) != 0) {
        fail(c, "replicas %llu and %llu differ at applied entry %zu",
             (unsigned long long)c->r[0].id, (unsigned long long)c->r[i].id, k);
        return -1;
      }
    }
  }
  for (id = 1; id <= N_PROPOSALS; id++) {
    if (!leader->reached_applied[id]) {
      fail(c, "the leader never reported transition %llu as APPLIED", (unsigned long long)id);
      return -1;
    }
  }
  for (i = 0; i < N_REPLICAS; i++) {
    raft_status st;
    if (status_of(&c->r[i], &st) != RAFT_OK) return -1;
    if (st.applied_index < N_PROPOSALS || st.commit_index < st.applied_index ||
        st.last_index < st.commit_index || st.msgs_received == 0 || st.msgs_rejected != 0) {
      fail(c,
           "replica %llu status: commit %llu applied %llu last %llu received %llu rejected "
           "%llu",
           (unsigned long long)st.id, (unsigned long long)st.commit_index,
           (unsigned long long)st.applied_index, (unsigned long long)st.last_index,
           (unsigned long long)st.msgs_received, (unsigned long long)st.msgs_rejected);
      return -1;
    }
  }
  return 0;
}

static void stop(struct cluster* c) {
  int i;
  for (i = 0; i < N_REPLICAS; i++) {
    struct replica* r = &c->r[i];
    raft_node_destroy(r->node);
    r->node = NULL;
    free(r->lent);
    r->lent = NULL;
    while (r->head) {
      struct msg* m = r->head;
      r->head = m->next;
      free(m);
    }
    r->tail = NULL;
  }
}

static int run(struct cluster* c) {
  struct replica* leader = NULL;
  uint64_t id, deadline;
  int rc;

  if (start(c) != 0) return -1;
  for (deadline = ELECTION_LIMIT_MS; c->now_ms < deadline && leader == NULL;) {
    if (step(c) != 0) return -1;
    leader = agreed_leader(c);
  }
  if (leader == NULL) {
    fail(c, "no agreed leader after %d simulated ms", ELECTION_LIMIT_MS);
    return -1;
  }
  printf("consumer: replica %llu leads after %llu simulated ms\n", (unsigned long long)leader->id,
         (unsigned long long)c->now_ms);

  for (id = 1; id <= N_PROPOSALS; id++) {
    unsigned char data[32];
    size_t len;
    payload_for(id, data, &len);
    rc = raft_node_propose(leader->node, id, data, len);
    if (rc != RAFT_OK) {
      fail(c, "raft_node_propose(%llu): %s", (unsigned long long)id, raft_strerror(rc));
      return -1;
    }
  }
  for (deadline = c->now_ms + COMMIT_LIMIT_MS; c->now_ms < deadline && !all_applied(c);) {
    if (step(c) != 0) return -1;
  }
  if (!all_applied(c)) {
    fail(c, "applied %zu/%zu/%zu of %d transitions after %d simulated ms", c->r[0].n_applied,
         c->r[1].n_applied, c->r[2].n_applied, N_PROPOSALS, COMMIT_LIMIT_MS);
    return -1;
  }
  /* A few more turns: late duplicates or extra applies would show up now. */
  for (deadline = c->now_ms + 500; c->now_ms < deadline;) {
    if (step(c) != 0) return -1;
  }
  if (verify(c, leader) != 0) return -1;
  printf("consumer: %d replicas applied the same %d transitions by %llu simulated ms\n", N_REPLICAS,
         N_PROPOSALS, (unsigned long long)c->now_ms);
  return 0;
}

int main(void) {
  static struct cluster c; /* static: large, and zero-initialised */
  char version[32];
  int i, rc;

  sprintf(version, "%d.%d.%d", RAFT_VERSION_MAJOR, RAFT_VERSION_MINOR, RAFT_VERSION_PATCH);
  if (raft_version_number() != RAFT_VERSION_NUMBER || strcmp(raft_version_string(), version)) {
    fprintf(stderr, "consumer: FAIL: header %s, library %s\n", version, raft_version_string());
    return 1;
  }
  for (i = 0; i < N_REPLICAS; i++) {
    c.r[i].cluster = &c;
    c.r[i].id = (raft_id)(i + 1);
  }
  rc = run(&c);
  stop(&c);
  if (rc != 0 || c.failed) return 1;
  printf("consumer: ok (libraft %s)\n", raft_version_string());
  return 0;
}
