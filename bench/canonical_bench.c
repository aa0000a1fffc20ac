/* The peer: the same workloads as raft_bench, run on canonical raft 0.15
 * (Debian's libraft-dev, unpacked into build/peer; never in the same binary
 * as libraft, whose symbols collide).  Prints the same RESULT lines with
 * lib=canonical.
 *
 *   --mode w1   --nodes servers in one process on canonical_memio (see
 *               canonical_memio.h), one thread.  --window 0: batches of
 *               --batch entries (1024) per raft_apply, at most
 *               --inflight-batches of them unapplied on the leader (0: no
 *               limit).  --window W: at most W entries unapplied on the leader,
 *               proposed in as few raft_apply calls as the window allows.
 *               --window 1 reports the commit-and-apply latency.
 *   --mode w2   three servers on canonical's own libuv storage (raft_uv, each
 *               with its own directory under --data-dir) and TCP transport on
 *               127.0.0.1, one libuv loop; batches as in w1.
 *   --snapshot-threshold N   0 (the default): no snapshots, the whole log is
 *               retained.  N > 0: every server snapshots its FSM every N
 *               applied entries and compacts its log down to the 1024 entries
 *               before the snapshot (raft_set_snapshot_trailing, like libraft's
 *               default snapshot_trailing), so memory stays bounded; a follower
 *               that falls behind the leader's log is sent the snapshot.  The
 *               RESULT line then also reports the threshold and how many
 *               snapshots were taken, installed and sent (w1).
 * Every server's FSM checks that it applies entry k (id stamped in its first
 * bytes) k-th, so a run that loses or reorders entries fails.  Its state, and
 * so its snapshot, is the number of entries applied (8 bytes, native order);
 * restoring a snapshot sets that count, so the check goes on from there. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "canonical_memio.h"
#include "fsync_count.h"

#define MAX_BATCH 65536
#define TIMEOUT_MS 120000

struct server {
  struct raft raft;
  struct raft_io io;
  struct raft_fsm fsm;
  struct raft_uv_transport transport;
  uint64_t applied;
  uint64_t errors;
  unsigned index;
  char address[32];
  char dir[600];
  bool closed;
};

static struct server servers[MIO_MAX_SERVERS];
static unsigned n_servers;
static unsigned leader_index;
static size_t entry_size = 64;
static uint64_t awaited; /* latency mode: the entry being waited for */
static uint64_t awaited_apply_ns;
static uint64_t inflight_batches;
static uint64_t apply_failures;
static double sys_at_start; /* sys_seconds() when the timed part began */
static double tail_ms;      /* W1: from the leader applying the last entry to all applying it */
static unsigned snapshot_threshold; /* --snapshot-threshold; 0: no snapshots */
static uint64_t restores;           /* snapshots restored into an FSM */

/* ------------------------------------------------------------ arguments */

static int g_argc;
static char** g_argv;

static const char* arg_str(const char* key, const char* def) {
  size_t k = strlen(key);
  for (int i = 1; i < g_argc; i++) {
    const char* a = g_argv[i];
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, key, k) != 0) continue;
    if (a[2 + k] == '=') return a + 3 + k;
    if (a[2 + k] == '\0')
      return (i + 1 < g_argc && strncmp(g_argv[i + 1], "--", 2) != 0) ? g_argv[i + 1] : "1";
  }
  return def;
}

static uint64_t arg_num(const char* key, uint64_t def) {
  const char* s = arg_str(key, NULL);
  if (s == NULL) return def;
  char* end = NULL;
  unsigned long long v = strtoull(s, &end, 0);
  if (end == s || *end != '\0') {
    fprintf(stderr, "--%s: '%s' is not a number\n", key, s);
    exit(2);
  }
  return v;
}

static char data_base[512]; /* W2's directory, removed on every exit */

static void remove_data(void) {
  if (data_base[0] == '\0') return;
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_base);
  if (system(cmd) != 0) fprintf(stderr, "canonical_bench: could not remove %s\n", data_base);
  data_base[0] = '\0';
}

static void die(const char* what, const char* detail) {
  fprintf(stderr, "canonical_bench: %s%s%s\n", what, detail[0] ? ": " : "", detail);
  remove_data();
  exit(1);
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double sys_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long rusage_field(int which) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return which == 0 ? ru.ru_maxrss : ru.ru_minflt;
}

