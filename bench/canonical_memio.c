/* See canonical_memio.h. */
#define _POSIX_C_SOURCE 200809L
#include "canonical_memio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EV_APPEND = 1, EV_SEND, EV_DELIVER, EV_SNAP_PUT, EV_SNAP_GET };

struct mio_event {
  int type;
  struct mio* to;
  union {
    struct {
      struct raft_io_append* req;
      raft_io_append_cb cb;
    } append;
    struct {
      struct raft_io_send* req;
      raft_io_send_cb cb;
    } send;
    struct {
      struct raft_io_snapshot_put* req;
      raft_io_snapshot_put_cb cb;
      struct mio_snapshot* copy; /* becomes the stored snapshot on completion */
    } put;
    struct {
      struct raft_io_snapshot_get* req;
      raft_io_snapshot_get_cb cb;
      struct raft_snapshot* snapshot; /* handed to raft, which frees it; NULL: none */
    } get;
    struct raft_message msg;
  } u;
};

static void die(const char* what) {
  fprintf(stderr, "canonical_bench: %s\n", what);
  exit(1);
}

uint64_t mio_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

raft_time mio_now(struct mio_cluster* c) {
  return c->virtual_clock ? c->vnow : 1000 + (mio_now_ns() - c->start_ns) / 1000000;
}

static void push(struct mio_cluster* c, const struct mio_event* e) {
  if (c->count == c->cap) {
    size_t cap = c->cap == 0 ? 1024 : c->cap * 2;
    struct mio_event* ring = malloc(cap * sizeof *ring);
    if (ring == NULL) die("out of memory");
    for (size_t i = 0; i < c->count; i++) ring[i] = c->ring[(c->head + i) % c->cap];
    free(c->ring);
    c->ring = ring;
    c->cap = cap;
    c->head = 0;
  }
  c->ring[(c->head + c->count) % c->cap] = *e;
  c->count++;
}

static struct mio* impl(struct raft_io* io) { return io->impl; }

static int m_init(struct raft_io* io, raft_id id, const char* address) {
  struct mio* m = impl(io);
  m->id = id;
  snprintf(m->address, sizeof m->address, "%s", address);
  return 0;
}

static void m_close(struct raft_io* io, raft_io_close_cb cb) {
  if (cb != NULL) cb(io);
}

static int m_load(struct raft_io* io, raft_term* term, raft_id* voted_for,
                  struct raft_snapshot** snapshot, raft_index* start_index,
                  struct raft_entry* entries[], size_t* n_entries) {
  struct mio* m = impl(io);
  *term = m->term;
  *voted_for = m->vote;
  *snapshot = NULL;
  *start_index = 1;
  *entries = NULL;
  *n_entries = 0;
  if (m->conf.len == 0) return 0;
  /* The bootstrap configuration is the only entry that can exist before the
   * start; raft takes ownership of the copy. */
  struct raft_entry* e = raft_calloc(1, sizeof *e);
  void* batch = raft_malloc(m->conf.len);
  if (e == NULL || batch == NULL) return RAFT_NOMEM;
  memcpy(batch, m->conf.base, m->conf.len);
  e->term = 1;
  e->type = RAFT_CHANGE;
  e->buf.base = batch;
  e->buf.len = m->conf.len;
  e->batch = batch;
  *entries = e;
  *n_entries = 1;
  return 0;
}

static int m_start(struct raft_io* io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
  struct mio* m = impl(io);
  m->tick_ms = msecs;
  m->tick_cb = tick;
  m->recv_cb = recv;
  m->next_tick = mio_now(m->cluster) + msecs;
  return 0;
}

static int m_bootstrap(struct raft_io* io, const struct raft_configuration* conf) {
  struct mio* m = impl(io);
  if (m->term != 0) return RAFT_CANTBOOTSTRAP;
  int rv = raft_configuration_encode(conf, &m->conf);
  if (rv != 0) return rv;
  m->term = 1;
  return 0;
}

static int m_recover(struct raft_io* io, const struct raft_configuration* conf) {
  (void)io;
  (void)conf;
  return RAFT_NOTFOUND;
}

