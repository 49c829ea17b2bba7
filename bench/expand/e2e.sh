#!/usr/bin/env bash
# Benchmark for issue 16's end-to-end figures (bench/expand/README.md says what each phase means):
#
#   bench/expand/e2e.sh [ROWS]        (default 5,000,000)
#
# (a) End-to-end time of an online column rename, no application running. On a fresh copy of a
#     table t (id bigint primary key, name text NOT NULL, email text, n int) of ROWS rows, one
#     migration `-- tandem:online` / `ALTER TABLE t RENAME COLUMN name TO full_name`:
#       expand   = `tandem release`            (wall clock of the command)
#       backfill = `tandem worker --once`      (wall clock; also the job's own duration_ms)
#       contract = `tandem complete V --now`   (wall clock)
#     and, on another fresh copy in the same run, the physical reference: one
#     `UPDATE t SET name = name` (psql's \timing), which writes every row once as the backfill
#     does. Ratio = (expand + backfill + contract) / reference. The end state is checked (name
#     gone, full_name NOT NULL and equal to every row's value).
# (b) The application's longest stall during expand and contract under load, against the
#     target "at most lock_timeout + 100 ms" (lock_timeout is the one this script writes into
#     tandem.toml, LOCK_TIMEOUT, default 500ms, tandem's default). pgbench, CLIENTS connections
#     (default 8), per transaction one single-row UPDATE and one single-row SELECT by a random
#     id, every transaction logged (-l):
#       the OLD app (names name/email) from before the expand through the backfill;
#       the NEW app (full_name/email) around the contract (the old app is gone by then: the
#       contract drops its column).
#     Each run on a fresh copy, once without a blocker ("clean") and once ("blocker") with a
#     session that holds ACCESS SHARE on t in an open transaction, ended BLOCKER seconds
#     (default 3) after a catalog step of expand or contract is first seen waiting for it, so
#     that the step hits lock_timeout and takes the retry path while the app queues behind each
#     attempt. Per phase: the slowest transaction (max latency), the longest time no
#     transaction of any client ended (gap), p99, tps; the baseline is the same app in the
#     seconds before the change starts.
# Set E2E=0 or APP=0 to skip (a) or (b); RUNS="clean" to skip the blocker run.
#
# Starts its own PostgreSQL on 127.0.0.1:BENCH_PORT (default 55500), cluster in /dev/shm when it
# has room (as `tandem dev` does), with the embedded server's settings (fsync, synchronous_commit
# and full_page_writes off) plus log_checkpoints, autovacuum logging and lock waits over
# LOCK_WAIT_LOG_MS (default 50) ms, so a stall can be laid beside checkpoints, autovacuum runs
# and lock waits (bench/backfill/app_stalls.py). Runs as the postgres user when started as
# root. Prints a markdown report on stdout, progress on stderr; KEEP=DIR keeps the logs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
ROWS="${1:-5000000}"
PORT="${BENCH_PORT:-55500}"
CLIENTS="${CLIENTS:-8}"
LOCK_TIMEOUT="${LOCK_TIMEOUT:-500ms}"
BLOCKER="${BLOCKER:-3}"
read -r -a RUN_KINDS <<<"${RUNS:-clean blocker}"
TANDEM="${TANDEM:-$ROOT/${BUILD_DIR:-build}/tandem}"
[ -x "$TANDEM" ] || scripts/build.sh >&2
STALLS="$ROOT/bench/backfill/app_stalls.py"
BINDIR="$(dirname "$(readlink -f "$(command -v postgres || echo /usr/lib/postgresql/15/bin/postgres)")")"
PARENT=/tmp
[ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 4000000 ] 2>/dev/null && PARENT=/dev/shm
WORK="$(mktemp -d "$PARENT/tandem-expand-e2e-XXXXXX")"
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
cleanup() {
  as_owner "$BINDIR/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  # KEEP=DIR keeps the commands' output, pgbench's logs and the server log.
  if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && find "$WORK" -maxdepth 1 -type f -exec cp {} "$KEEP" \; && cp -r "$WORK/project" "$KEEP"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
as_owner "$BINDIR/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
as_owner "$BINDIR/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w -o \
  "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
   -c full_page_writes=off -c max_connections=200 -c log_checkpoints=on \
   -c log_autovacuum_min_duration=0 -c log_lock_waits=on -c deadlock_timeout=${LOCK_WAIT_LOG_MS:-50}ms \
   -c log_line_prefix='%n [%p] <%a> '" start >/dev/null
SERVER="postgresql://postgres@127.0.0.1:$PORT"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
now() { date +%s.%N; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
load() { uptime | sed 's/.*load average: //'; }
log() { echo "[$(date -u +%T)] $*" >&2; }

log "loading $ROWS rows into a template database (port $PORT, cluster in $PARENT)"
"${PSQL[@]}" "$SERVER/postgres" -c "CREATE DATABASE tmpl"
"${PSQL[@]}" "$SERVER/tmpl" \
  -c "CREATE TABLE t (id bigint PRIMARY KEY, name text NOT NULL, email text, n int)" \
  -c "INSERT INTO t SELECT g, 'user' || g, 'u' || g || '@example.com', g
      FROM generate_series(1, $ROWS) g" \
  -c "VACUUM ANALYZE t"
copy() {  # a fresh copy of the template, checkpointed so that no earlier write is flushed later
  "${PSQL[@]}" "$SERVER/postgres" -c "CREATE DATABASE $1 TEMPLATE tmpl" -c "CHECKPOINT"
}

# The project: one online migration, and the lock_timeout the target is read from.
VERSION=20260101000000
mkdir -p "$WORK/project/db/migrations"
cat >"$WORK/project/db/migrations/${VERSION}_rename_name.sql" <<'SQL'
-- tandem:online
-- migrate:up
ALTER TABLE t RENAME COLUMN name TO full_name;
SQL
cat >"$WORK/project/tandem.toml" <<TOML
[release]
lock_timeout = "$LOCK_TIMEOUT"
TOML
# lock_timeout in ms, read back from the file the runs use.
LT_MS=$(sed -n 's/^lock_timeout *= *"\{0,1\}\([0-9]*\)\(ms\|s\|\)"\{0,1\}.*/\1 \2/p' \
  "$WORK/project/tandem.toml" | awk '{ print $2 == "s" ? $1 * 1000 : $1 }')
TARGET_MS=$((LT_MS + 100))
tandem_in() {  # DB ARGS...: tandem against one database, from the project directory
  local db="$1"
  shift
  (cd "$WORK/project" && "$TANDEM" --database-url "$SERVER/$db" "$@")
}
check_end_state() {  # DB: the rename is complete and every row kept its value
  local out
  out=$("${PSQL[@]}" -At "$SERVER/$1" -c "SELECT
      (SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'name'),
      (SELECT attnotnull FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'full_name'),
      (SELECT count(*) FROM t WHERE full_name IS NULL)")
  [ "$out" = "0|t|0" ] || { log "end state of $1 is wrong: name columns|full_name NOT NULL|NULLs = $out"; exit 1; }
}
header() {  # COMMAND LOAD_AT_START [NOTE]
  echo "- \`$1\`${3:+ ($3)}; load average at its start $2, at $(date -u '+%H:%M:%S') UTC $(load)"
}

echo "# bench/expand/e2e.sh: online column rename, $ROWS rows"
echo
echo "Command: \`${E2E:+E2E=$E2E }${APP:+APP=$APP }RUNS=\"${RUN_KINDS[*]}\" CLIENTS=$CLIENTS LOCK_TIMEOUT=$LOCK_TIMEOUT BLOCKER=$BLOCKER BENCH_PORT=$PORT bench/expand/e2e.sh $ROWS\`"
echo "Started $(date -u '+%F %H:%M:%S') UTC, load average $(load); $(nproc) CPUs;" \
  "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}'); $("$TANDEM" --version 2>&1 | head -1)" \
  "($TANDEM, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))."
echo

# ---------------------------------------------------------------------------------------------
# (a) end to end, no app.
E2E_EXPAND_MS=0 E2E_BACKFILL_MS=0 E2E_CONTRACT_MS=0
if [ "${E2E:-1}" != 0 ]; then
  log "(a) reference: UPDATE t SET name = name over $ROWS rows"
  copy ref
  ref_load="$(load)"
  ref_ms=$("${PSQL[@]}" "$SERVER/ref" -c '\timing on' -c "UPDATE t SET name = name" |
    awk '/^Time:/ {print int($2)}')
  log "(a) reference: $ref_ms ms"
  # Dropped once measured, so that its autovacuum does not run beside the next measurement.
  "${PSQL[@]}" "$SERVER/postgres" -c "DROP DATABASE ref"
  copy e2e
  e2e_load="$(load)"
  log "(a) expand: tandem release"
  t0=$(now)
  tandem_in e2e release >"$WORK/release.out" 2>&1 || { cat "$WORK/release.out" >&2; exit 1; }
  t1=$(now)
  log "(a) backfill: tandem worker --once"
  tandem_in e2e worker --once >"$WORK/worker.out" 2>&1 || { cat "$WORK/worker.out" >&2; exit 1; }
  t2=$(now)
  log "(a) contract: tandem complete $VERSION --now"
  tandem_in e2e complete "$VERSION" --now >"$WORK/complete.out" 2>&1 ||
    { cat "$WORK/complete.out" >&2; exit 1; }
  t3=$(now)
  check_end_state e2e
  E2E_EXPAND_MS=$(ms_between "$t0" "$t1")
  E2E_BACKFILL_MS=$(ms_between "$t1" "$t2")
  E2E_CONTRACT_MS=$(ms_between "$t2" "$t3")
  total_ms=$((E2E_EXPAND_MS + E2E_BACKFILL_MS + E2E_CONTRACT_MS))
  read -r job_ms batches < <("${PSQL[@]}" -At -F ' ' "$SERVER/e2e" -c \
    "SELECT duration_ms, progress->>'batches' FROM tandem.jobs WHERE kind = 'background' ORDER BY id DESC LIMIT 1")
  echo "## (a) End-to-end time of the rename, no application"
  echo
  header "UPDATE t SET name = name" "$ref_load" "reference"
  header "tandem release; tandem worker --once; tandem complete $VERSION --now" "$e2e_load"
  echo
  echo "| phase | command | wall ms |"
  echo "|---|---|---|"
  echo "| expand | \`tandem release\` | $E2E_EXPAND_MS |"
  echo "| backfill | \`tandem worker --once\` (job duration_ms $job_ms, $batches batches) | $E2E_BACKFILL_MS |"
  echo "| contract | \`tandem complete $VERSION --now\` | $E2E_CONTRACT_MS |"
  echo "| **total** | | **$total_ms** |"
  echo "| reference | \`UPDATE t SET name = name\` (one statement) | $ref_ms |"
  awk -v t="$total_ms" -v r="$ref_ms" -v j="$job_ms" -v rows="$ROWS" 'BEGIN {
    printf "\nRatio total / reference = **%.2f** (%d vs %d ms; %.0f vs %.0f rows/s); the backfill job alone (its duration_ms) / reference = %.2f. Issue 16 sets no number for the end-to-end ratio; issue 13 asks a background migration for at least 0.9 of one UPDATE'"'"'s rows/s, i.e. a job / reference ratio of at most 1.11.\n\n",
      t / r, t, r, rows / (t / 1000), rows / (r / 1000), j / r }'
  "${PSQL[@]}" "$SERVER/postgres" -c "DROP DATABASE e2e"
fi

# ---------------------------------------------------------------------------------------------
# (b) the app's stalls during expand and contract.
[ "${APP:-1}" = 0 ] && exit 0
cat >"$WORK/old_app.sql" <<SQL
\set id random(1, $ROWS)
\set v random(1, 1000000000)
UPDATE t SET name = 'p' || :v WHERE id = :id;
SELECT name, email FROM t WHERE id = :id;
SQL
sed 's/\bname\b/full_name/g' "$WORK/old_app.sql" >"$WORK/new_app.sql"

# The blocker: a session that read t in a transaction left open (its ACCESS SHARE lock
# conflicts with the ACCESS EXCLUSIVE of every catalog step), and a watcher session that ends
# it BLOCKER seconds after the first ACCESS EXCLUSIVE request on t is seen waiting, so that the
# step's attempts run into lock_timeout and retry for about BLOCKER seconds whenever in the
# command the step comes. start_blocker returns once the lock is held; stop_blocker ends both
# (if no step ever waited) and prints when the first wait was seen ("-" if never).
start_blocker() {  # DB
  PGAPPNAME=bench_blocker "${PSQL[@]}" "$SERVER/$1" -c "BEGIN" -c "SELECT 1 FROM t WHERE id = 1" \
    -c "SELECT pg_sleep(3600)" >/dev/null 2>&1 &
  BLOCKER_PID=$!
  until [ "$("${PSQL[@]}" -At "$SERVER/$1" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE l.relation = 't'::regclass AND l.granted AND a.application_name = 'bench_blocker'")" != 0 ]; do
    sleep 0.05
  done
  rm -f "$WORK/watcher.out"
  PGAPPNAME=bench_watcher "${PSQL[@]}" "$SERVER/$1" -c "DO \$\$
    DECLARE rel oid := 't'::regclass;
    BEGIN
      WHILE NOT EXISTS (SELECT 1 FROM pg_locks WHERE relation = rel AND mode = 'AccessExclusiveLock'
                        AND NOT granted) LOOP
        PERFORM pg_sleep(0.01);
      END LOOP;
      RAISE NOTICE 'first wait %', extract(epoch FROM clock_timestamp());
      PERFORM pg_sleep($BLOCKER);
      PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bench_blocker';
    END \$\$" >/dev/null 2>"$WORK/watcher.out" &
  WATCHER_PID=$!
}
stop_blocker() {  # DB
  "${PSQL[@]}" -At "$SERVER/$1" -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE application_name IN ('bench_blocker', 'bench_watcher')" >/dev/null
  wait "$BLOCKER_PID" "$WATCHER_PID" 2>/dev/null || true
  sed -n 's/.*first wait \([0-9.]*\).*/\1/p' "$WORK/watcher.out" | grep . || echo -
}
# Lock timeouts the server logged between two epochs (each one a failed attempt of a step).
lock_timeouts() {  # FROM TO
  awk -v a="$1" -v b="$2" '$1 + 0 >= a && $1 + 0 <= b && /canceling statement due to lock timeout/ { n++ }
    END { print n + 0 }' "$WORK/server.log"
}

# Who is connected, every 0.2 s until stopped, to name the holder of a logged lock wait.
start_pid_sampler() {  # DB
  while true; do
    "${PSQL[@]}" -At "$SERVER/$1" -c "SELECT pid, application_name FROM pg_stat_activity
      WHERE backend_type = 'client backend'" >>"$WORK/pids" 2>/dev/null || true
    sleep 0.2
  done &
  SAMPLER_PID=$!
}

# APP SCRIPT DB SECONDS LOGPREFIX: the app in the background, every transaction logged.
start_app() {
  pgbench -n -c "$CLIENTS" -j 2 -T "$3" -f "$1" -l --log-prefix="$4" "$SERVER/$2" \
    >"$4_pgbench.txt" 2>&1 &
  APP_PID=$!
  sleep 1  # connections made
}
# Window of an app run: the phases' time alone (from (a)), tripled for the app beside them, plus
# 20 s; WINDOW=seconds sets it instead (needed with E2E=0 on a large table).
window() { echo "${WINDOW:-$(( ($1 * 3) / 1000 + 20 ))}"; }

declare -a REPORT
for kind in "${RUN_KINDS[@]}"; do
  db="stall_$kind"
  copy "$db"
  blocker=0
  [ "$kind" = blocker ] && blocker=1
  # Old app: baseline, expand, backfill.
  log "(b) $kind: old app ($CLIENTS connections) through baseline, expand, backfill"
  rm -f "$WORK/old_$kind"*
  old_window=$(window $((E2E_EXPAND_MS + E2E_BACKFILL_MS + BLOCKER * 1000 * blocker)))
  start_app "$WORK/old_app.sql" "$db" "$old_window" "$WORK/old_$kind"
  app_pid=$APP_PID
  start_pid_sampler "$db"
  b0=$(now)
  sleep 4
  a_load="$(load)"
  [ "$blocker" = 1 ] && start_blocker "$db"
  e0=$(now)
  tandem_in "$db" release >"$WORK/release_$kind.out" 2>&1 || { cat "$WORK/release_$kind.out" >&2; exit 1; }
  e1=$(now)
  expand_wait=-
  [ "$blocker" = 1 ] && expand_wait=$(stop_blocker "$db")
  tandem_in "$db" worker --once >"$WORK/worker_$kind.out" 2>&1 || { cat "$WORK/worker_$kind.out" >&2; exit 1; }
  f1=$(now)
  kill "$SAMPLER_PID"
  wait "$app_pid" || true
  if ! awk -v f="$f1" '$5 + $6 / 1e6 >= f + 0.5 { found = 1; exit } END { exit !found }' "$WORK/old_$kind".*; then
    log "the old app's window ended before the backfill did: raise the window"; exit 1
  fi
  # New app: baseline, contract.
  log "(b) $kind: new app ($CLIENTS connections) through baseline, contract"
  rm -f "$WORK/new_$kind"*
  new_window=$(window $((E2E_CONTRACT_MS + BLOCKER * 1000 * blocker)))
  start_app "$WORK/new_app.sql" "$db" "$new_window" "$WORK/new_$kind"
  app_pid=$APP_PID
  c_b0=$(now)
  sleep 4
  b_load="$(load)"
  start_pid_sampler "$db"
  [ "$blocker" = 1 ] && start_blocker "$db"
  c0=$(now)
  tandem_in "$db" complete "$VERSION" --now >"$WORK/complete_$kind.out" 2>&1 ||
    { cat "$WORK/complete_$kind.out" >&2; exit 1; }
  c1=$(now)
  contract_wait=-
  [ "$blocker" = 1 ] && contract_wait=$(stop_blocker "$db")
  kill "$SAMPLER_PID"
  wait "$app_pid" || true
  if ! awk -v f="$c1" '$5 + $6 / 1e6 >= f + 0.5 { found = 1; exit } END { exit !found }' "$WORK/new_$kind".*; then
    log "the new app's window ended before the contract did: raise the window"; exit 1
  fi
  check_end_state "$db"
  # Attempts of the expand's and the contract's steps that ran into lock_timeout.
  expand_timeouts=$(lock_timeouts "$e0" "$e1")
  contract_timeouts=$(lock_timeouts "$c0" "$c1")
  since() { [ "$1" = - ] && echo "never" || awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f s after it started", a - b }'; }
  failed_old=$(grep -c "aborted\|ERROR" "$WORK/old_${kind}_pgbench.txt" || true)
  failed_new=$(grep -c "aborted\|ERROR" "$WORK/new_${kind}_pgbench.txt" || true)
  python3 "$STALLS" --logs "$WORK/old_$kind.*" --server-log "$WORK/server.log" --pids "$WORK/pids" --top 3 \
    --phase "baseline (old app):$(awk -v a="$b0" 'BEGIN { printf "%.3f", a + 1 }'):$e0" \
    --phase "expand:$e0:$e1" --phase "backfill:$e1:$f1" >"$WORK/stalls_$kind.json"
  python3 "$STALLS" --logs "$WORK/new_$kind.*" --server-log "$WORK/server.log" --pids "$WORK/pids" --top 3 \
    --phase "baseline (new app):$(awk -v a="$c_b0" 'BEGIN { printf "%.3f", a + 1 }'):$c0" \
    --phase "contract:$c0:$c1" >>"$WORK/stalls_$kind.json"
  REPORT+=("$(
    echo "### run \"$kind\"$([ "$blocker" = 1 ] && echo ": a transaction holding ACCESS SHARE on t, ended ${BLOCKER} s after a step of expand or contract first waits for it")"
    echo
    header "pgbench -n -c $CLIENTS -j 2 -T $old_window -f old_app.sql -l" "$a_load" "old names; beside it tandem release, then tandem worker --once"
    header "pgbench -n -c $CLIENTS -j 2 -T $new_window -f new_app.sql -l" "$b_load" "new names; beside it tandem complete $VERSION --now"
    echo "- app errors/aborted clients: old app $failed_old, new app $failed_new"
    echo "- attempts that ran into lock_timeout (server log): expand $expand_timeouts, contract $contract_timeouts$([ "$blocker" = 1 ] &&
      echo "; first step waiting for the blocker: expand $(since "$expand_wait" "$e0"), contract $(since "$contract_wait" "$c0")")"
    echo
    echo "| phase | seconds | app tps | p99 ms | max latency ms | longest gap ms | target ms | max latency / target | what the server logged during the slowest transaction (checkpoints, autovacuum, lock waits over ${LOCK_WAIT_LOG_MS:-50} ms) |"
    echo "|---|---|---|---|---|---|---|---|---|"
    python3 - "$WORK/stalls_$kind.json" "$TARGET_MS" <<'EOF'
import json, sys
target = int(sys.argv[2])
for line in open(sys.argv[1]):
    p = json.loads(line)
    judged = p["phase"] in ("expand", "contract")
    ratio = f"{p['max_latency_ms'] / target:.2f}" if judged and p["max_latency_ms"] else "-"
    ev = [e["what"].replace("|", "/")[:110] for e in p.get("events", [])]
    events = ("; ".join(ev[:2]) + (f" (+{len(ev) - 2} more)" if len(ev) > 2 else "")) or "none"
    print(f"| {p['phase']} | {p['seconds']:.1f} | {p['tps']:.0f} | {p['p99_ms']} | "
          f"{p['max_latency_ms']} | {p['longest_gap_ms']} | {target if judged else '-'} | "
          f"{ratio}{' (met)' if judged and p['max_latency_ms'] <= target else (' (MISSED)' if judged else '')} | {events} |")
print()
for line in open(sys.argv[1]):
    p = json.loads(line)
    waits = p.get("lock_waits_by_holder", {})
    print(f"- {p['phase']}: lock waits the server logged (any session: the app's, and tandem's own while the blocker is held), by the application_name of the "
          "session holding the lock: " + (", ".join(f"{h} {w['count']} (longest {w['longest_ms']} ms)"
                                                    for h, w in waits.items()) or "none"))
EOF
    echo
  )")
  "${PSQL[@]}" "$SERVER/postgres" -c "DROP DATABASE $db" >/dev/null
done

echo "## (b) The application's longest stall during expand and contract"
echo
echo "Target: at most lock_timeout + 100 ms = $LT_MS + 100 = **$TARGET_MS ms** (lock_timeout from the"
echo "project's tandem.toml: \`[release] lock_timeout = \"$LOCK_TIMEOUT\"\`). Max latency: the slowest app"
echo "transaction overlapping the phase; longest gap: the longest time in the phase in which no"
echo "transaction of any client ended. The backfill row is informative (issue 13's target for an"
echo "app beside a background migration is 150 ms)."
echo
for r in "${REPORT[@]}"; do echo "$r"; echo; done
echo "Finished $(date -u '+%F %H:%M:%S') UTC, load average $(load)."
