#!/usr/bin/env bash
# cost-curves.sh: run every cost curve of docs/performance.md ("Cost
# curves") on SQLite and on PostgreSQL, and print the tables in the doc's
# format, with the machine they ran on. Run it on a quiet machine: every
# figure is a latency or a rate.
#
#   scripts/cost-curves.sh                 # everything: about an hour
#   CURVES_LARGE=0 scripts/cost-curves.sh  # 10k entries / 1k pending only, a 10 s knee step
#
# Environment:
#   CURVES_LARGE   1 (default): 100k and 1M audit entries, 10,000 pending approvals
#   CURVES_RAMP    the knee search's rates, FROM:TO:STEP (default 500:2000:250)
#   CURVES_STEP    how long each rate is sent (default 60s; 10s with CURVES_LARGE=0)
#   CURVES_OUT     where the raw outputs go (default a new temporary folder)
#   CURVES_REPORT_ONLY=1  run nothing: print the tables from CURVES_OUT's outputs
#   DESKBOT_TEST_POSTGRES  the PostgreSQL server (default the development one)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
LARGE=${CURVES_LARGE:-1}
RAMP=${CURVES_RAMP:-500:2000:250}
if [ "$LARGE" = 1 ]; then STEP=${CURVES_STEP:-60s}; else STEP=${CURVES_STEP:-10s}; fi
OUT=${CURVES_OUT:-$(mktemp -d -t deskbot-curves-XXXXXX)}
PG=${DESKBOT_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
mkdir -p "$OUT"
export DESKBOT_BENCH_LARGE=$LARGE DESKBOT_REQUIRE_POSTGRES=1

log() { echo "== $*" >&2; }

if [ "${CURVES_REPORT_ONLY:-0}" != 1 ]; then
log "authorize (internal/authz)"
$GO test -run '^$' -bench AuthorizeCurve -benchtime 2s -count 1 ./internal/authz/ | tee "$OUT/authz.txt" >&2
log "audit verify and search (internal/audit): seeding 1M entries takes minutes a store"
$GO test -run '^$' -bench AuditCurve -benchtime 1s -count 1 -timeout 3h -v ./internal/audit/ | tee "$OUT/audit.txt" >&2
log "approvals listing (internal/engine)"
$GO test -run '^$' -bench ApprovalsCurve -benchtime 2s -count 1 -timeout 1h ./internal/engine/ | tee "$OUT/approvals.txt" >&2

log "the knee: bot loadtest --ramp $RAMP --duration $STEP, on SQLite then PostgreSQL, with the default mix then the echo plugin alone"
make build >&2
# The default mix reaches three providers' simulators, which run on this
# machine too; the echo plugin alone leaves the bot's own pipeline.
ECHO="/example echo text=load"
bin/bot loadtest --ramp "$RAMP" --duration "$STEP" --json > "$OUT/knee-sqlite.json" || true
bin/bot loadtest --ramp "$RAMP" --duration "$STEP" --commands "$ECHO" --json > "$OUT/knee-sqlite-echo.json" || true
schema="curves_$$"
if command -v psql >/dev/null && psql "$PG" -qc "CREATE SCHEMA $schema" >&2; then
	sep='?'; case "$PG" in *\?*) sep='&';; esac
	export CURVES_PG_DSN="$PG${sep}search_path=$schema"
	bin/bot loadtest --ramp "$RAMP" --duration "$STEP" --postgres-dsn-env CURVES_PG_DSN --json > "$OUT/knee-postgres.json" || true
	psql "$PG" -qc "DROP SCHEMA $schema CASCADE; CREATE SCHEMA $schema" >&2 || true
	bin/bot loadtest --ramp "$RAMP" --duration "$STEP" --postgres-dsn-env CURVES_PG_DSN --commands "$ECHO" --json > "$OUT/knee-postgres-echo.json" || true
	psql "$PG" -qc "DROP SCHEMA $schema CASCADE" >&2 || true
else
	log "no psql, or PostgreSQL refused CREATE SCHEMA: the PostgreSQL knee is left out"
	echo '{}' > "$OUT/knee-postgres.json"
	echo '{}' > "$OUT/knee-postgres-echo.json"
fi
fi

model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cores=$(nproc)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
knee() { sed -n 's/^  "knee": \([0-9]*\),/\1/p' "$1"; }