static int m_set_term(struct raft_io* io, raft_term term) {
  impl(io)->term = term;
  impl(io)->vote = 0;
  return 0;
}

static int m_set_vote(struct raft_io* io, raft_id id) {
  impl(io)->vote = id;
  return 0;
}

/* The receiver owns what it is given: one batch holding every payload. */
static struct raft_entry* copy_entries(const struct raft_entry* src, unsigned n) {
  if (n == 0) return NULL;
  size_t total = 0;
  for (unsigned i = 0; i < n; i++) total += src[i].buf.len;
  char* batch = raft_malloc(total > 0 ? total : 1);
  struct raft_entry* dst = raft_malloc(n * sizeof *dst);
  if (batch == NULL || dst == NULL) die("out of memory");
  char* cursor = batch;
  for (unsigned i = 0; i < n; i++) {
    dst[i] = src[i];
    dst[i].buf.base = cursor;
    memcpy(cursor, src[i].buf.base, src[i].buf.len);
    dst[i].batch = batch;
    cursor += src[i].buf.len;
  }
  return dst;
}

/* A configuration copy whose memory raft can release (raft_configuration_add
 * allocates with raft_malloc). */
static int copy_conf(const struct raft_configuration* src, struct raft_configuration* dst) {
  raft_configuration_init(dst);
  for (unsigned i = 0; i < src->n; i++) {
    const struct raft_server* s = &src->servers[i];
    int rv = raft_configuration_add(dst, s->id, s->address, s->role);
    if (rv != 0) {
      raft_configuration_close(dst);
      return rv;
    }
  }
  return 0;
}

/* A raft_malloc'ed copy of len bytes (at least one byte is allocated). */
static void* copy_bytes(const void* src, size_t len) {
  void* p = raft_malloc(len > 0 ? len : 1);
  if (p != NULL && len > 0) memcpy(p, src, len);
  return p;
}

static void snapshot_free(struct mio_snapshot* s) {
  if (s == NULL) return;
  raft_configuration_close(&s->conf);
  raft_free(s->data.base);
  raft_free(s);
}

/* The io's own copy of a snapshot raft asks to store: raft keeps ownership of
 * what it passes (it frees a snapshot it took once the put completes, and
 * hands an installed snapshot's data to the FSM). */
static struct mio_snapshot* snapshot_store(const struct raft_snapshot* src) {
  struct mio_snapshot* s = raft_calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  size_t total = 0;
  for (unsigned i = 0; i < src->n_bufs; i++) total += src->bufs[i].len;
  s->data.base = raft_malloc(total > 0 ? total : 1);
  if (s->data.base == NULL || copy_conf(&src->configuration, &s->conf) != 0) {
    raft_free(s->data.base);
    raft_free(s);
    return NULL;
  }
  char* cursor = s->data.base;
  for (unsigned i = 0; i < src->n_bufs; i++) {
    if (src->bufs[i].len > 0) memcpy(cursor, src->bufs[i].base, src->bufs[i].len);
    cursor += src->bufs[i].len;
  }
  s->data.len = total;
  s->index = src->index;
  s->term = src->term;
  s->conf_index = src->configuration_index;
  return s;
}

/* What snapshot_get hands raft: one raft_malloc'ed snapshot with exactly one
 * buffer, all of which raft releases (snapshotDestroy: the configuration, the
 * buffer, the bufs array and the struct itself). */
static struct raft_snapshot* snapshot_load(const struct mio_snapshot* s) {
  struct raft_snapshot* out = raft_calloc(1, sizeof *out);
  struct raft_buffer* bufs = raft_malloc(sizeof *bufs);
  void* data = copy_bytes(s->data.base, s->data.len);
  if (out == NULL || bufs == NULL || data == NULL ||
      copy_conf(&s->conf, &out->configuration) != 0) {
    raft_free(data);
    raft_free(bufs);
    raft_free(out);
    return NULL;
  }
  out->index = s->index;
  out->term = s->term;
  out->configuration_index = s->conf_index;
  bufs[0].base = data;
  bufs[0].len = s->data.len;
  out->bufs = bufs;
  out->n_bufs = 1;
  return out;
}

