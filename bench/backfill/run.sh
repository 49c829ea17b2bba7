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
# Not measured yet: the stall an application of 8 connections sees (issue 13 asks for both).
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
  "$TANDEM" --database-url "$SERVER/backfill" worker --once 2>/dev/null)
read -r job_ms batches busy_ms size rows < <("${PSQL[@]}" -At -F ' ' "$SERVER/backfill" -c \
  "SELECT duration_ms, progress->>'batches', progress->>'busy_ms', progress->>'batch_size', progress->>'rows_done' FROM tandem.jobs")
awk -v rows="$ROWS" -v p="$plain_ms" -v j="$job_ms" -v b="$batches" -v busy="$busy_ms" \
  -v size="$size" -v done="$rows" 'BEGIN {
  printf "{\"rows\": %d, \"plain_update_ms\": %d, \"plain_rows_per_s\": %d, ", rows, p, rows / (p / 1000)
  printf "\"background_ms\": %d, \"background_rows_per_s\": %d, \"ratio\": %.2f, ", j, done / (j / 1000), p / j
  printf "\"batches\": %d, \"time_in_batches_ms\": %d, \"last_batch_size\": %d, \"rows_done\": %d}\n", b, busy, size, done
}'