/* Resident set size now (not the peak), KiB. */
static long current_rss_kib(void) {
  FILE* f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f == NULL) return 0;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static long base_rss_kib; /* before any server exists */

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double percentile(double* v, size_t n, double p) {
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, cmp_double);
  size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

/* ------------------------------------------------------------ FSM */

static int fsm_apply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result) {
  struct server* s = fsm->data;
  uint64_t seq = ++s->applied, stamp = 0;
  size_t k = buf->len < sizeof stamp ? buf->len : sizeof stamp;
  memcpy(&stamp, buf->base, k);
  uint64_t expect = k < sizeof stamp ? (seq & ((1ull << (8 * k)) - 1)) : seq;
  if (stamp != expect) s->errors++;
  if (s->index == leader_index && seq == awaited) awaited_apply_ns = mio_now_ns();
  *result = NULL;
  return 0;
}

/* The FSM's whole state is its applied count (the next entry it expects is
 * applied + 1).  fsm.version is 1 (no snapshot_finalize), so raft owns what
 * this returns and releases it with raft_free once the snapshot is stored. */
static int fsm_snapshot(struct raft_fsm* fsm, struct raft_buffer* bufs[], unsigned* n_bufs) {
  const struct server* s = fsm->data;
  struct raft_buffer* b = raft_malloc(sizeof *b);
  void* state = raft_malloc(sizeof s->applied);
  if (b == NULL || state == NULL) {
    raft_free(b);
    raft_free(state);
    return RAFT_NOMEM;
  }
  memcpy(state, &s->applied, sizeof s->applied);
  b[0].base = state;
  b[0].len = sizeof s->applied;
  *bufs = b;
  *n_bufs = 1;
  return 0;
}

/* Takes ownership of buf->base only on success: when restore fails, canonical
 * raft frees the buffer itself (installSnapshotCb, raft_start). */
static int fsm_restore(struct raft_fsm* fsm, struct raft_buffer* buf) {
  struct server* s = fsm->data;
  uint64_t applied;
  if (buf->base == NULL || buf->len != sizeof applied) return RAFT_INVALID;
  memcpy(&applied, buf->base, sizeof applied);
  s->applied = applied;
  restores++;
  raft_free(buf->base);
  return 0;
}

static void setup_server(unsigned i) {
  struct server* s = &servers[i];
  s->index = i;
  s->fsm.version = 1;
  s->fsm.data = s;
  s->fsm.apply = fsm_apply;
  s->fsm.snapshot = fsm_snapshot;
  s->fsm.restore = fsm_restore;
}

/* The same timing as libraft's defaults.  By default no snapshots (the log
 * is retained); with --snapshot-threshold N a snapshot every N entries and
 * 1024 trailing entries kept, as libraft's snapshot_trailing default. */
static void tune(struct raft* r) {
  raft_set_election_timeout(r, (unsigned)arg_num("election-ms", 150));
  raft_set_heartbeat_timeout(r, (unsigned)arg_num("heartbeat-ms", 50));
  if (snapshot_threshold == 0) {
    raft_set_snapshot_threshold(r, UINT_MAX);
  } else {
    raft_set_snapshot_threshold(r, snapshot_threshold);
    raft_set_snapshot_trailing(r, 1024);
  }
}

/* ------------------------------------------------------------ proposals */

static void apply_cb(struct raft_apply* req, int status, void* result) {
  (void)result;
  if (status != 0) apply_failures++;
  inflight_batches--;
  free(req);
}

static uint64_t next_seq = 1;

static void propose(unsigned n) {
  static struct raft_buffer bufs[MAX_BATCH];
  for (unsigned i = 0; i < n; i++) {
    /* raft_apply takes ownership of raft_malloc'ed payloads, one per entry. */
    char* p = raft_malloc(entry_size);
    if (p == NULL) die("out of memory", "");
    memset(p, 0xA5, entry_size);
    uint64_t seq = next_seq + i;
    memcpy(p, &seq, entry_size < sizeof seq ? entry_size : sizeof seq);
    bufs[i].base = p;
    bufs[i].len = entry_size;
  }
  struct raft_apply* req = malloc(sizeof *req);
  if (req == NULL) die("out of memory", "");
  int rv = raft_apply(&servers[leader_index].raft, req, bufs, n, apply_cb);
  if (rv != 0) die("raft_apply", raft_strerror(rv));
  inflight_batches++;
  next_seq += n;
}

