#!/usr/bin/env bash
# Benchmark for issue 12: `tandem worker` on tandem's embedded PostgreSQL.
#
#   bench/worker/run.sh [RELEASES] [RUNS] [POLL_RELEASES]
#       RELEASES       pickup latency: releases, one post-deploy migration each (default 60)
#       RUNS           drain: runs of 3 workers vs `tandem up` on 300 migrations (default 3)
#       POLL_RELEASES  polling fallback: releases seen by a worker that gets no NOTIFY
#                      (default 20; 0 skips it)
#
# 1. Pickup latency. One `tandem worker` daemon runs; the script releases one post-deploy
#    migration at a time (`INSERT INTO applied ...`), waits until its job succeeded, pauses
#    50-300 ms at random (so each release finds the worker idle) and releases the next. The latency of
#    each job is read from the database: its `job.running` event's `at` minus its `job.queued`
#    event's `at`, both clock_timestamp() on the same server, so no client clock is involved.
# 2. Drain. `tandem release` queues 300 post-deploy migrations, each one
#    `INSERT INTO applied (version) VALUES ('N')` into a small table; then 3 `tandem worker`
#    daemons start together and the script waits until all 300 jobs succeeded. Exactly once:
#    300 rows in `applied`, 300 distinct versions, 300 `job.running` events. The same 300
#    statements as pre-deploy files go through `tandem up` on a fresh database in the same run
#    (the runs alternate). Wall-clock: from starting the workers (from starting `tandem up`)
#    until all 300 are applied. Span: from the first `job.running` to the last `job.succeeded`
#    event (for up: from the first migration's started_at to the last one's finished_at).
# 3. Polling fallback. The same as 1, but the worker connects through a small proxy
#    (bench/worker/drop_notify.py) that drops every NotificationResponse, as a pooler in
#    transaction mode would; the worker then only sees the jobs when it polls, every
#    `[worker] poll_interval` (default 2s). The pauses between releases are 50 ms plus a random
#    0-2 s here, so that releases fall anywhere in the worker's poll cycle.
#
# Prints a JSON summary on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
RELEASES="${1:-60}"
RUNS="${2:-3}"
POLL_RELEASES="${3:-20}"
TANDEM="$(readlink -f "${TANDEM:-$ROOT/${BUILD_DIR:-build}/tandem}")"
[ -x "$TANDEM" ] || scripts/build.sh >&2
WORK="$(mktemp -d /tmp/tandem-worker-bench-XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  (cd "$WORK" && "$TANDEM" dev --stop >/dev/null 2>&1) || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

cd "$WORK"
BASE_URL="$(env -u TMPDIR "$TANDEM" dev)"   # postgresql://postgres@127.0.0.1:PORT/postgres
SERVER="${BASE_URL%/postgres}"
POSTGRES_VERSION="$("${PSQL[@]}" -At "$BASE_URL" -c 'SHOW server_version')"
echo "server $BASE_URL, cluster in $("${PSQL[@]}" -At "$BASE_URL" -c 'SHOW data_directory')" >&2

