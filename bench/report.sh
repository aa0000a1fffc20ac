#!/usr/bin/env bash
# make bench: runs every workload on libraft and on canonical raft in the same
# run on the same machine, then prints one table (also saved as
# $OUT/table.md; every raw RESULT line is in $OUT/results.txt).
#
# Key figures run REPEAT times, alternating the two libraries so that load
# from other processes hits both alike; the table shows the median.  The
# settings of each library are below and can be overridden from the
# environment (documented in docs/performance.md).
# The *_ARGS variables are option lists, word-split on purpose:
# shellcheck disable=SC2086
set -uo pipefail

OURS=${OURS:?path to raft_bench}
PEER=${PEER:?path to canonical_bench}
OUT=${OUT:-build/bench}
DATA=${DATA:-$OUT/data}
REPEAT=${REPEAT:-3}
W1_ENTRIES=${W1_ENTRIES:-1000000}
# W1 with compaction: both libraries snapshot every this many entries.
COMPACT_EVERY=${COMPACT_EVERY:-100000}
WINDOW_ENTRIES=${WINDOW_ENTRIES:-200000}
LAT_ENTRIES=${LAT_ENTRIES:-100000}
RUN_LAT_ENTRIES=${RUN_LAT_ENTRIES:-20000}
W2_ENTRIES=${W2_ENTRIES:-200000}
CG_ENTRIES=${CG_ENTRIES:-100000}
GRID_ENTRIES_SMALL=${GRID_ENTRIES_SMALL:-1000000}
# libraft: a proposal queue of 1 MiB per turn (see docs/performance.md: with
# the 64 MiB default one turn of W1 outlasts the election timeout).
OURS_ARGS=${OURS_ARGS:---max-queue-bytes 1048576}
# canonical raft: batches of 1024 entries per raft_apply, 16 batches in flight
# (its best setting here; unlimited is 3x slower and loses leadership).
PEER_ARGS=${PEER_ARGS:---batch 1024 --inflight-batches 16}
PEER_W2_ARGS=${PEER_W2_ARGS:---batch 1024 --inflight-batches 16}

mkdir -p "$OUT" "$DATA"
RAW=$OUT/results.txt
ERR=$OUT/stderr.log
: >"$RAW"
: >"$ERR"
say() { printf '%s\n' "$*" >&2; }

# run KEY CMD...: one run; appends "KEY field=value ..." or "KEY FAIL".
run() {
  local key=$1 out
  shift
  echo "== $key: $*" >>"$ERR"
  local -a limit=(timeout 600)
  declare -F "$1" >/dev/null && limit=()  # a shell function (it bounds itself)
  if out=$("${limit[@]}" "$@" 2>>"$ERR" | grep '^RESULT') && [ -n "$out" ]; then
    # Derived: entries per CPU-second (robust to other load on the machine).
    echo "$key ${out#RESULT }" | awk '{ e = 0; c = 0; y = 0; for (i = 2; i <= NF; i++) {
        n = index($i, "="); k = substr($i, 1, n - 1); v = substr($i, n + 1)
        if (k == "entries") e = v; if (k == "cpu_seconds") c = v; if (k == "sys_seconds") y = v }
      if (e > 0 && c > 0) $0 = $0 " cpu_rate=" e / c " sys_share=" y / c; print }' >>"$RAW"
  else
    echo "$key FAIL" >>"$RAW"
    say "  FAILED: $* (see $ERR)"
  fi
}

# pair KEY_OURS CMD_OURS -- KEY_PEER CMD_PEER: REPEAT rounds, alternating.
pair() {
  local ko=$1 kp
  shift
  local -a co=() cp=()
  while [ "$1" != -- ]; do co+=("$1"); shift; done
  shift
  kp=$1
  shift
  cp=("$@")
  for ((i = 0; i < REPEAT; i++)); do
    run "$ko" "${co[@]}"
    run "$kp" "${cp[@]}"
  done
}

# get KEY FIELD: the median of FIELD over KEY's runs, or FAIL.
get() {
  local vals n
  vals=$(awk -v k="$1" -v f="$2" '$1 == k { for (i = 2; i <= NF; i++) {
           n = index($i, "="); if (substr($i, 1, n - 1) == f) print substr($i, n + 1) } }' "$RAW" |
         sort -g)
  if [ -z "$vals" ]; then echo FAIL; return; fi
  n=$(wc -l <<<"$vals")
  sed -n "$(((n + 1) / 2))p" <<<"$vals"
}

