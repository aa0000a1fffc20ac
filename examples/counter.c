/*
 * counter: three libraft replicas of a counter in one process.
 *
 * Each replica's state machine is one integer; a transition is the text
 * "add N".  The nodes talk through in-memory mailboxes and are driven the way
 * an event loop drives libraft: raft_node_poll() whenever a message waits or
 * the deadline it returned has passed, against a virtual clock so that the
 * run is the same every time.
 *
 * The story: elect a leader, replicate 100 additions, cut the leader off, see
 * a new leader take over and keep going, reconnect the old leader and watch it
 * catch up.  Exit status 0 when all counters agree, 1 otherwise.
 */
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODES 3
#define MAILBOX 4096
#define MSG_MAX 65536

/* ---- one replica ------------------------------------------------------ */

typedef struct mail {
  size_t len;
  unsigned char* data;
} mail;

typedef struct replica {
  raft_id id;
  raft_node* node;
  long long counter;   /* the replicated state */
  long applied;        /* transitions applied */
  mail inbox[MAILBOX]; /* a ring of messages waiting for receive() */
  size_t head, count;
  unsigned char* current; /* the message receive() handed out last */
  uint64_t deadline;      /* when poll wants to run again */
  int due;                /* poll at the next tick regardless */
} replica;

static replica replicas[NODES];
static int cut_off[NODES + 1]; /* cut_off[id]: the node is partitioned */
static uint64_t now;           /* the virtual clock, in ms */

static void apply(uint64_t id, const void* data, size_t len, void* user) {
  replica* r = user;
  char text[32];
  (void)id;
  if (len >= sizeof text) return;
  memcpy(text, data, len);
  text[len] = '\0';
  r->counter += strtoll(text + 4, NULL, 10); /* "add N" */
  r->applied++;
}

/* The network: copy into the destination's mailbox unless either side is
 * partitioned.  Real transports may lose messages too; Raft retries. */
static void send_msg(raft_id to, const void* msg, size_t len, void* user) {
  replica* from = user;
  replica* dest;
  mail* m;
  if (to < 1 || to > NODES || cut_off[from->id] || cut_off[to]) return;
  dest = &replicas[to - 1];
  if (dest->count == MAILBOX || len > MSG_MAX) return;
  m = &dest->inbox[(dest->head + dest->count++) % MAILBOX];
  m->len = len;
  m->data = malloc(len);
  if (m->data == NULL) {
    dest->count--;
    return;
  }
  memcpy(m->data, msg, len);
}

static int receive_msg(const void** msg, size_t* len, void* user) {
  replica* r = user;
  mail m;
  free(r->current); /* its lifetime ended with this call */
  r->current = NULL;
  if (r->count == 0) return 0;
  m = r->inbox[r->head];
  r->head = (r->head + 1) % MAILBOX;
  r->count--;
  r->current = m.data;
  *msg = m.data;
  *len = m.len;
  return 1;
}

/* libraft's own diagnostics (warnings and errors only, by default). */
static void log_line(raft_log_level level, const char* msg, void* user) {
  replica* r = user;
  printf("[%5llu ms]   node %llu %s: %s\n", (unsigned long long)now, (unsigned long long)r->id,
         level == RAFT_LOG_ERROR ? "error" : "warning", msg);
}

/* ---- driving ---------------------------------------------------------- */

/* Advance the clock one millisecond and poll every replica that is due. */
static int tick(void) {
  int i;
  now++;
  for (i = 0; i < NODES; i++) {
    replica* r = &replicas[i];
    if (r->due || r->count > 0 || now >= r->deadline) {
      int rc = raft_node_poll(r->node, now, &r->deadline);
      free(r->current);
      r->current = NULL;
      r->due = 0;
      if (rc != RAFT_OK) {
        fprintf(stderr, "poll node %d: %s\n", i + 1, raft_strerror(rc));
        return 0;
      }
    }
  }
  return 1;
}

static raft_status status_of(int id) {
  raft_status st;
  raft_status_init(&st);
  raft_node_status(replicas[id - 1].node, &st);
  return st;
}

/* The one connected node that leads, or 0. */
static int connected_leader(void) {
  int id, found = 0;
  for (id = 1; id <= NODES; id++) {
    if (cut_off[id] || status_of(id).role != RAFT_LEADER) continue;
    if (found) return 0;
    found = id;
  }
  return found;
}

static int wait_leader(uint64_t max_ms) {
  uint64_t end = now + max_ms;
  while (now < end) {
    int id = connected_leader();
    if (id) return id;
    if (!tick()) return 0;
  }
  return 0;
}

/* Wait until every connected replica has applied `count` transitions. */
static int wait_applied(long count, uint64_t max_ms) {
  uint64_t end = now + max_ms;
  while (now < end) {
    int id, done = 1;
    for (id = 1; id <= NODES; id++) {
      if (!cut_off[id] && replicas[id - 1].applied < count) done = 0;
    }
    if (done) return 1;
    if (!tick()) return 0;
  }
  return 0;
}

/* Propose "add <amount>" on a node; the id only has to be unique. */
static void propose_add(int node, int amount) {
  static uint64_t next_id;
  char text[32];
  int len = snprintf(text, sizeof text, "add %d", amount);
  int rc = raft_node_propose(replicas[node - 1].node, ++next_id, text, (size_t)len);
  if (rc != RAFT_OK) fprintf(stderr, "propose: %s\n", raft_strerror(rc));
  replicas[node - 1].due = 1; /* an event loop polls after proposing */
}