# new_project DIR DB: a project directory whose first migration creates the table the jobs
# insert into, and a fresh database for it.
new_project() {
  mkdir -p "$1/db/migrations"
  printf -- '-- migrate:up\nCREATE TABLE applied (version text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());\n' \
    > "$1/db/migrations/1_table.sql"
  "${PSQL[@]}" "$BASE_URL" -c "CREATE DATABASE $2"
}
# job_file DIR N [PHASE]: migration N, one INSERT; post-deploy unless PHASE is "pre".
job_file() {
  local header="-- tandem:phase post-deploy\n"
  [ "${3:-}" = pre ] && header=""
  printf -- "${header}-- migrate:up\nINSERT INTO applied (version) VALUES ('%d');\n" "$2" \
    > "$1/db/migrations/$2_job.sql"
}
# wait_sql URL SQL: until SQL returns true, checked every 10 ms by one session on the server (at
# most 120 s). A psql started every few ms instead cost the 2-core machine more than the worker.
wait_sql() {
  "${PSQL[@]}" "$1" -c "DO \$\$ DECLARE until timestamptz := clock_timestamp() + interval '120 s';
    BEGIN
      WHILE NOT coalesce(($2), false) LOOP
        IF clock_timestamp() > until THEN RAISE EXCEPTION 'timed out waiting for: %', \$q\$$2\$q\$; END IF;
        PERFORM pg_catalog.pg_sleep(0.01);
      END LOOP;
    END \$\$" || exit 1
}
# start_worker DIR URL LOG: a `tandem worker` daemon in DIR; its pid is appended to PIDS.
start_worker() {
  (cd "$1" && DATABASE_URL= TANDEM_DATABASE_URL="$2" exec "$TANDEM" worker >"$3" 2>&1) &
  PIDS+=("$!")
}
stop_workers() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
# pickup DB DIR WORKER_URL COUNT LABEL PAUSE_MS: releases COUNT migrations one after another
# while one worker (connected to WORKER_URL) runs, pausing 50 ms plus a random 0..PAUSE_MS after
# each job succeeded; sets PICKUP_JSON from the events.
pickup() {
  local db="$1" dir="$2" worker_url="$3" count="$4" label="$5" pause_ms="$6" i v
  new_project "$dir" "$db"
  (cd "$dir" && TANDEM_DATABASE_URL="$SERVER/$db" "$TANDEM" release >/dev/null)
  start_worker "$dir" "$worker_url" "$WORK/$label.log"
  sleep 1
  for i in $(seq 1 "$count"); do
    v=$(( 1000 + i ))
    job_file "$dir" "$v"
    (cd "$dir" && TANDEM_DATABASE_URL="$SERVER/$db" "$TANDEM" release >/dev/null)
    wait_sql "$SERVER/$db" "SELECT status = 'succeeded' FROM tandem.jobs WHERE version = '$v'"
    sleep "$(awk -v ms=$(( 50 + RANDOM % pause_ms )) 'BEGIN { printf "%.3f", ms / 1000 }')"
    (( i % 10 == 0 )) && echo "$label: $i of $count released and run" >&2
  done
  stop_workers
  "${PSQL[@]}" -At "$SERVER/$db" -c "SELECT count(*) = $count AND count(DISTINCT version) = $count FROM applied" \
    | grep -qx t || { echo "$label: not every job applied exactly once" >&2; exit 1; }
  PICKUP_JSON="$("${PSQL[@]}" -At "$SERVER/$db" <<'SQL'
WITH q AS (SELECT version, min(at) AS at FROM tandem.events WHERE event = 'job.queued' GROUP BY version),
     r AS (SELECT version, min(at) AS at FROM tandem.events WHERE event = 'job.running' GROUP BY version),
     l AS (SELECT extract(epoch FROM r.at - q.at) * 1000 AS ms FROM q JOIN r USING (version))
SELECT json_build_object(
  'jobs', count(*),
  'p50_ms', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
  'p90_ms', round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 1),
  'max_ms', round(max(ms)::numeric, 1),
  'min_ms', round(min(ms)::numeric, 1),
  'mean_ms', round(avg(ms)::numeric, 1))
FROM l
SQL
)"
  echo "$label: $PICKUP_JSON" >&2
}

# 1. Pickup latency, LISTEN/NOTIFY delivered.
pickup bench_pickup "$WORK/pickup" "$SERVER/bench_pickup" "$RELEASES" pickup 250
NOTIFY_JSON="$PICKUP_JSON"