# Number formatting.  fmt KIND VALUE
fmt() {
  [ "$2" = FAIL ] && { echo FAIL; return; }
  [ "$2" = - ] && { echo -; return; }
  awk -v k="$1" -v v="$2" 'BEGIN {
    if (k == "rate") printf "%.3g M/s", v / 1e6;
    else if (k == "bytes") printf "%.3g GB/s", v / 1e9;
    else if (k == "us") printf "%.3g us", v;
    else if (k == "ms") printf "%.3g ms", v;
    else if (k == "pct") printf "%.0f%%", v * 100;
    else if (k == "mib") printf "%.0f MB", v * 1.048576;
    else if (k == "num") printf "%.4g", v;
    else if (k == "count") printf (v % 1000000 == 0) ? "%dM" : "%d", (v % 1000000 == 0) ? v / 1e6 : v;
    else printf "%s", v }'
}

# ratio HOW OURS PEER: how many times better libraft is (>1 = better).
ratio() {
  case "$2$3" in *FAIL* | *-*) echo -; return ;; esac
  awk -v h="$1" -v o="$2" -v p="$3" 'BEGIN {
    if (o <= 0 || p <= 0) { print "-"; exit }
    printf "%.2fx", (h == "higher") ? o / p : p / o }'
}

# check EXPR with o (ours) and r (ratio number): yes/NO, or - when no target.
check() {
  local expr=$1 o=$2 r=$3
  [ -z "$expr" ] && { echo -; return; }
  case "$o" in FAIL) echo NO; return ;; esac
  r=${r%x}
  [ "$r" = - ] && r=0
  awk -v o="$o" -v r="$r" "BEGIN { print ($expr) ? \"yes\" : \"NO\" }"
}

ROWS=()
row() { ROWS+=("$1|$2|$3|$4|$5|$6"); }

# metric ROWNAME KIND HOW KEY_OURS KEY_PEER FIELD TARGET_TEXT TARGET_EXPR
metric() {
  local name=$1 kind=$2 how=$3 ko=$4 kp=$5 field=$6 ttext=$7 texpr=$8 o p r
  o=$(get "$ko" "$field")
  if [ -n "$kp" ]; then p=$(get "$kp" "$field"); else p=-; fi
  r=$(ratio "$how" "$o" "$p")
  row "$name" "$(fmt "$kind" "$o")" "$(fmt "$kind" "$p")" "$r" "$ttext" "$(check "$texpr" "$o" "$r")"
}

say "libraft benchmark: $REPEAT rounds of the key figures; raw results in $RAW"
say "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"

say "- memcpy reference"
run memcpy "$OURS" --mode memcpy

say "- W1: $W1_ENTRIES x 64 B, everything proposed at once"
pair o.w1 "$OURS" --mode w1 --entries "$W1_ENTRIES" $OURS_ARGS -- \
     p.w1 "$PEER" --mode w1 --entries "$W1_ENTRIES" $PEER_ARGS

say "- W1 with compaction: a snapshot every $COMPACT_EVERY entries (chunks reused, no retained log)"
pair o.w1c "$OURS" --mode w1 --entries "$W1_ENTRIES" --snapshot-interval "$COMPACT_EVERY" $OURS_ARGS -- \
     p.w1c "$PEER" --mode w1 --entries "$W1_ENTRIES" --snapshot-threshold "$COMPACT_EVERY" $PEER_ARGS

say "- W1: window of 64"
pair o.win "$OURS" --mode w1 --window 64 --entries "$WINDOW_ENTRIES" $OURS_ARGS -- \
     p.win "$PEER" --mode w1 --window 64 --entries "$WINDOW_ENTRIES" $PEER_ARGS

say "- W1: one at a time (poll mode latency)"
pair o.lat "$OURS" --mode w1 --window 1 --entries "$LAT_ENTRIES" $OURS_ARGS -- \
     p.lat "$PEER" --mode w1 --window 1 --entries "$LAT_ENTRIES" $PEER_ARGS

