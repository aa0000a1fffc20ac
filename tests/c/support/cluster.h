/*
 * An in-memory Raft cluster for the C API tests.
 *
 * N nodes (ids 1..N, each with every other node as a peer) are created through
 * the public API and driven with raft_node_poll() against a virtual clock.
 * The network is a set of inboxes: send() copies the bytes into the
 * destination's inbox, receive() hands them out.  Faults (drop, duplicate,
 * reorder, isolation) come from a seeded PRNG, so one seed gives one run.
 *
 * Nodes are polled the way an event-loop user would: when their deadline
 * passes, when a message waits in their inbox, or after a proposal.  A node
 * that returns a wrong deadline therefore stalls, which the tests notice.
 */
#ifndef TESTS_C_SUPPORT_CLUSTER_H
#define TESTS_C_SUPPORT_CLUSTER_H

#include <raft.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_MAX_NODES 7
#define CLUSTER_ID 0x5eedc0ffee15ULL

typedef struct cluster cluster;

typedef struct cluster_config {
  int n_nodes;       /* 1..CLUSTER_MAX_NODES */
  uint64_t seed;     /* PRNG for faults; node random_seed values derive from it */
  double drop;       /* probability that a sent message is lost */
  double duplicate;  /* probability that a delivered message arrives twice */
  double reorder;    /* probability that receive hands out a random queued message */
  int poll_every_ms; /* nonzero: poll every node every virtual ms (ignore deadlines) */
  /* Optional: adjust a node's options before it is created (index is id - 1).
   * The peers array must not be replaced. */
  void (*tweak)(raft_options* opt, int index, void* arg);
  void* tweak_arg;
} cluster_config;

/* One apply() call, with a copy of the bytes. */
typedef struct cluster_applied {
  uint64_t id;
  size_t len;
  unsigned char* data;
} cluster_applied;

/* One transition_state() call. */
typedef struct cluster_transition {
  uint64_t id;
  raft_transition_state state;
  uint64_t at_ms;
} cluster_transition;

/* n nodes, the given seed, no faults, deadline-driven polling. */
void cluster_config_init(cluster_config* cfg, int n_nodes, uint64_t seed);

/* NULL if a node could not be created (the error is printed to stderr). */
cluster* cluster_create(const cluster_config* cfg);
void cluster_destroy(cluster* c);

int cluster_size(const cluster* c);
uint64_t cluster_now(const cluster* c);
raft_node* cluster_node(cluster* c, raft_id id);
void cluster_set_faults(cluster* c, double drop, double duplicate, double reorder);

/* Advance the virtual clock by ms, one millisecond at a time, polling the nodes
 * that are due.  Returns RAFT_OK or the first error a poll returned. */
int cluster_step(cluster* c, uint64_t ms);

/* Step until exactly one connected (not isolated) node is leader, at most
 * max_ms.  Returns its id, or RAFT_NO_ID on timeout. */
raft_id cluster_wait_leader(cluster* c, uint64_t max_ms);
/* The single connected leader right now (RAFT_NO_ID if none or several). */
raft_id cluster_leader(cluster* c);

/* Step until every connected node has applied at least `count` entries. */
int cluster_wait_applied(cluster* c, size_t count, uint64_t max_ms);

/* raft_node_propose on node `id`; the caller's buffer is overwritten right
 * after the call, which checks that the library copied it. */
int cluster_propose(cluster* c, raft_id id, uint64_t tid, const void* data, size_t len);
int cluster_status(cluster* c, raft_id id, raft_status* st);

/* Cut a node off the network in both directions (its queued inbox is lost),
 * and reconnect it. */
void cluster_isolate(cluster* c, raft_id id);
void cluster_heal(cluster* c, raft_id id);
int cluster_is_isolated(const cluster* c, raft_id id);

/* Per-node records. */
const cluster_applied* cluster_applied_log(const cluster* c, raft_id id, size_t* count);
const cluster_transition* cluster_transitions(const cluster* c, raft_id id, size_t* count);
const raft_id* cluster_leader_log(const cluster* c, raft_id id, size_t* count);
/* Lines the node logged at level WARN or more severe. */
size_t cluster_warnings(const cluster* c, raft_id id);

/* 1 if every node applied exactly the same sequence (ids and bytes), else 0
 * with the first difference printed to stderr. */
int cluster_check_same_apply_order(const cluster* c);
/* 1 if every node's apply log is a prefix of the longest one. */
int cluster_check_apply_prefix(const cluster* c);
/* 1 if no id was applied twice on any node. */
int cluster_check_no_duplicates(const cluster* c);
/* 1 if no two nodes were ever seen leading in the same term (checked after
 * every virtual millisecond), and no poll reported an unexpected failure. */
int cluster_check_safety(const cluster* c);

/* What the simulated network did so far. */
typedef struct cluster_net_stats {
  uint64_t sent;       /* send() calls */
  uint64_t dropped;    /* lost to the drop probability */
  uint64_t cut;        /* lost because an end was isolated */
  uint64_t duplicated; /* delivered twice */
  uint64_t reordered;  /* handed out ahead of an older message */
  uint64_t delivered;  /* handed to receive() */
} cluster_net_stats;

cluster_net_stats cluster_stats(const cluster* c);

/* The cluster's PRNG, for tests that need deterministic randomness. */
uint64_t cluster_rand(cluster* c);

#endif
