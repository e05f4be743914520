#!/usr/bin/env bash
# Runs every fuzz target in the module with the given budget each.
#
#   scripts/fuzz.sh 30s      # wall-clock budget per target (make fuzz)
#   scripts/fuzz.sh 20000x   # execution budget per target (make fuzz-smoke)
#
# An execution budget carries no deadline, so it is immune to the Go 1.26
# fuzz coordinator's shutdown race (a bare "context deadline exceeded" at
# the end of a -fuzztime window, with no failing input: golang/go#75804).
# With a wall-clock budget that race can still fire; a run that fails that
# way, writes no failing input and whose corpus then replays clean is
# reported as a harness hiccup, not a finding. Any failing input written
# fails the run, and its path is printed so it can be committed as a
# regression case.
#
# Minimizing a new interesting input is bounded (FUZZMINIMIZE, default
# 200x): unbounded, one large input can hold a worker for a minute.
set -euo pipefail
budget=${1:-30s}
minimize=${FUZZMINIMIZE:-200x}
cd "$(dirname "$0")/.."

failed=0
hiccups=0
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
for file in $targets; do
  dir=$(dirname "${file#./}")
  pkg="./$dir"
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
    echo "== $pkg $fn ($budget)"
    corpus="$dir/testdata/fuzz/$fn"
    before=$(ls "$corpus" 2>/dev/null | sort || true)
    log=$(mktemp)
    status=0
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$budget" -fuzzminimizetime "$minimize" "$pkg" 2>&1 | tee "$log" || status=$?
    after=$(ls "$corpus" 2>/dev/null | sort || true)
    written=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
    if [ "$status" -ne 0 ]; then
      if [ -z "$written" ] && grep -q 'context deadline exceeded' "$log" &&
        go test -count=1 -run "^${fn}\$" "$pkg" >/dev/null 2>&1; then
        echo "-- $fn: the fuzz coordinator stopped on its own deadline with no failing input; the corpus replays clean"
        hiccups=$((hiccups + 1))
      else
        for w in $written; do echo "-- failing input: $corpus/$w"; done
        failed=$((failed + 1))
      fi
    fi
    rm -f "$log"
  done
done
echo "fuzz: $failed failed, $hiccups coordinator hiccups"
[ "$failed" -eq 0 ]