say "- W1: one at a time, three raft_node_run threads"
for ((i = 0; i < REPEAT; i++)); do
  run o.runlat "$OURS" --mode run-latency --entries "$RUN_LAT_ENTRIES" $OURS_ARGS
done

say "- W2 durable: $W2_ENTRIES x 64 B, data directories under $DATA"
pair o.w2 "$OURS" --mode w2 --driver run --window 0 --entries "$W2_ENTRIES" --data-dir "$DATA" $OURS_ARGS -- \
     p.w2 "$PEER" --mode w2 --entries "$W2_ENTRIES" --data-dir "$DATA" $PEER_W2_ARGS
run o.w2poll "$OURS" --mode w2 --driver poll --entries "$W2_ENTRIES" --data-dir "$DATA" $OURS_ARGS

if command -v valgrind >/dev/null; then
  say "- callgrind: $CG_ENTRIES entries and a 0-entry baseline, each library"
  run o.cg "$OURS" --callgrind --entries "$CG_ENTRIES" --out-dir "$OUT" $OURS_ARGS
  run o.cgnorep "$OURS" --callgrind --no-rep-string --entries "$CG_ENTRIES" --out-dir "$OUT" $OURS_ARGS
  # The same method as raft_bench --callgrind: N entries minus a 0-entry run.
  peer_cg() {
    local tag=$1 n t0=0 t1=0
    for n in "$CG_ENTRIES" 0; do
      env ${2:+"$2"} valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$tag.$n" "$PEER" \
        --mode w1 --virtual-clock --entries "$n" $PEER_ARGS >/dev/null 2>"$OUT/callgrind.$tag.$n.log" || return 1
    done
    t0=$(awk '/^(summary|totals):/ {print $2; exit}' "$OUT/callgrind.$tag.$CG_ENTRIES")
    t1=$(awk '/^(summary|totals):/ {print $2; exit}' "$OUT/callgrind.$tag.0")
    echo "RESULT lib=canonical workload=callgrind entries=$CG_ENTRIES total_instr=$t0 baseline_instr=$t1 instr_per_entry=$(((t0 - t1) / CG_ENTRIES))"
  }
  run p.cg peer_cg canonical
  run p.cgnorep peer_cg canonical-norep \
    GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295:glibc.cpu.x86_rep_stosb_threshold=4294967295
  if command -v callgrind_annotate >/dev/null; then
    for tag in libraft canonical; do
      bench/cg_summary.sh "$OUT/callgrind.$tag.$CG_ENTRIES" "$CG_ENTRIES" 40 \
        >"$OUT/profile.$tag.txt" 2>/dev/null
    done
  fi
else
  say "- callgrind: valgrind is not installed; skipped"
fi

say "- scaling grid: 3/5/7 nodes x 16 B/64 B/1 KiB/64 KiB"
grid_entries() {
  case $1 in 16 | 64) echo "$GRID_ENTRIES_SMALL" ;; 1024) echo 100000 ;; *) echo 2000 ;; esac
}
for nodes in 3 5 7; do
  for size in 16 64 1024 65536; do
    n=$(grid_entries "$size")
    # canonical's batches are bounded in bytes too (1 MiB), like libraft's messages.
    pb=$((1048576 / size)); [ "$pb" -gt 1024 ] && pb=1024; [ "$pb" -lt 1 ] && pb=1
    run "o.g$nodes.$size" "$OURS" --mode w1 --nodes "$nodes" --size "$size" --entries "$n" $OURS_ARGS
    run "p.g$nodes.$size" "$PEER" --mode w1 --nodes "$nodes" --size "$size" --entries "$n" \
      --batch "$pb" --inflight-batches 16
  done
done

# ------------------------------------------------------------------ the table
row "workload" "libraft" "canonical raft" "ratio (>1: libraft better)" "target" "met?"
row "---" "---" "---" "---" "---" "---"
metric "W1 $(fmt count "$W1_ENTRIES") x 64 B, all at once: entries/s" rate higher o.w1 p.w1 entries_per_s \
  ">= 10 M/s and >= 5x" "o >= 10e6 && r >= 5"
