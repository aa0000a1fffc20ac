#!/usr/bin/env bash
# The shared library's ABI against the committed baseline (abidw XML, tests/abi/libraft.so.N.abi).
#
#   check-abi-compat.sh BASELINE LIBRARY            compare (make check-abi-compat, in make check)
#   check-abi-compat.sh --record BASELINE LIBRARY   write the baseline (make abi-baseline)
#
# Both sides are abidw output made with the same flags, so the comparison is of like with like
# (abidiff of an XML baseline against a binary reports differently).  abidiff's exit status
# cannot tell an addition from a change (both are "ABI change", bit 4), so its summary lines are
# read: added functions or variables pass; anything removed or changed fails, including a field
# appended to a public struct, which abidiff cannot know is compatible by design.
set -euo pipefail

abidw_flags=(--headers-dir "$(dirname "$0")/../../include" --drop-private-types
  --exported-interfaces-only --drop-undefined-syms --no-corpus-path --no-show-locs)

record=0
if [[ ${1:-} == --record ]]; then
  record=1
  shift
fi
if [[ $# -ne 2 ]]; then
  echo "usage: $0 [--record] BASELINE LIBRARY" >&2
  exit 2
fi
baseline=$1 lib=$2

if [[ $record == 1 ]]; then
  abidw "${abidw_flags[@]}" --out-file "$baseline" "$lib"
  echo "wrote $baseline from $lib; review it (git diff) and commit it"
  exit 0
fi
if [[ ! -f $baseline ]]; then
  echo "no baseline yet; record one at release time with make abi-baseline"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
abidw "${abidw_flags[@]}" --out-file "$tmp/current.abi" "$lib"
rc=0
abidiff "$baseline" "$tmp/current.abi" > "$tmp/report" 2>&1 || rc=$?
cat "$tmp/report"
if ((rc & 3)); then
  echo "FAIL: abidiff could not compare $baseline with $lib (status $rc)" >&2
  exit 1
fi

# "Functions changes summary: 0 Removed, 1 Changed (1 filtered out), 2 Added functions", and the
# same for variables and for symbols without debug information.  A filtered-out change still
# counts: only additions are known to be harmless.
breaking=$(grep -E 'changes summary:' "$tmp/report" |
  grep -oE '[0-9]+ (Removed|Changed)|[0-9]+ filtered out' | awk '$1 > 0' || true)
if ((rc & 8)) || [[ -n $breaking ]]; then
  cat >&2 << EOF
FAIL: the ABI of $lib differs from the committed baseline $baseline (report above).
  Programs built against $(basename "$baseline" .abi) must keep working, so:
  * A function removed or its signature changed, or a public struct field removed, moved,
    resized or retyped: that breaks them.  Undo it, or bump RAFT_VERSION_MAJOR in include/raft.h
    (a new SONAME), start a new version node in src/raft.map, and record a new baseline with
    'make abi-baseline'.
  * A field appended at the end of a versioned public struct (its version constant, e.g.
    RAFT_OPTIONS_VERSION, bumped; the library reading the new field only when the caller's
    version says it is there) is compatible by design, but abidiff cannot know that.  After
    reviewing exactly that, run 'make abi-baseline' and commit the new baseline with the change
    (and bump RAFT_VERSION_MINOR).
EOF
  exit 1
fi
if ((rc & 4)); then
  echo "ok: compatible additions only (above); put new functions in a new version node of"
  echo "    src/raft.map, bump RAFT_VERSION_MINOR, and record them with 'make abi-baseline'"
else
  echo "ok: ABI unchanged from $baseline"
fi
