#!/usr/bin/env bash
# Benchmark for issue 13 (first part): a background migration's throughput against one plain
# UPDATE over the same table, on fresh copies, unthrottled and without an application running.
#
#   bench/backfill/run.sh [ROWS]        (default 5,000,000)
#
# Both sides run `SET c = a` over a table of ROWS rows (id bigint primary key, a int, c int) on
# the embedded server `tandem dev` starts. The plain UPDATE is timed by psql's own clock
# (\timing); the background migration is timed from the job's first batch to its last (the
# job's duration_ms, which `tandem worker --once` records). Prints a JSON summary on stdout.
#
# Then both again on fresh copies while an application runs beside them: pgbench, 8
# connections, each transaction one single-row UPDATE and one single-row SELECT by a random id
# (bench/backfill/app.sql). pgbench logs every transaction (-l), so the application's longest
# stall is its slowest transaction, and its throughput the transactions per second over the
# window from 2 s before the change starts to 2 s after it ends (and during the change alone).
# The background job's rows done are sampled every 0.5 s for its rows/s over time (one line per
# sample on stderr, and in the JSON). An app row waits for the batch that holds it, so the
# background run beside the app uses target_batch_duration = APP_TARGET (default 100ms). Set
# APP=0 to skip this half.
#
# The worker's peak RSS (GNU time's %M) is reported for the first background run, to show that
# memory does not grow with the table (compare ROWS=1000000 with 5000000).
#
# Baseline (issue 13's stall target; BASELINE=0 skips it): last, the same application (same
# script, connections, window) on another fresh copy for as long as the background migration
# ran beside it, with NO change running, so that the stall reads as "with the migration X ms vs
# baseline Y ms". For the 5 slowest transactions of each run with the app, the checkpoints,
# autovacuum runs and lock waits (log_lock_waits, with deadlock_timeout = LOCK_WAIT_LOG_MS,
# default 50ms, the wait after which one is logged) that the server logged during them are
# printed on stderr and put in the JSON ("stall_causes"), with each run's lock waits counted by
# the application_name of the session that held the lock ("tandem": a batch of the worker), by
# bench/backfill/app_stalls.py: a stall under a checkpoint or an autovacuum, or one also in the
# baseline, is not the migration's; an app's wait for a row a batch holds is.
#
# Server: `tandem dev`'s embedded one (on a free port the kernel picks), or with BENCH_PORT=N a
# cluster this script starts on 127.0.0.1:N with the embedded server's settings (fsync,
# synchronous_commit and full_page_writes off, max_connections 200), in /dev/shm when it has
# room, as `tandem dev` does. Either way log_checkpoints, autovacuum logging and lock-wait
# logging are turned on with an epoch log_line_prefix (%n). TANDEM=path picks the binary;
# KEEP=DIR keeps pgbench's logs and the server log.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
ROWS="${1:-5000000}"
TANDEM="${TANDEM:-$ROOT/${BUILD_DIR:-build}/tandem}"
[ -x "$TANDEM" ] || scripts/build.sh >&2
STALLS="$ROOT/bench/backfill/app_stalls.py"
PARENT=/tmp
if [ -n "${BENCH_PORT:-}" ] &&
  [ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 4000000 ] 2>/dev/null; then
  PARENT=/dev/shm