metric "W1 all at once: entries per CPU-second" rate higher o.w1 p.w1 cpu_rate "" ""
metric "W1 all at once: share of CPU time in the kernel (page faults)" pct lower o.w1 p.w1 sys_share "" ""
metric "W1 all at once: tail (leader applied all -> all applied)" ms lower o.w1 p.w1 tail_ms "" ""
metric "W1 all at once: peak RSS ($(fmt count "$W1_ENTRIES") entries retained x 3 nodes)" mib lower o.w1 p.w1 peak_rss_mib \
  "<= 256 MB" "o <= 256 / 1.048576"
metric "W1 all at once: bytes per entry per node beyond payload" num lower o.w1 p.w1 \
  overhead_per_entry "" ""
metric "W1 all at once: page faults per entry" num lower o.w1 p.w1 minflt_per_entry "" ""
metric "W1 with compaction every $(fmt count "$COMPACT_EVERY"): entries/s" rate higher o.w1c p.w1c entries_per_s "" ""
metric "W1 with compaction: peak RSS" mib lower o.w1c p.w1c peak_rss_mib "" ""
metric "W1 with compaction: page faults per entry" num lower o.w1c p.w1c minflt_per_entry "" ""
metric "W1 instructions per committed entry (callgrind)" num lower o.cg p.cg instr_per_entry \
  "<= 500" "o <= 500"
# valgrind counts each byte a rep movsb moves as one instruction (the CPU
# retires the whole copy as one): the row below counts with glibc's vector
# copy loops instead, every instruction counted as executed.
metric "  the same, memcpy/memset without rep movsb/stosb" num lower o.cgnorep p.cgnorep \
  instr_per_entry "<= 500" "o <= 500"
metric "W1 window 64: entries/s" rate higher o.win p.win entries_per_s "" ""
metric "W1 one at a time, poll: latency p50" us lower o.lat p.lat p50_us "<= 3 us" "o <= 3"
metric "W1 one at a time, poll: latency p99" us lower o.lat p.lat p99_us "" ""
metric "W1 one at a time, 3 run threads: latency p50" us lower o.runlat "" p50_us "<= 20 us" "o <= 20"
metric "W1 one at a time, 3 run threads: latency p99" us lower o.runlat "" p99_us "" ""
metric "W2 durable, all at once: entries/s" rate higher o.w2 p.w2 entries_per_s \
  ">= 1 M/s and >= 3x" "o >= 1e6 && r >= 3"
metric "W2 durable: fdatasync calls per entry" num lower o.w2 "" fdatasync_per_entry "" ""
metric "W2 durable, one polling thread: entries/s" rate higher o.w2poll p.w2 entries_per_s "" ""
mem_bw=$(get memcpy bytes_per_s)
for nodes in 3 5 7; do
  for size in 16 64 1024 65536; do
    metric "W1 scaling: $nodes nodes x $size B: entries/s" rate higher "o.g$nodes.$size" \
      "p.g$nodes.$size" entries_per_s "" ""
  done
  metric "W1 scaling: $nodes nodes x 64 KiB: bytes/s" bytes higher "o.g$nodes.65536" \
    "p.g$nodes.65536" bytes_per_s "approach memcpy $(fmt bytes "$mem_bw")" ""
done
row "reference: memcpy of 256 MiB / of 64-byte records" "$(fmt bytes "$mem_bw")" \
  "$(fmt rate "$(get memcpy records64_per_s)") records" "-" "-" "-"

# Aligned markdown.
{
  printf '%s\n' "${ROWS[@]}" | awk -F'|' '
    { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf = NF }
    END { for (r = 1; r <= n; r++) { line = "|"
            for (i = 1; i <= nf; i++) {
              c = cell[r, i]
              if (c == "---") { c = ""; while (length(c) < w[i]) c = c "-" }
              line = line sprintf(" %-" w[i] "s |", c) }
            print line } }'
  echo
  echo "Settings: libraft $OURS_ARGS; canonical raft $PEER_ARGS (W2: $PEER_W2_ARGS)."
  echo "Median of $REPEAT runs for the W1, W2 and latency rows; the grid runs once."
  echo "Machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(date -u +%Y-%m-%dT%H:%MZ)."
} | tee "$OUT/table.md"