static void print_counters(void) {
  int id;
  printf("[%5llu ms] counters", (unsigned long long)now);
  for (id = 1; id <= NODES; id++) printf("  node%d=%lld", id, replicas[id - 1].counter);
  for (id = 1; id <= NODES; id++) {
    if (cut_off[id]) printf("  (node %d cut off)", id);
  }
  printf("\n");
}

static void print_table(void) {
  static const char* roles[] = {"?", "follower", "pre-candidate", "candidate", "leader"};
  int id;
  printf("  node  role       term  commit  applied  msgs sent  received\n");
  for (id = 1; id <= NODES; id++) {
    raft_status st = status_of(id);
    printf("  %4d  %-9s  %4llu  %6llu  %7ld  %9llu  %8llu\n", id,
           roles[st.role >= 1 && st.role <= 4 ? st.role : 0], (unsigned long long)st.term,
           (unsigned long long)st.commit_index, replicas[id - 1].applied,
           (unsigned long long)st.msgs_sent, (unsigned long long)st.msgs_received);
  }
}

static int start_nodes(void) {
  int i, j;
  for (i = 0; i < NODES; i++) {
    replica* r = &replicas[i];
    raft_id peers[NODES - 1];
    size_t n_peers = 0;
    raft_options opt;
    raft_callbacks cb;
    int rc;
    for (j = 0; j < NODES; j++) {
      if (j != i) peers[n_peers++] = (raft_id)(j + 1);
    }
    r->id = (raft_id)(i + 1);
    raft_options_init(&opt);
    opt.id = r->id;
    opt.peers = peers;
    opt.n_peers = n_peers;
    opt.cluster_id = 2024;
    opt.random_seed = 7; /* fixed: the same story on every run */
    raft_callbacks_init(&cb);
    cb.apply = apply;
    cb.send = send_msg;
    cb.receive = receive_msg;
    cb.log = log_line;
    rc = raft_node_create(&r->node, &opt, &cb, r);
    if (rc != RAFT_OK) {
      fprintf(stderr, "create node %d: %s\n", i + 1, raft_strerror(rc));
      return 0;
    }
  }
  return 1;
}

static void stop_nodes(void) {
  int i;
  for (i = 0; i < NODES; i++) {
    replica* r = &replicas[i];
    raft_node_destroy(r->node);
    while (r->count > 0) {
      free(r->inbox[r->head].data);
      r->head = (r->head + 1) % MAILBOX;
      r->count--;
    }
    free(r->current);
  }
}

static void print_leader(int leader, uint64_t since) {
  printf("[%5llu ms] node %d elected leader in term %llu, after %llu ms\n", (unsigned long long)now,
         leader, (unsigned long long)status_of(leader).term, (unsigned long long)(now - since));
}

static int give_up(const char* why) {
  fprintf(stderr, "%s\n", why);
  stop_nodes();
  return 1;
}

int main(void) {
  uint64_t since;
  int leader, old, i, ok;
  raft_status st;

  printf("libraft %s counter demo: %d replicas in one process, virtual clock\n",
         raft_version_string(), NODES);
  if (!start_nodes()) return 1;
  printf(
      "[%5llu ms] nodes 1-3 start as followers (heartbeat 50 ms, election\n"
      "           timeout 150-300 ms); the first to time out campaigns\n",
      (unsigned long long)now);

  leader = wait_leader(5000);
  if (!leader) return give_up("no leader elected");
  print_leader(leader, 0);

  printf("[%5llu ms] node %d: proposing \"add 1\" .. \"add 100\"\n", (unsigned long long)now,
         leader);
  for (i = 1; i <= 100; i++) propose_add(leader, i);
  ok = wait_applied(100, 5000);
  print_counters();

  old = leader;
  cut_off[old] = 1;
  since = now;
  printf("[%5llu ms] cutting the leader, node %d, off the network\n", (unsigned long long)now, old);
  leader = ok ? wait_leader(5000) : 0;
  if (!leader) return give_up("no new leader elected");
  print_leader(leader, since);

  printf("[%5llu ms] node %d: proposing \"add 1000\" five times\n", (unsigned long long)now,
         leader);
  for (i = 0; i < 5; i++) propose_add(leader, 1000);
  ok = ok && wait_applied(105, 5000);
  print_counters();

  /* Cut off, the old leader cannot hear a majority; check-quorum makes it
   * step down within an election timeout instead of leading alone. */
  for (i = 0; i < 1000 && status_of(old).role == RAFT_LEADER && ok; i++) ok = tick();
  st = status_of(old);
  printf("[%5llu ms] node %d, cut off, %s (term %llu)\n", (unsigned long long)now, old,
         st.role == RAFT_LEADER ? "still leads" : "stepped down", (unsigned long long)st.term);

  cut_off[old] = 0;
  printf("[%5llu ms] reconnecting node %d\n", (unsigned long long)now, old);
  ok = ok && wait_applied(105, 5000);
  /* A few heartbeats for the old leader to learn who leads now. */
  for (i = 0; i < 200 && ok; i++) ok = tick();
  st = status_of(old);
  printf("[%5llu ms] node %d is a follower of node %llu in term %llu\n", (unsigned long long)now,
         old, (unsigned long long)st.leader, (unsigned long long)st.term);
  print_counters();
  print_table();

  if (st.role != RAFT_FOLLOWER || st.leader != (raft_id)leader) ok = 0;
  for (i = 0; i < NODES; i++) {
    if (replicas[i].counter != 5050 + 5000) ok = 0;
  }
  printf("%s\n", ok ? "OK: all three counters agree (10050)" : "FAILED: the replicas disagree");
  stop_nodes();
  return ok ? 0 : 1;
}