fi
WORK="$(mktemp -d "$PARENT/tandem-backfill-XXXXXX")"
BINDIR="$(dirname "$(readlink -f "$(command -v postgres || echo /usr/lib/postgresql/15/bin/postgres)")")"
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
SERVER_LOG=""
cleanup() {
  if [ -n "$SERVER_LOG" ] && [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && find "$WORK" -maxdepth 1 -type f -exec cp {} "$KEEP" \; &&
      cp "$SERVER_LOG" "$KEEP/server.log"
  fi
  if [ -n "${BENCH_PORT:-}" ]; then
    as_owner "$BINDIR/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  else
    (cd "$WORK" && "$TANDEM" dev --stop >/dev/null 2>&1) || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
cd "$WORK"
if [ -n "${BENCH_PORT:-}" ]; then
  [ "$(id -u)" = 0 ] && chown postgres "$WORK"
  as_owner "$BINDIR/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >/dev/null
  as_owner "$BINDIR/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -o \
    "-p $BENCH_PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off \
     -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  SERVER="postgresql://postgres@127.0.0.1:$BENCH_PORT"
  BASE_URL="$SERVER/postgres"
  SERVER_LOG="$WORK/server.log"
else
  BASE_URL="$("$TANDEM" dev)"
  SERVER="${BASE_URL%/postgres}"
  SERVER_LOG="$(python3 -c 'import json; print(json.load(open(".tandem/dev.json"))["root"])')/server.log"
fi
# What the server logs, to tell a checkpoint's, an autovacuum's or a lock wait's stall apart.
"${PSQL[@]}" "$BASE_URL" -c "ALTER SYSTEM SET log_checkpoints = on" \
  -c "ALTER SYSTEM SET log_autovacuum_min_duration = 0" -c "ALTER SYSTEM SET log_lock_waits = on" \
  -c "ALTER SYSTEM SET deadlock_timeout = '${LOCK_WAIT_LOG_MS:-50}ms'" \
  -c "ALTER SYSTEM SET log_line_prefix = '%n [%p] <%a> '" -c "SELECT pg_reload_conf()" >/dev/null
echo "$ROWS rows; server log $SERVER_LOG; $(nproc) CPUs; load average" \
  "$(uptime | sed 's/.*load average: //') at $(date -u '+%F %T') UTC" >&2
make_table() {
  "${PSQL[@]}" "$BASE_URL" -c "CREATE DATABASE $1"
  "${PSQL[@]}" "$SERVER/$1" -c "CREATE TABLE t (id bigint PRIMARY KEY, a int NOT NULL, c int)" \
    -c "INSERT INTO t (id, a) SELECT g, g % 1000 FROM generate_series(1, $ROWS) g" \
    -c "VACUUM ANALYZE t" -c "CHECKPOINT"
}
# Each copy is dropped once measured, so that its autovacuum (several seconds after a whole-table
# UPDATE) does not run beside the next measurement.
drop_db() { "${PSQL[@]}" "$BASE_URL" -c "DROP DATABASE $1"; }

echo "plain UPDATE over $ROWS rows" >&2
make_table plain
plain_ms=$("${PSQL[@]}" "$SERVER/plain" -c '\timing on' -c "UPDATE t SET c = a" |
  awk '/^Time:/ {print int($2)}')
drop_db plain

echo "background migration over $ROWS rows" >&2
make_table backfill
mkdir -p project/db/migrations
printf -- '-- migrate:up\nSELECT 1;\n' > project/db/migrations/1_noop.sql
printf -- '-- tandem:phase background\n-- tandem:batch table=t key=id size=auto\n-- migrate:up\nUPDATE t SET c = a WHERE id >= :batch_start AND id < :batch_end;\n' \
  > project/db/migrations/2_backfill.sql
(cd project && "$TANDEM" --database-url "$SERVER/backfill" release >/dev/null &&
  /usr/bin/time -f '%M' -o "$WORK/worker_rss" "$TANDEM" --database-url "$SERVER/backfill" \
    worker --once 2>/dev/null)
worker_rss_kb=$(tail -1 "$WORK/worker_rss")
read -r job_ms batches busy_ms size rows < <("${PSQL[@]}" -At -F ' ' "$SERVER/backfill" -c \
  "SELECT duration_ms, progress->>'batches', progress->>'busy_ms', progress->>'batch_size', progress->>'rows_done' FROM tandem.jobs")
first=$(awk -v rss="$worker_rss_kb" -v rows="$ROWS" -v p="$plain_ms" -v j="$job_ms" -v b="$batches" -v busy="$busy_ms" \
  -v size="$size" -v done="$rows" 'BEGIN {
  printf "\"rows\": %d, \"plain_update_ms\": %d, \"plain_rows_per_s\": %d, ", rows, p, rows / (p / 1000)
  printf "\"background_ms\": %d, \"background_rows_per_s\": %d, \"ratio\": %.2f, ", j, done / (j / 1000), p / j
  printf "\"batches\": %d, \"time_in_batches_ms\": %d, \"last_batch_size\": %d, \"rows_done\": %d, ", b, busy, size, done
  printf "\"worker_peak_rss_kb\": %d", rss
}')
drop_db backfill
if [ "${APP:-1}" = 0 ]; then
  echo "{$first}"
  exit 0
fi

# The application: from 2 s before the change until 2 s after it, logged per transaction.
# $1: database, $2: the command that makes the change (run in the background of the app).
with_app() {
  local db="$1" change="$2" window
  rm -f "$WORK"/app_"$db"*
  # Long enough for the change with the app beside it (three times its time alone, plus 20 s).
  window=$(( (plain_ms > job_ms ? plain_ms : job_ms) * 3 / 1000 + 20 ))
  pgbench -n -c 8 -j 2 -T "$window" -f "$ROOT/bench/backfill/app.sql" -D rows="$ROWS" \
    -l --log-prefix="$WORK/app_$db" "$SERVER/$db" >"$WORK/pgbench_$db.out" 2>&1 &
  local app=$!
  sleep 2
  local start end
  start=$(date +%s.%N)
  # Who is connected, every 0.5 s, to name the session holding a lock the app waited for.
  while true; do
    "${PSQL[@]}" -At "$SERVER/$db" -c "SELECT pid, application_name FROM pg_stat_activity
      WHERE backend_type = 'client backend'" >>"$WORK/pids" 2>/dev/null || true
    sleep 0.5
  done &
  local sampler=$!
  eval "$change"
  end=$(date +%s.%N)
  kill "$sampler"
  # pgbench writes its logs when it ends (a signal would lose them): wait for its window.
  wait "$app"
  echo "$start $end" >"$WORK/span_$db"
  # Per transaction: client, number, latency (us), script, epoch seconds, microseconds.
  cat "$WORK"/app_"$db"* | awk -v s="$start" -v e="$end" '
    { t = $5 + $6 / 1e6 }
    t >= s - 2 && t <= e + 2 { n++; if ($3 > max) max = $3 }
    t >= s && t <= e { during++ }
    END { printf "%d %d %.1f %.1f\n", max / 1000, n, n / (e - s + 4), during / (e - s) }'
}

# $1: database -> its run's 5 slowest app transactions in the window, with what the server logged
# during each, on stderr, and as a JSON array on stdout.
slowest() {
  local start end
  read -r start end <"$WORK/span_$1"
  touch "$WORK/pids"
  python3 "$STALLS" --slowest --logs "$WORK/app_$1.*" --server-log "$SERVER_LOG" --top 5 \
    --pids "$WORK/pids" \
    --phase "$1:$(echo "$start - 2" | bc):$(echo "$end + 2" | bc)"
}

echo "plain UPDATE over $ROWS rows, with the application" >&2
make_table plain_app
read -r plain_stall_ms plain_tx plain_tps plain_tps_during < <(with_app plain_app \
  'PGAPPNAME=plain_update "${PSQL[@]}" "$SERVER/plain_app" -c "UPDATE t SET c = a"')
drop_db plain_app

echo "background migration over $ROWS rows, with the application" >&2
make_table backfill_app
# A row the app writes waits for the batch holding it: the longest stall is about one batch, so
# the batches aim at APP_TARGET (default 100 ms) here instead of the default 200 ms.
printf '[background]\ntarget_batch_duration = "%s"\n' "${APP_TARGET:-100ms}" > project/tandem.toml
(cd project && "$TANDEM" --database-url "$SERVER/backfill_app" release >/dev/null)
sample() {  # rows done every 0.5 s until the job is done: "seconds rows_done"
  local t0 status rows_done
  t0=$(date +%s.%N)
  while true; do
    read -r status rows_done < <("${PSQL[@]}" -At -F ' ' "$SERVER/backfill_app" -c \
      "SELECT status, coalesce(progress->>'rows_done', '0') FROM tandem.jobs")
    echo "$(echo "$(date +%s.%N) - $t0" | bc) $rows_done"
    [ "$status" = succeeded ] && break
    sleep 0.5
  done
}
read -r bg_stall_ms bg_tx bg_tps bg_tps_during < <(with_app backfill_app \
  '(sample > "$WORK/samples" &) ; (cd project && "$TANDEM" --database-url "$SERVER/backfill_app" worker --once 2>/dev/null); sleep 0.6')
bg_app_ms=$("${PSQL[@]}" -At "$SERVER/backfill_app" -c "SELECT duration_ms FROM tandem.jobs")
drop_db backfill_app
series=$(awk 'NR > 1 && $1 > pt { printf "%s[%.1f, %d]", sep, $1, ($2 - pr) / ($1 - pt); sep = ", " }
  { pt = $1; pr = $2 }' "$WORK/samples")
awk '{ printf "  %6.1f s  %9d rows\n", $1, $2 }' "$WORK/samples" >&2
plain_slowest=$(slowest plain_app)
bg_slowest=$(slowest backfill_app)
baseline=""
if [ "${BASELINE:-1}" != 0 ]; then
  # The same app, window and length as beside the background migration, with no change: the
  # "change" is a sleep as long as the background run's (its end minus its start).
  read -r bg_start bg_end <"$WORK/span_backfill_app"
  bg_span=$(echo "$bg_end - $bg_start" | bc)
  echo "baseline: the application alone for $bg_span s (as long as the background run), no change" >&2
  make_table baseline_app
  read -r base_stall_ms base_tx base_tps base_tps_during < <(with_app baseline_app "sleep $bg_span")
  base_slowest=$(slowest baseline_app)
  echo "longest app stall: ${bg_stall_ms} ms beside the background migration vs ${base_stall_ms} ms" \
    "with no change (baseline), a difference of $((bg_stall_ms - base_stall_ms)) ms; target at most" \
    "150 ms beside the migration: $(awk -v s="$bg_stall_ms" 'BEGIN { printf "%.2f of it, %s", s / 150, s <= 150 ? "met" : "missed" }')" >&2
  baseline=", \"baseline\": {\"longest_stall_ms\": $base_stall_ms, \"app_tps\": $base_tps, \"app_tps_during_change\": $base_tps_during, \"app_transactions\": $base_tx, \"seconds\": $bg_span, \"stall_causes\": $base_slowest}, \"stall_over_baseline_ms\": $((bg_stall_ms - base_stall_ms))"
fi
COMMAND="${BENCH_PORT:+BENCH_PORT=$BENCH_PORT }${APP_TARGET:+APP_TARGET=$APP_TARGET }${BASELINE:+BASELINE=$BASELINE }bench/backfill/run.sh $ROWS"
echo "{\"command\": \"$COMMAND\", \"finished_utc\": \"$(date -u '+%F %T')\", $first, \"load_average_at_end\": \"$(uptime | sed 's/.*load average: //')\", \"stall_target_ms\": 150, \"stall_vs_target\": $(awk -v s="$bg_stall_ms" 'BEGIN { printf "%.2f", s / 150 }'), \"with_app\": {\"plain_update\": {\"longest_stall_ms\": $plain_stall_ms, \"app_tps\": $plain_tps, \"app_tps_during_change\": $plain_tps_during, \"app_transactions\": $plain_tx, \"stall_causes\": $plain_slowest}, \"background\": {\"longest_stall_ms\": $bg_stall_ms, \"app_tps\": $bg_tps, \"app_tps_during_change\": $bg_tps_during, \"app_transactions\": $bg_tx, \"job_ms\": $bg_app_ms, \"target_batch_duration\": \"${APP_TARGET:-100ms}\", \"rows_per_s_over_time\": [$series], \"stall_causes\": $bg_slowest}$baseline}}"