static int m_send(struct raft_io* io, struct raft_io_send* req, const struct raft_message* message,
                  raft_io_send_cb cb) {
  struct mio* m = impl(io);
  struct mio_cluster* c = m->cluster;
  if (message->server_id == 0 || message->server_id > c->n) return RAFT_NOCONNECTION;
  struct mio_event d;
  memset(&d, 0, sizeof d);
  d.type = EV_DELIVER;
  d.to = &c->servers[message->server_id - 1];
  d.u.msg = *message;
  d.u.msg.server_id = m->id; /* the receiver sees the sender */
  d.u.msg.server_address = m->address;
  if (message->type == RAFT_IO_APPEND_ENTRIES) {
    d.u.msg.append_entries.entries =
        copy_entries(message->append_entries.entries, message->append_entries.n_entries);
  } else if (message->type == RAFT_IO_INSTALL_SNAPSHOT) {
    /* The receiver owns the data and the configuration (raft frees them, or
     * hands the data to the FSM); the sender frees its own on completion. */
    const struct raft_install_snapshot* src = &message->install_snapshot;
    struct raft_install_snapshot* dst = &d.u.msg.install_snapshot;
    dst->data.base = copy_bytes(src->data.base, src->data.len);
    if (dst->data.base == NULL) return RAFT_NOMEM;
    if (copy_conf(&src->conf, &dst->conf) != 0) {
      raft_free(dst->data.base);
      return RAFT_NOMEM;
    }
    c->snapshots_sent++;
  }
  push(c, &d);
  struct mio_event s;
  memset(&s, 0, sizeof s);
  s.type = EV_SEND;
  s.to = m;
  s.u.send.req = req;
  s.u.send.cb = cb;
  push(c, &s);
  return 0;
}

static int m_append(struct raft_io* io, struct raft_io_append* req,
                    const struct raft_entry entries[], unsigned n, raft_io_append_cb cb) {
  (void)entries;
  (void)n;
  struct mio_event e;
  memset(&e, 0, sizeof e);
  e.type = EV_APPEND;
  e.to = impl(io);
  e.u.append.req = req;
  e.u.append.cb = cb;
  push(impl(io)->cluster, &e);
  return 0;
}

static int m_truncate(struct raft_io* io, raft_index index) {
  (void)io;
  (void)index;
  return 0;
}

/* trailing > 0: a snapshot this server took (raft compacts its in-memory log
 * when the put completes; this io stores no log, so nothing to delete).
 * trailing == 0: a snapshot installed from the leader, replacing the whole log
 * (again nothing stored to discard).  Either way the copy becomes the server's
 * latest snapshot when the request completes. */
static int m_snapshot_put(struct raft_io* io, unsigned trailing, struct raft_io_snapshot_put* req,
                          const struct raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
  struct mio* m = impl(io);
  struct mio_snapshot* copy = snapshot_store(snapshot);
  if (copy == NULL) return RAFT_NOMEM;
  if (trailing > 0)
    m->cluster->snapshots_put++;
  else
    m->cluster->snapshots_installed++;
  struct mio_event e;
  memset(&e, 0, sizeof e);
  e.type = EV_SNAP_PUT;
  e.to = m;
  e.u.put.req = req;
  e.u.put.cb = cb;
  e.u.put.copy = copy;
  push(m->cluster, &e);
  return 0;
}

/* The latest snapshot whose put has completed, i.e. the one raft's log
 * agrees with, copied now and handed over on a later turn. */
static int m_snapshot_get(struct raft_io* io, struct raft_io_snapshot_get* req,
                          raft_io_snapshot_get_cb cb) {
  struct mio* m = impl(io);
  struct raft_snapshot* snapshot = NULL;
  if (m->snapshot != NULL && (snapshot = snapshot_load(m->snapshot)) == NULL) return RAFT_NOMEM;
  struct mio_event e;
  memset(&e, 0, sizeof e);
  e.type = EV_SNAP_GET;
  e.to = m;
  e.u.get.req = req;
  e.u.get.cb = cb;
  e.u.get.snapshot = snapshot;
  push(m->cluster, &e);
  return 0;
}