cat "$OUT/authz.txt" "$OUT/audit.txt" "$OUT/approvals.txt" | awk \
	-v machine="$model, $cores cores, $mem, $($GO env GOVERSION), $(date -u +%Y-%m-%d)" \
	-v knee_sqlite="$(knee "$OUT/knee-sqlite.json")" -v knee_pg="$(knee "$OUT/knee-postgres.json")" \
	-v echo_sqlite="$(knee "$OUT/knee-sqlite-echo.json")" -v echo_pg="$(knee "$OUT/knee-postgres-echo.json")" \
	-v ramp="$RAMP" -v step="$STEP" -v large="$LARGE" '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) v[name, $(i+1)] = $i
}
function fig(key, metric, scale, fmt,   x) {
	if (!((key, metric) in v)) return "–"
	x = v[key, metric] * scale
	return sprintf(fmt, x)
}
function pair(key, a, b) { return fig(key, a, 1, "%.2f") " / " fig(key, b, 1, "%.2f") }
function kneeText(k) {
	if (k == "") return "–"
	if (k == "0") return "below the first rate"
	return k "/s"
}
END {
	print "Machine: " machine "."
	print ""
	print "#### Authorize (no store), 10,000 users in 100 groups"
	print ""
	print "| | 50 rules | 500 rules | 5,000 rules | reproduce |"
	print "| --- | --- | --- | --- | --- |"
	k = "BenchmarkAuthorizeCurve/rules="
	printf "| p50 / p99 µs | %s / %s | %s / %s | %s / %s | `go test -run ^$ -bench AuthorizeCurve ./internal/authz/` |\n", \
		fig(k "50", "p50-ns", .001, "%.1f"), fig(k "50", "p99-ns", .001, "%.1f"), fig(k "500", "p50-ns", .001, "%.1f"), fig(k "500", "p99-ns", .001, "%.1f"), \
		fig(k "5000", "p50-ns", .001, "%.1f"), fig(k "5000", "p99-ns", .001, "%.1f")
	printf "| allocations | %s | %s | %s | |\n", fig(k "50", "allocs/op", 1, "%d"), fig(k "500", "allocs/op", 1, "%d"), fig(k "5000", "allocs/op", 1, "%d")
	n = split("sqlite postgres", stores, " ")
	for (s = 1; s <= n; s++) {
		st = stores[s]; title = (st == "sqlite") ? "SQLite" : "PostgreSQL"
		print ""
		print "#### " title
		print ""
		print "| | 10k entries | 100k entries | 1M entries | reproduce (`DESKBOT_BENCH_LARGE=1` for 100k, 1M) |"
		print "| --- | --- | --- | --- | --- |"
		a = "BenchmarkAuditCurve/store=" st "/entries="
		printf "| `bot audit verify`, entries/s | %s | %s | %s | `go test -run ^$ -bench AuditCurve/store=%s/entries/verify ./internal/audit/` |\n", \
			fig(a "10000/verify", "entries/s", 1, "%.0f"), fig(a "100000/verify", "entries/s", 1, "%.0f"), fig(a "1000000/verify", "entries/s", 1, "%.0f"), st
		printf "| verify, CPU µs an entry | %s | %s | %s | the same |\n", \
			fig(a "10000/verify", "cpu-ns/entry", .001, "%.1f"), fig(a "100000/verify", "cpu-ns/entry", .001, "%.1f"), fig(a "1000000/verify", "cpu-ns/entry", .001, "%.1f")
		printf "| verify, peak heap MB | %s | %s | %s | the same |\n", \
			fig(a "10000/verify", "peak-heap-MB", 1, "%.1f"), fig(a "100000/verify", "peak-heap-MB", 1, "%.1f"), fig(a "1000000/verify", "peak-heap-MB", 1, "%.1f")
		printf "| verify, peak live heap MB | %s | %s | %s | the same |\n", \
			fig(a "10000/verify", "peak-live-MB", 1, "%.1f"), fig(a "100000/verify", "peak-live-MB", 1, "%.1f"), fig(a "1000000/verify", "peak-live-MB", 1, "%.1f")
		split("user target text", kinds, " ")
		split("1d 30d", windows, " ")
		for (w = 1; w <= 2; w++) for (q = 1; q <= 3; q++) {
			sfx = "/search-" kinds[q] "/since=" windows[w]
			printf "| `/ops audit %s=… since=%s`, p50 / p99 ms | %s | %s | %s | `go test -run ^$ -bench AuditCurve/store=%s/entries/search-%s/since=%s ./internal/audit/` |\n", \
				kinds[q], windows[w], pair(a "10000" sfx, "p50-ms", "p99-ms"), pair(a "100000" sfx, "p50-ms", "p99-ms"), pair(a "1000000" sfx, "p50-ms", "p99-ms"), st, kinds[q], windows[w]
		}
		print ""
		print "| | 1,000 pending | 10,000 pending | reproduce (`DESKBOT_BENCH_LARGE=1` for 10,000) |"
		print "| --- | --- | --- | --- |"
		p = "BenchmarkApprovalsCurve/store=" st "/pending="
		printf "| `/ops approvals`, p50 / p99 ms | %s | %s | `go test -run ^$ -bench ApprovalsCurve/store=%s/pending/ops-approvals ./internal/engine/` |\n", \
			pair(p "1000/ops-approvals", "p50-ms", "p99-ms"), pair(p "10000/ops-approvals", "p50-ms", "p99-ms"), st
		printf "| App Home (approvals and recent results), p50 / p99 ms | %s | %s | `go test -run ^$ -bench ApprovalsCurve/store=%s/pending/app-home ./internal/engine/` |\n", \
			pair(p "1000/app-home", "p50-ms", "p99-ms"), pair(p "10000/app-home", "p50-ms", "p99-ms"), st
		printf "\nSustained rate (ack p99 ≤ 5 ms, nothing lost, each rate for %s): **%s** with the default mix (the simulators of three providers on this machine too), `bin/bot loadtest --ramp %s --duration %s%s`; **%s** with the echo plugin alone, the same with `--commands \"/example echo text=load\"`.\n", \
			step, kneeText((st == "sqlite") ? knee_sqlite : knee_pg), ramp, step, (st == "sqlite") ? "" : " --postgres-dsn-env NAME", \
			kneeText((st == "sqlite") ? echo_sqlite : echo_pg)
	}
}'
log "raw outputs in $OUT"
