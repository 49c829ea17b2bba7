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
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
ROWS="${1:-5000000}"
TANDEM="$ROOT/${BUILD_DIR:-build}/tandem"
[ -x "$TANDEM" ] || scripts/build.sh >&2
WORK="$(mktemp -d /tmp/tandem-backfill-XXXXXX)"
cleanup() {
  (cd "$WORK" && "$TANDEM" dev --stop >/dev/null 2>&1) || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
cd "$WORK"
BASE_URL="$("$TANDEM" dev)"
SERVER="${BASE_URL%/postgres}"
make_table() {
  "${PSQL[@]}" "$BASE_URL" -c "CREATE DATABASE $1"
  "${PSQL[@]}" "$SERVER/$1" -c "CREATE TABLE t (id bigint PRIMARY KEY, a int NOT NULL, c int)" \
    -c "INSERT INTO t (id, a) SELECT g, g % 1000 FROM generate_series(1, $ROWS) g" \
    -c "VACUUM ANALYZE t" -c "CHECKPOINT"
}

echo "plain UPDATE over $ROWS rows" >&2
make_table plain
plain_ms=$("${PSQL[@]}" "$SERVER/plain" -c '\timing on' -c "UPDATE t SET c = a" |
  awk '/^Time:/ {print int($2)}')

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
  eval "$change"
  end=$(date +%s.%N)
  # pgbench writes its logs when it ends (a signal would lose them): wait for its window.
  wait "$app"
  # Per transaction: client, number, latency (us), script, epoch seconds, microseconds.
  cat "$WORK"/app_"$db"* | awk -v s="$start" -v e="$end" '
    { t = $5 + $6 / 1e6 }
    t >= s - 2 && t <= e + 2 { n++; if ($3 > max) max = $3 }
    t >= s && t <= e { during++ }
    END { printf "%d %d %.1f %.1f\n", max / 1000, n, n / (e - s + 4), during / (e - s) }'
}

echo "plain UPDATE over $ROWS rows, with the application" >&2
make_table plain_app
read -r plain_stall_ms plain_tx plain_tps plain_tps_during < <(with_app plain_app \
  '"${PSQL[@]}" "$SERVER/plain_app" -c "UPDATE t SET c = a"')

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
series=$(awk 'NR > 1 && $1 > pt { printf "%s[%.1f, %d]", sep, $1, ($2 - pr) / ($1 - pt); sep = ", " }
  { pt = $1; pr = $2 }' "$WORK/samples")
awk '{ printf "  %6.1f s  %9d rows\n", $1, $2 }' "$WORK/samples" >&2
echo "{$first, \"with_app\": {\"plain_update\": {\"longest_stall_ms\": $plain_stall_ms, \"app_tps\": $plain_tps, \"app_tps_during_change\": $plain_tps_during, \"app_transactions\": $plain_tx}, \"background\": {\"longest_stall_ms\": $bg_stall_ms, \"app_tps\": $bg_tps, \"app_tps_during_change\": $bg_tps_during, \"app_transactions\": $bg_tx, \"job_ms\": $bg_app_ms, \"target_batch_duration\": \"${APP_TARGET:-100ms}\", \"rows_per_s_over_time\": [$series]}}}"