# 2. Drain: 3 workers vs tandem up, same 300 statements, runs alternated.
JOBS=300
worker_wall=() worker_span=() up_wall=() up_span=()
for run in $(seq 1 "$RUNS"); do
  # The workers' database: 300 post-deploy migrations released (queued), nothing running.
  db="bench_drain_$run"; dir="$WORK/drain_$run"
  new_project "$dir" "$db"
  for v in $(seq 2 $(( JOBS + 1 ))); do job_file "$dir" "$v"; done
  (cd "$dir" && TANDEM_DATABASE_URL="$SERVER/$db" "$TANDEM" release >/dev/null)
  "${PSQL[@]}" -At "$SERVER/$db" -c "SELECT count(*) = $JOBS FROM tandem.jobs WHERE status = 'queued'" \
    | grep -qx t || { echo "release did not queue $JOBS jobs" >&2; exit 1; }
  "${PSQL[@]}" "$BASE_URL" -c "CHECKPOINT"
  start=$(now_ms)
  for w in 1 2 3; do start_worker "$dir" "$SERVER/$db" "$WORK/drain_${run}_w$w.log"; done
  wait_sql "$SERVER/$db" "SELECT count(*) = $JOBS FROM tandem.jobs WHERE status = 'succeeded'"
  elapsed=$(( $(now_ms) - start ))
  stop_workers
  check="$("${PSQL[@]}" -At "$SERVER/$db" -c "SELECT count(*) || ' ' || count(DISTINCT version) || ' ' || (SELECT count(*) FROM tandem.events WHERE event = 'job.running') || ' ' || (SELECT count(DISTINCT actor) FROM tandem.events WHERE event = 'job.running') FROM applied")"
  read -r rows distinct running actors <<<"$check"
  [ "$rows $distinct $running" = "$JOBS $JOBS $JOBS" ] \
    || { echo "drain run $run: $rows rows, $distinct versions, $running job.running events" >&2; exit 1; }
  span="$("${PSQL[@]}" -At "$SERVER/$db" -c "SELECT round(extract(epoch FROM (SELECT max(at) FROM tandem.events WHERE event = 'job.succeeded') - (SELECT min(at) FROM tandem.events WHERE event = 'job.running')) * 1000)")"
  worker_wall+=("$elapsed"); worker_span+=("$span")
  echo "drain run $run: 3 workers $elapsed ms wall-clock, $span ms first running to last succeeded; $rows rows, $distinct versions, $running job.running events, run by $actors worker(s)" >&2

  # tandem up: the same statements as pre-deploy files, on a fresh database.
  db="bench_up_$run"; dir="$WORK/up_$run"
  new_project "$dir" "$db"
  for v in $(seq 2 $(( JOBS + 1 ))); do job_file "$dir" "$v" pre; done
  "${PSQL[@]}" "$BASE_URL" -c "CHECKPOINT"
  start=$(now_ms)
  (cd "$dir" && TANDEM_DATABASE_URL="$SERVER/$db" "$TANDEM" up >/dev/null)
  elapsed=$(( $(now_ms) - start ))
  "${PSQL[@]}" -At "$SERVER/$db" -c "SELECT count(*) = $JOBS AND count(DISTINCT version) = $JOBS FROM applied" \
    | grep -qx t || { echo "up did not apply $JOBS migrations once each" >&2; exit 1; }
  span="$("${PSQL[@]}" -At "$SERVER/$db" -c "SELECT round(extract(epoch FROM max(finished_at) - min(started_at)) * 1000) FROM tandem.migrations WHERE version <> '1'")"
  up_wall+=("$elapsed"); up_span+=("$span")
  echo "drain run $run: tandem up $elapsed ms wall-clock, $span ms first started to last finished" >&2
done
ww=$(median "${worker_wall[@]}"); ws=$(median "${worker_span[@]}")
uw=$(median "${up_wall[@]}"); us=$(median "${up_span[@]}")
# Throughput ratio worker/up = (jobs / worker time) / (jobs / up time) = up time / worker time.
echo "drain medians: workers $ww ms wall ($ws ms span), up $uw ms wall ($us ms span); throughput worker/up $(ratio "$uw" "$ww") wall-clock, $(ratio "$us" "$ws") span" >&2

# 3. Polling fallback: the worker's NOTIFYs are dropped by a proxy.
POLL_JSON=null
if [ "$POLL_RELEASES" -gt 0 ]; then
  PORT="${SERVER##*:}"
  python3 "$ROOT/bench/worker/drop_notify.py" "$PORT" >"$WORK/proxy.port" 2>"$WORK/proxy.log" &
  PIDS+=("$!"); PROXY_PID="$!"
  wait_port=$(( $(now_ms) + 5000 ))
  until [ -s "$WORK/proxy.port" ]; do (( $(now_ms) < wait_port )) || exit 1; sleep 0.05; done
  PROXY_URL="postgresql://postgres@127.0.0.1:$(cat "$WORK/proxy.port")/bench_poll?sslmode=disable&gssencmode=disable"
  # Pauses spread over a whole poll interval (2 s), so releases land anywhere in its cycle.
  pickup bench_poll "$WORK/poll" "$PROXY_URL" "$POLL_RELEASES" polling 2000
  POLL_JSON="$PICKUP_JSON"
  kill "$PROXY_PID" 2>/dev/null || true
  PIDS=()
fi

cat <<JSON
{"date": "$(date -u +%Y-%m-%d)", "machine": "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME")",
 "postgres": "$POSTGRES_VERSION", "tandem": "$("$TANDEM" --version)",
 "pickup_notify": $NOTIFY_JSON,
 "pickup_polling_only": $POLL_JSON,
 "drain": {"jobs": $JOBS, "runs": $RUNS,
   "workers_wall_ms": [$(IFS=,; echo "${worker_wall[*]}")], "workers_span_ms": [$(IFS=,; echo "${worker_span[*]}")],
   "up_wall_ms": [$(IFS=,; echo "${up_wall[*]}")], "up_span_ms": [$(IFS=,; echo "${up_span[*]}")],
   "workers_wall_median_ms": $ww, "workers_span_median_ms": $ws, "up_wall_median_ms": $uw, "up_span_median_ms": $us,
   "throughput_worker_to_up_wall": $(ratio "$uw" "$ww"), "throughput_worker_to_up_span": $(ratio "$us" "$ws")}}
JSON
