#!/usr/bin/env bash
# The whole suite with the race detector while a CPU hog keeps every core
# busy: the suite must pass on a shared CI runner or a laptop in the middle
# of a build, not only on an idle machine.
#
#   scripts/test-stress.sh            # one run (make test-stress)
#   STRESS_RUNS=3 scripts/test-stress.sh
#
# The hog (internal/cpuhog) stops by itself: after STRESS_HOG_FOR, when
# this script exits, or when it is killed.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${STRESS_RUNS:-1}
hogfor=${STRESS_HOG_FOR:-60m}
go=${GO:-go}

mkdir -p bin
CGO_ENABLED=0 "$go" build -o bin/cpuhog ./internal/cpuhog

for i in $(seq 1 "$runs"); do
  echo "== stress run $i of $runs: go test -race with every core busy"
  ./bin/cpuhog -for "$hogfor" -parent $$ &
  hog=$!
  trap 'kill $hog 2>/dev/null || true' EXIT
  start=$(date +%s)
  status=0
  "$go" test -race -count=1 -timeout 45m ./... || status=$?
  kill "$hog" 2>/dev/null || true
  wait "$hog" 2>/dev/null || true
  trap - EXIT
  echo "== stress run $i: exit $status after $(( $(date +%s) - start )) s"
  if [ "$status" -ne 0 ]; then
    exit "$status"
  fi
done
echo "== stress: $runs run(s) passed"