static uint64_t min_applied(void) {
  uint64_t m = UINT64_MAX;
  for (unsigned i = 0; i < n_servers; i++)
    if (servers[i].applied < m) m = servers[i].applied;
  return m;
}

/* One leader that everyone follows and whose log everyone has applied. */
static bool find_leader(void) {
  unsigned leaders = 0, li = 0;
  for (unsigned i = 0; i < n_servers; i++) {
    if (raft_state(&servers[i].raft) == RAFT_LEADER) {
      leaders++;
      li = i;
    }
  }
  if (leaders != 1) return false;
  for (unsigned i = 0; i < n_servers; i++) {
    raft_id id = 0;
    const char* addr = NULL;
    raft_leader(&servers[i].raft, &id, &addr);
    if (id != li + 1) return false;
    if (raft_last_applied(&servers[i].raft) < raft_last_index(&servers[li].raft)) return false;
  }
  leader_index = li;
  return true;
}

static bool leader_stable(void) { return raft_state(&servers[leader_index].raft) == RAFT_LEADER; }

/* How many to propose now, given the mode and what the leader has applied. */
static unsigned to_propose(uint64_t n_entries, uint64_t window, unsigned batch,
                           uint64_t max_batches) {
  if (next_seq > n_entries) return 0;
  uint64_t left = n_entries - next_seq + 1;
  uint64_t k;
  if (window == 0) {
    if (max_batches != 0 && inflight_batches >= max_batches) return 0;
    k = batch;
  } else {
    uint64_t unapplied = next_seq - 1 - servers[leader_index].applied;
    if (unapplied >= window) return 0;
    k = window - unapplied;
    if (k > batch) k = batch;
  }
  return (unsigned)(k < left ? k : left);
}

/* ------------------------------------------------------------ report */

struct run {
  const char* workload;
  uint64_t n_entries, window, batch;
  double secs, cpu;
  long faults;
  uint64_t msgs;
  double* lat;
  size_t n_lat;
  unsigned long syncs;
  bool durable;
  const struct mio_cluster* cluster; /* W1: its snapshot counters */
};

static void report(const struct run* r) {
  uint64_t errors = 0;
  for (unsigned i = 0; i < n_servers; i++) errors += servers[i].errors;
  if (errors != 0 || apply_failures != 0) die("entries were lost, reordered or failed", "");
  double per_s = (double)r->n_entries / r->secs;
  printf(
      "RESULT lib=canonical workload=%s nodes=%u size=%zu entries=%llu window=%llu batch=%llu"
      " seconds=%.6g entries_per_s=%.6g bytes_per_s=%.6g cpu_seconds=%.6g",
      r->workload, n_servers, entry_size, (unsigned long long)r->n_entries,
      (unsigned long long)r->window, (unsigned long long)r->batch, r->secs, per_s,
      per_s * (double)entry_size, r->cpu);
  printf(" sys_seconds=%.6g", sys_seconds() - sys_at_start);
  if (!r->durable)
    printf(" tail_ms=%.6g msgs_per_entry=%.6g", tail_ms, (double)r->msgs / (double)r->n_entries);
  const long peak = rusage_field(0);
  printf(" minflt_per_entry=%.6g peak_rss_mib=%.6g base_rss_mib=%.6g overhead_per_entry=%.6g",
         (double)r->faults / (double)r->n_entries, (double)peak / 1024.0,
         (double)base_rss_kib / 1024.0,
         (double)(peak - base_rss_kib) * 1024.0 / (double)(r->n_entries * n_servers) -
             (double)entry_size);
  if (r->durable)
    printf(" fdatasync=%lu fdatasync_per_entry=%.6g fsync=%lu", r->syncs,
           (double)r->syncs / (double)r->n_entries, bench_fsync_calls());
  if (r->n_lat > 0)
    printf(" p50_us=%.6g p99_us=%.6g", percentile(r->lat, r->n_lat, 50),
           percentile(r->lat, r->n_lat, 99));
  if (snapshot_threshold != 0) {
    printf(" snapshot_threshold=%u restores=%llu", snapshot_threshold,
           (unsigned long long)restores);
    if (r->cluster != NULL)
      printf(" snapshots_taken=%llu snapshots_installed=%llu snapshots_sent=%llu",
             (unsigned long long)r->cluster->snapshots_put,
             (unsigned long long)r->cluster->snapshots_installed,
             (unsigned long long)r->cluster->snapshots_sent);
  }
  printf("\n");
  fflush(stdout);
}

