/* An in-memory raft_io for canonical raft (Debian libraft-dev 0.15), written
 * for the benchmark: the cheapest honest setup we could build for it.
 *
 * Why not its raft_fixture: raft_fixture_step() fires one event per call and,
 * after every event, copies and re-checks the leader's whole log (its Leader
 * Append-Only check), so a run is quadratic in the log length.  It is a test
 * harness, not a transport.
 *
 * What this io does, mirroring what our own benchmark transport does:
 *   storage  keeps term and vote and nothing else (the log lives in raft's
 *            memory anyway, like libraft's memory storage); an append
 *            completes on the next turn of the event loop.
 *   network  a send copies the message's entries into one new batch (the
 *            receiver takes ownership of it, as with canonical's own stub
 *            and uv transports) and queues the delivery; no encoding.
 *   snapshots  snapshot_put stores a copy of the snapshot (metadata, its
 *            configuration and its data in one buffer) as the server's latest,
 *            both a snapshot the server took (trailing > 0) and one it installs
 *            from its leader (trailing == 0); there is no stored log to
 *            truncate.  snapshot_get hands raft a fresh copy (raft frees it).
 *            An InstallSnapshot message is copied like AppendEntries: the
 *            receiver owns the data and the configuration it is given.
 *   time     milliseconds from a real or a virtual clock (see mio_clock).
 * Everything runs on one thread: mio_run() pops events in FIFO order; every
 * asynchronous request completes on a later turn. */
#ifndef BENCH_CANONICAL_MEMIO_H
#define BENCH_CANONICAL_MEMIO_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

#define MIO_MAX_SERVERS 8

struct mio_cluster;

/* A stored snapshot (owned by the io, allocated with raft_malloc). */
struct mio_snapshot {
  raft_index index;
  raft_term term;
  struct raft_configuration conf;
  raft_index conf_index;
  struct raft_buffer data; /* every buffer of the snapshot, concatenated */
};

/* One server's io; raft_io.impl points here. */
struct mio {
  struct mio_cluster* cluster;
  struct raft_io* io;
  raft_id id;
  char address[16];
  raft_term term;
  raft_id vote;
  struct raft_buffer conf; /* bootstrap configuration, encoded */
  unsigned tick_ms;
  raft_time next_tick;
  raft_io_tick_cb tick_cb;
  raft_io_recv_cb recv_cb;
  uint64_t rng;
  struct mio_snapshot* snapshot; /* latest stored, NULL when none */
};

struct mio_event;

struct mio_cluster {
  unsigned n;
  struct mio servers[MIO_MAX_SERVERS];
  struct mio_event* ring; /* FIFO of pending completions and deliveries */
  size_t cap, head, count;
  bool virtual_clock;
  uint64_t start_ns;
  raft_time vnow;
  uint64_t messages;            /* deliveries so far */
  uint64_t snapshots_put;       /* snapshot_put of a snapshot taken (trailing > 0) */
  uint64_t snapshots_installed; /* snapshot_put of one received (trailing == 0) */
  uint64_t snapshots_sent;      /* InstallSnapshot messages sent */
};

/* Set up n servers' raft_io structs (ios[i] for server id i + 1). */
int mio_init(struct mio_cluster* c, unsigned n, struct raft_io* ios, bool virtual_clock);
void mio_close(struct mio_cluster* c);

raft_time mio_now(struct mio_cluster* c);
uint64_t mio_now_ns(void);

/* Processes up to max_events queued events, then fires the tick callbacks
 * that are due.  When nothing was queued, waits (or, with the virtual clock,
 * jumps) to the next tick.  Returns the number of events processed. */
size_t mio_run(struct mio_cluster* c, size_t max_events);

#endif
