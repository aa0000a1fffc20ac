#!/usr/bin/env bash
# Instructions per entry by function, from a callgrind profile: callgrind
# splits a function's self cost by source file when code is inlined from
# headers (stl_vector.h:Log::append, log.cpp:Log::append...); this merges
# those lines per function and divides by the number of entries.
#   cg_summary.sh FILE ENTRIES [TOP]
# (Self costs only: inclusive costs of the per-file pieces overlap and cannot
# be merged this way; for those use callgrind_annotate --tree=caller.)
set -euo pipefail
file=$1 entries=$2 top=${3:-30}
callgrind_annotate --auto=no --threshold=100 "$file" 2>/dev/null |
  awk -v n="$entries" -v top="$top" '
    /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1; next }
    /^ *[0-9,]+ \(/ && total {
      ir = $1; gsub(",", "", ir)
      line = $0; sub(/^ *[0-9,]+ \( *[0-9.]+%\) +/, "", line)  # drop count and percent
      sub(/ \[[^]]*\]$/, "", line)                           # drop [object]
      i = index(line, ":"); fn = substr(line, i + 1)           # drop file:
      gsub(/\(anonymous namespace\)/, "{anon}", fn)
      sub(/\(.*$/, "", fn)                                     # drop the argument list
      cost[fn] += ir
    }
    END {
      printf "%12s %8s %6s  %s\n", "Ir", "Ir/entry", "share", "function (self cost, merged over files)"
      for (f in cost) printf "%12d %8.1f %5.1f%%  %s\n", cost[f], cost[f] / n, 100 * cost[f] / total, f
    }' | { read -r header; echo "$header"; sort -k1,1nr | head -n "$top"; }