/* ------------------------------------------------------------ W1 */

static int mode_w1(void) {
  uint64_t n_entries = arg_num("entries", 1000000);
  uint64_t window = arg_num("window", 0);
  uint64_t batch = arg_num("batch", 1024);
  uint64_t max_batches = arg_num("inflight-batches", 0);
  if (batch == 0 || batch > MAX_BATCH) die("--batch must be 1..65536", "");
  static struct mio_cluster cluster;
  static struct raft_io ios[MIO_MAX_SERVERS];
  if (mio_init(&cluster, n_servers, ios, arg_str("virtual-clock", NULL) != NULL) != 0)
    die("bad --nodes", "");
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  for (unsigned i = 0; i < n_servers; i++) {
    struct server* s = &servers[i];
    setup_server(i);
    snprintf(s->address, sizeof s->address, "%u", i + 1);
    int rv = raft_init(&s->raft, &ios[i], &s->fsm, i + 1, s->address);
    if (rv != 0) die("raft_init", raft_strerror(rv));
    tune(&s->raft);
    if (raft_configuration_add(&conf, i + 1, s->address, RAFT_VOTER) != 0)
      die("raft_configuration_add", "");
  }
  for (unsigned i = 0; i < n_servers; i++) {
    int rv = raft_bootstrap(&servers[i].raft, &conf);
    if (rv == 0) rv = raft_start(&servers[i].raft);
    if (rv != 0) die("raft_bootstrap/start", raft_strerror(rv));
  }
  raft_configuration_close(&conf);
  raft_time t_elect = mio_now(&cluster);
  while (!find_leader()) {
    mio_run(&cluster, 1024);
    if (mio_now(&cluster) - t_elect > 60000) die("no leader after 60 s", "");
  }

  double* lat = NULL;
  size_t n_lat = 0;
  if (window == 1 && (lat = malloc(n_entries * sizeof *lat)) == NULL) die("out of memory", "");
  long faults0 = rusage_field(1);
  uint64_t msgs0 = cluster.messages;
  double cpu0 = cpu_seconds();
  sys_at_start = sys_seconds();
  uint64_t t0 = mio_now_ns();
  uint64_t leader_done_ns = 0; /* the rest: followers learning the last commit */
  while (min_applied() < n_entries) {
    if (window == 1 && next_seq <= n_entries) {
      awaited = next_seq;
      uint64_t start = mio_now_ns();
      propose(1);
      while (servers[leader_index].applied < awaited) mio_run(&cluster, 64);
      lat[n_lat++] = (double)(awaited_apply_ns - start) / 1000.0;
      continue;
    }
    unsigned k;
    while ((k = to_propose(n_entries, window, (unsigned)batch, max_batches)) > 0) propose(k);
    mio_run(&cluster, 4096);
    if (leader_done_ns == 0 && servers[leader_index].applied >= n_entries)
      leader_done_ns = mio_now_ns();
    if (!leader_stable()) die("the leader lost its leadership during the run", "");
    if ((mio_now_ns() - t0) / 1000000 > TIMEOUT_MS) die("timed out", "");
  }
  uint64_t t1 = mio_now_ns();
  tail_ms = (double)(t1 - (leader_done_ns != 0 ? leader_done_ns : t1)) / 1e6;
  struct run r = {window == 0   ? "w1_batch"
                  : window == 1 ? "w1_latency_poll"
                                : "w1_window",
                  n_entries,
                  window,
                  batch,
                  (double)(t1 - t0) / 1e9,
                  cpu_seconds() - cpu0,
                  rusage_field(1) - faults0,
                  cluster.messages - msgs0,
                  lat,
                  n_lat,
                  0,
                  false,
                  &cluster};
  const char* label = arg_str("label", NULL);
  if (label != NULL) r.workload = label;
  report(&r);
  free(lat);
  /* No teardown: the process exits (raft_close of 1M entries would only add
   * to the measured instructions of the callgrind runs). */
  return 0;
}

/* ------------------------------------------------------------ W2 */

static unsigned closed_count;

static void close_cb(struct raft* r) {
  struct server* s = r->data;
  raft_uv_close(&s->io);
  raft_uv_tcp_close(&s->transport);
  s->closed = true;
  closed_count++;
}

