#!/usr/bin/env bash
# Benchmark for issue 15: the dashboard's overview over a large fleet.
#
#   bench/dashboard/run.sh [TARGETS] [MIGRATIONS] [REQUESTS] [PAINTS]
#       TARGETS     databases, one [[targets]] entry each (default 500)
#       MIGRATIONS  migrations per database (default 200; the last 5 post-deploy, queued as jobs)
#       REQUESTS    timed GET /api/targets after the first (default 20)
#       PAINTS      page loads of / in headless Chromium after the first (default 10)
#
# Setup (kept in $DASHBOARD_BENCH_DIR, default /tmp/tandem-dashboard-bench, and reused by the
# next run when TARGETS and MIGRATIONS are the same; FRESH=1 rebuilds it):
#   - two PostgreSQL 15 clusters from Debian's binaries, run as the unprivileged user `postgres`
#     when started as root, on 127.0.0.1 ports 55500 and 55501 (fsync off: setup only writes);
#   - a template database: `tandem release` of MIGRATIONS migrations (1 creates two tables,
#     2..M-5 add a column each, M-4..M post-deploy, queued as jobs);
#   - TARGETS databases copied from it (CREATE DATABASE ... TEMPLATE, half in each cluster);
#     then, so that the overview has every kind of row, every 7th database has its jobs run by
#     `tandem worker --once` (all succeeded) and every 20th has the table its first job writes
#     dropped before that (its first job failed, the rest queued behind it);
#   - a tandem.toml with one [[targets]] per database (groups "c0" and "c1" by cluster).
# Measured, with `tandem dashboard --http 127.0.0.1:0` started on that file:
#   - how long after its start every target has been read once (GET /api/targets polled until
#     no target is "loading");
#   - GET /api/targets with curl (time_total): the first answer (targets still loading), then,
#     once all are read, REQUESTS more (median, max);
#   - first-contentful-paint of / in Debian's Chromium through puppeteer-core
#     (bench/dashboard/first_paint.mjs): a first load, then PAINTS more, each in a new browser
#     context (no cookies; the HTTP cache is Chromium's own); the same for /?state=failed (the
#     failed targets only), to tell what the number of rows costs.
# Prints a JSON summary on stdout; progress on stderr. Needs scripts/install-deps.sh first.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
TARGETS="${1:-500}"
MIGRATIONS="${2:-200}"
REQUESTS="${3:-20}"
PAINTS="${4:-10}"
CLUSTERS=2
PORT_BASE=55500
TANDEM="$(readlink -f "${TANDEM:-$ROOT/${BUILD_DIR:-build}/tandem}")"
[ -x "$TANDEM" ] || scripts/build.sh >&2
WORK="${DASHBOARD_BENCH_DIR:-/tmp/tandem-dashboard-bench}"
BIN="${PG_BINDIR:-/usr/lib/postgresql/15/bin}"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres)
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
maximum() { printf '%s\n' "$@" | sort -n | tail -1; }
DASHBOARD_PID=""
cleanup() {
  if [ -n "$DASHBOARD_PID" ]; then kill "$DASHBOARD_PID" 2>/dev/null || true; wait "$DASHBOARD_PID" 2>/dev/null || true; fi
  for ((c = 0; c < CLUSTERS; c++)); do
    [ -s "$WORK/pg$c/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$WORK/pg$c" -m fast stop >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

shape="targets=$TARGETS migrations=$MIGRATIONS"
if [ "${FRESH:-0}" = 1 ] || [ "$(cat "$WORK/shape" 2>/dev/null)" != "$shape" ]; then
  for ((c = 0; c < CLUSTERS; c++)); do
    [ -s "$WORK/pg$c/PG_VERSION" ] && as_owner "$BIN/pg_ctl" -D "$WORK/pg$c" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
fi
mkdir -p "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"

# The clusters: started (and made, the first time).
for ((c = 0; c < CLUSTERS; c++)); do
  if [ ! -s "$WORK/pg$c/PG_VERSION" ]; then
    as_owner "$BIN/initdb" -D "$WORK/pg$c" -U postgres -A trust --no-sync >/dev/null
  fi
  # A connection of the last run's cluster left in TIME-WAIT holds the port for a minute (and
  # the ports are inside the kernel's range of client ports): a failed start is tried again.
  for try in $(seq 1 40); do
    as_owner "$BIN/pg_ctl" -D "$WORK/pg$c" -l "$WORK/pg$c.log" -w -o \
      "-p $((PORT_BASE + c)) -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off \
       -c synchronous_commit=off -c full_page_writes=off -c max_connections=$((TARGETS / CLUSTERS + 60)) \
       -c timezone=UTC" start >/dev/null && break
    [ "$try" = 40 ] && exit 1
    sleep 2
  done 2>/dev/null
done
url() { echo "postgresql://postgres@127.0.0.1:$((PORT_BASE + $1))/$2"; }
echo "clusters on ports $PORT_BASE..$((PORT_BASE + CLUSTERS - 1)) in $WORK" >&2

PROJECT="$WORK/project"
if [ "$(cat "$WORK/shape" 2>/dev/null)" != "$shape" ]; then
  started=$(date +%s)
  rm -rf "$PROJECT"
  mkdir -p "$PROJECT/db/migrations"
  printf -- '-- migrate:up\nCREATE TABLE items (id bigint PRIMARY KEY);\nCREATE TABLE items_archive (id bigint);\n' \
    > "$PROJECT/db/migrations/0001_items.sql"
  for ((m = 2; m <= MIGRATIONS; m++)); do
    file=$(printf '%s/db/migrations/%04d_step_%d.sql' "$PROJECT" "$m" "$m")
    if ((m > MIGRATIONS - 5)); then
      printf -- '-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO items_archive SELECT id FROM items WHERE id = %d;\n' "$m" > "$file"
    else
      printf -- '-- migrate:up\nALTER TABLE items ADD COLUMN c%d integer;\n' "$m" > "$file"
    fi
  done
  # A template database in each cluster (templates are per cluster), released to.
  for ((c = 0; c < CLUSTERS; c++)); do
    "${PSQL[@]}" -p $((PORT_BASE + c)) -d postgres -c "CREATE DATABASE fleet_template"
    (cd "$PROJECT" && "$TANDEM" release --database-url "$(url $c fleet_template)" >/dev/null)
  done
  echo "template: $MIGRATIONS migrations released ($(( $(date +%s) - started )) s)" >&2
  {
    for ((i = 1; i <= TARGETS; i++)); do
      c=$(( (i - 1) % CLUSTERS ))
      printf '[[targets]]\nname = "shard-%03d"\nurl = "%s"\ngroups = ["c%d"]\n\n' \
        "$i" "$(url $c "$(printf 'shard_%03d' "$i")")" "$c"
    done
  } > "$PROJECT/tandem.toml"
  for ((i = 1; i <= TARGETS; i++)); do
    c=$(( (i - 1) % CLUSTERS ))
    echo "CREATE DATABASE $(printf 'shard_%03d' "$i") TEMPLATE fleet_template STRATEGY FILE_COPY;" \
      >> "$WORK/create.$c.sql"
  done
  for ((c = 0; c < CLUSTERS; c++)); do
    "${PSQL[@]}" -p $((PORT_BASE + c)) -d postgres -f "$WORK/create.$c.sql" &
  done
  wait
  echo "$TARGETS databases copied ($(( $(date +%s) - started )) s)" >&2
  for ((i = 7; i <= TARGETS; i += 7)); do
    c=$(( (i - 1) % CLUSTERS ))
    db=$(url $c "$(printf 'shard_%03d' "$i")")
    (cd "$PROJECT" && "$TANDEM" worker --once --database-url "$db" >/dev/null 2>&1) || true
  done
  for ((i = 20; i <= TARGETS; i += 20)); do
    c=$(( (i - 1) % CLUSTERS ))
    db=$(url $c "$(printf 'shard_%03d' "$i")")
    "${PSQL[@]}" "$db" -c "DROP TABLE IF EXISTS items_archive"
    (cd "$PROJECT" && "$TANDEM" worker --once --database-url "$db" >/dev/null 2>&1) || true
  done
  echo "$shape" > "$WORK/shape"
  echo "setup done ($(( $(date +%s) - started )) s)" >&2
fi
check="$(url 0 shard_001)"
echo "shard_001: $("${PSQL[@]}" -At "$check" -c "SELECT count(*) || ' migrations, ' || (SELECT count(*) FROM tandem.jobs) || ' jobs, ' || (SELECT count(*) FROM tandem.events) || ' events' FROM tandem.migrations")" >&2

# The dashboard.
LOAD_BEFORE="$(uptime)"
STARTED_NS=$(date +%s%N)
(cd "$PROJECT" && exec env -u DATABASE_URL -u TANDEM_DATABASE_URL "$TANDEM" dashboard --http 127.0.0.1:0 \
  >"$WORK/dashboard.log" 2>&1) &
DASHBOARD_PID=$!
BASE=""
for _ in $(seq 1 500); do
  BASE="$(grep -o 'http://[0-9.]*:[0-9]*' "$WORK/dashboard.log" | head -1 || true)"
  [ -n "$BASE" ] && break
  kill -0 "$DASHBOARD_PID" 2>/dev/null || { cat "$WORK/dashboard.log" >&2; exit 1; }
  sleep 0.02
done
[ -n "$BASE" ] || { echo "the dashboard never said where it listens" >&2; cat "$WORK/dashboard.log" >&2; exit 1; }
echo "dashboard at $BASE" >&2

api() { curl -s -o "$WORK/targets.json" -w '%{http_code} %{time_total}' "$BASE/api/targets"; }
# "COUNT LOADING STATES": targets listed, those whose first read is not done, count by state.
listing() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const list = Array.isArray(j) ? j : (j.targets || []); const by = {};
    for (const t of list) by[t.state] = (by[t.state] || 0) + 1;
    process.stdout.write(`${list.length} ${by.loading || 0} ${JSON.stringify(by)}`)' "$WORK/targets.json"
}
read -r code first <<<"$(api)"
[ "$code" = 200 ] || { echo "GET /api/targets: HTTP $code" >&2; exit 1; }
read -r count loading states <<<"$(listing)"
[ "$count" = "$TARGETS" ] || { echo "GET /api/targets listed $count targets, not $TARGETS" >&2; exit 1; }
echo "first answer: $states" >&2
# Until every target has been read once (the overview complete): timed from the start.
for _ in $(seq 1 600); do
  read -r code _ <<<"$(api)"
  read -r count loading states <<<"$(listing)"
  [ "$loading" = 0 ] && break
  sleep 0.2
done
[ "$loading" = 0 ] || { echo "targets still loading after 120 s: $states" >&2; exit 1; }
loaded_ms=$(( ($(date +%s%N) - STARTED_NS) / 1000000 ))
echo "every target read $loaded_ms ms after the dashboard started: $states" >&2
times=()
for ((r = 0; r < REQUESTS; r++)); do
  read -r code t <<<"$(api)"
  [ "$code" = 200 ] || { echo "GET /api/targets: HTTP $code" >&2; exit 1; }
  times+=("$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')")
done
first_ms=$(awk -v t="$first" 'BEGIN { printf "%.1f", t * 1000 }')
bytes=$(stat -c %s "$WORK/targets.json")
html_ms=$(curl -s -o /dev/null -w '%{time_total}' "$BASE/" | awk '{ printf "%.1f", $1 * 1000 }')
echo "GET /api/targets: first $first_ms ms, median $(median "${times[@]}") ms, max $(maximum "${times[@]}") ms ($bytes bytes); GET / $html_ms ms" >&2

paint="$(node bench/dashboard/first_paint.mjs "$BASE/" "$PAINTS")"
echo "first paint: $paint" >&2
# The same page filtered to the failed targets (a few dozen rows): what the 500 rows cost.
paint_failed="$(node bench/dashboard/first_paint.mjs "$BASE/?state=failed" "$PAINTS")"
echo "first paint of /?state=failed: $paint_failed" >&2
LOAD_AFTER="$(uptime)"

cat <<EOF
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "machine": "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)",
 "targets": $TARGETS, "migrations_per_target": $MIGRATIONS, "clusters": $CLUSTERS,
 "api_targets_ms": {"first": $first_ms, "median": $(median "${times[@]}"), "max": $(maximum "${times[@]}"), "n": $REQUESTS, "bytes": $bytes},
 "all_targets_read_after_start_ms": $loaded_ms, "states": $states,
 "overview_html_ms": $html_ms,
 "first_paint": $paint,
 "first_paint_failed_only": $paint_failed,
 "uptime_before": "$LOAD_BEFORE", "uptime_after": "$LOAD_AFTER"}
EOF