static raft_time m_time(struct raft_io* io) { return mio_now(impl(io)->cluster); }

static int m_random(struct raft_io* io, int min, int max) {
  struct mio* m = impl(io);
  m->rng ^= m->rng << 13;
  m->rng ^= m->rng >> 7;
  m->rng ^= m->rng << 17;
  if (max <= min) return min;
  return min + (int)(m->rng % (uint64_t)(max - min));
}

int mio_init(struct mio_cluster* c, unsigned n, struct raft_io* ios, bool virtual_clock) {
  if (n == 0 || n > MIO_MAX_SERVERS) return RAFT_INVALID;
  memset(c, 0, sizeof *c);
  c->n = n;
  c->virtual_clock = virtual_clock;
  c->start_ns = mio_now_ns();
  c->vnow = 1000;
  for (unsigned i = 0; i < n; i++) {
    struct mio* m = &c->servers[i];
    struct raft_io* io = &ios[i];
    memset(io, 0, sizeof *io);
    m->cluster = c;
    m->io = io;
    m->rng = 0x9E3779B97F4A7C15ull * (i + 1);
    io->version = 1;
    io->impl = m;
    io->init = m_init;
    io->close = m_close;
    io->load = m_load;
    io->start = m_start;
    io->bootstrap = m_bootstrap;
    io->recover = m_recover;
    io->set_term = m_set_term;
    io->set_vote = m_set_vote;
    io->send = m_send;
    io->append = m_append;
    io->truncate = m_truncate;
    io->snapshot_put = m_snapshot_put;
    io->snapshot_get = m_snapshot_get;
    io->time = m_time;
    io->random = m_random;
  }
  return 0;
}

void mio_close(struct mio_cluster* c) {
  free(c->ring);
  c->ring = NULL;
  for (unsigned i = 0; i < c->n; i++) {
    raft_free(c->servers[i].conf.base);
    snapshot_free(c->servers[i].snapshot);
    c->servers[i].snapshot = NULL;
  }
}

static void fire(struct mio_cluster* c, struct mio_event* e) {
  switch (e->type) {
    case EV_APPEND:
      e->u.append.cb(e->u.append.req, 0);
      break;
    case EV_SEND:
      if (e->u.send.cb != NULL) e->u.send.cb(e->u.send.req, 0);
      break;
    case EV_DELIVER:
      c->messages++;
      e->to->recv_cb(e->to->io, &e->u.msg);
      break;
    case EV_SNAP_PUT:
      snapshot_free(e->to->snapshot);
      e->to->snapshot = e->u.put.copy;
      e->u.put.cb(e->u.put.req, 0);
      break;
    case EV_SNAP_GET:
      e->u.get.cb(e->u.get.req, e->u.get.snapshot, e->u.get.snapshot != NULL ? 0 : RAFT_NOTFOUND);
      break;
  }
}

size_t mio_run(struct mio_cluster* c, size_t max_events) {
  size_t done = 0;
  while (done < max_events && c->count > 0) {
    /* Copy out first: firing may queue more events and move the ring. */
    struct mio_event e = c->ring[c->head];
    c->head = (c->head + 1) % c->cap;
    c->count--;
    fire(c, &e);
    done++;
  }
  raft_time now = mio_now(c);
  if (done == 0) {
    raft_time next = (raft_time)-1;
    for (unsigned i = 0; i < c->n; i++)
      if (c->servers[i].tick_cb != NULL && c->servers[i].next_tick < next)
        next = c->servers[i].next_tick;
    if (next != (raft_time)-1 && next > now) {
      if (c->virtual_clock) {
        c->vnow = next;
      } else {
        const raft_time ms = next - now;
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
      }
      now = mio_now(c);
    }
  }
  for (unsigned i = 0; i < c->n; i++) {
    struct mio* m = &c->servers[i];
    if (m->tick_cb != NULL && now >= m->next_tick) {
      m->next_tick = now + m->tick_ms;
      m->tick_cb(m->io);
    }
  }
  return done;
}