/* A port nobody listens on right now (bound, then released). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0 ||
      getsockname(fd, (struct sockaddr*)&a, &len) != 0)
    die("cannot find a free TCP port", strerror(errno));
  close(fd);
  return ntohs(a.sin_port);
}

static int mode_w2(void) {
  uint64_t n_entries = arg_num("entries", 200000);
  uint64_t batch = arg_num("batch", 1024);
  uint64_t max_batches = arg_num("inflight-batches", 0);
  const char* root = arg_str("data-dir", "build/bench/data");
  if (batch == 0 || batch > MAX_BATCH) die("--batch must be 1..65536", "");
  char* base = data_base;
  snprintf(base, sizeof data_base, "%s/canonical-%d", root, (int)getpid());
  char cmd[600];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", base);
  if (system(cmd) != 0) die("cannot create", base);

  uv_loop_t loop;
  uv_loop_init(&loop);
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  for (unsigned i = 0; i < n_servers; i++) {
    struct server* s = &servers[i];
    setup_server(i);
    snprintf(s->address, sizeof s->address, "127.0.0.1:%d", free_port());
    snprintf(s->dir, sizeof s->dir, "%s/n%u", base, i + 1);
    if (mkdir(s->dir, 0755) != 0) die("mkdir", s->dir);
    int rv = raft_uv_tcp_init(&s->transport, &loop);
    if (rv == 0) rv = raft_uv_init(&s->io, &loop, s->dir, &s->transport);
    if (rv != 0) die("raft_uv_init", raft_strerror(rv));
    rv = raft_init(&s->raft, &s->io, &s->fsm, i + 1, s->address);
    if (rv != 0) die("raft_init", raft_strerror(rv));
    s->raft.data = s;
    tune(&s->raft);
    raft_configuration_add(&conf, i + 1, s->address, RAFT_VOTER);
  }
  for (unsigned i = 0; i < n_servers; i++) {
    int rv = raft_bootstrap(&servers[i].raft, &conf);
    if (rv == 0) rv = raft_start(&servers[i].raft);
    if (rv != 0) die("raft_bootstrap/start", raft_errmsg(&servers[i].raft));
  }
  raft_configuration_close(&conf);
  uint64_t t_elect = mio_now_ns();
  while (!find_leader()) {
    uv_run(&loop, UV_RUN_ONCE);
    if ((mio_now_ns() - t_elect) / 1000000 > 60000) die("no leader after 60 s", "");
  }

  unsigned long syncs0 = bench_fdatasync_calls();
  long faults0 = rusage_field(1);
  double cpu0 = cpu_seconds();
  sys_at_start = sys_seconds();
  uint64_t t0 = mio_now_ns();
  while (min_applied() < n_entries) {
    unsigned k;
    while ((k = to_propose(n_entries, 0, (unsigned)batch, max_batches)) > 0) propose(k);
    uv_run(&loop, UV_RUN_ONCE);
    if (!leader_stable()) die("the leader lost its leadership during the run", "");
    if ((mio_now_ns() - t0) / 1000000 > TIMEOUT_MS) die("timed out", "");
  }
  struct run r = {"w2",
                  n_entries,
                  0,
                  batch,
                  (double)(mio_now_ns() - t0) / 1e9,
                  cpu_seconds() - cpu0,
                  rusage_field(1) - faults0,
                  0,
                  NULL,
                  0,
                  bench_fdatasync_calls() - syncs0,
                  true,
                  NULL};
  report(&r);

  for (unsigned i = 0; i < n_servers; i++) raft_close(&servers[i].raft, close_cb);
  while (closed_count < n_servers) uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  remove_data();
  return 0;
}

int main(int argc, char** argv) {
  g_argc = argc;
  g_argv = argv;
  n_servers = (unsigned)arg_num("nodes", 3);
  entry_size = (size_t)arg_num("size", 64);
  if (n_servers < 1 || n_servers > MIO_MAX_SERVERS) die("--nodes must be 1..8", "");
  if (entry_size == 0) die("--size must be at least 1", "");
  const uint64_t threshold = arg_num("snapshot-threshold", 0);
  if (threshold > UINT_MAX) die("--snapshot-threshold must be 0..4294967295", "");
  snapshot_threshold = (unsigned)threshold;
  base_rss_kib = current_rss_kib();
  const char* mode = arg_str("mode", "w1");
  if (strcmp(mode, "w1") == 0) return mode_w1();
  if (strcmp(mode, "w2") == 0) return mode_w2();
  die("unknown --mode", mode);
  return 2;
}
