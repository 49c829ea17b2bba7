#!/usr/bin/env bash
# Benchmark for issue 16's dual-write trigger: what keeping an old column and its successor in
# step costs the app's writes, with no trigger, with tandem's trigger (src/expand/dual_write.h,
# printed by the expand_trigger_sql helper so the bench runs the generator's exact SQL), and
# with a trigger shaped like pgroll's (its template, from the research: one PL/pgSQL function
# and trigger per column and direction, a %TYPE variable for every column of the table, and a
# per-row comparison of current_setting('search_path') with the new version schema's name).
#
#   bench/expand/run.sh [ROWS] [SECONDS]     (defaults 1,000,000 rows, 20 s per pgbench run)
#
# (a) one bulk UPDATE of every row, of the old column (the trigger must copy it) and of an
#     unrelated column (tandem's trigger is not called at all), ROUNDS times each on a fresh
#     table; the median of each is reported.
# (b) single-row UPDATEs by random id from 8 connections (pgbench, prepared statements) for
#     SECONDS each, again of the old column and of an unrelated column; tps per variant.
# Starts its own PostgreSQL (initdb, port BENCH_PORT, default 55700; run as the postgres user
# when started as root), fsync=off so that disk flushes do not hide the CPU the triggers cost.
# Prints a markdown table on stdout; progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
ROWS="${1:-1000000}"
SECONDS_PER_RUN="${2:-20}"
ROUNDS="${ROUNDS:-3}"
PGBENCH_ROUNDS="${PGBENCH_ROUNDS:-2}"
PORT="${BENCH_PORT:-55700}"
BUILD="${BUILD:-$ROOT/build}"
[ -x "$BUILD/bench/expand_trigger_sql" ] || cmake --build "$BUILD" --target expand_trigger_sql >&2
BINDIR="$(dirname "$(readlink -f "$(command -v postgres)")")"
WORK="$(mktemp -d /tmp/tandem-expand-bench-XXXXXX)"
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
cleanup() {
  as_owner "$BINDIR/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
as_owner "$BINDIR/initdb" -D "$WORK/data" -U postgres -A trust --no-sync >/dev/null
as_owner "$BINDIR/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w -o \
  "-p $PORT -k $WORK -c listen_addresses='' -c fsync=off -c shared_buffers=1GB \
   -c max_wal_size=8GB -c checkpoint_timeout=30min -c max_connections=30" start >/dev/null
CONN=(-h "$WORK" -p "$PORT" -U postgres)
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "${CONN[@]}" -d postgres)

# The same table for every variant: new_name is the successor of name, needs_backfill is
# pgroll's bookkeeping column (unused by the other variants). Rows start backfilled.
load() {
  "${PSQL[@]}" -c "DROP TABLE IF EXISTS t" \
    -c "CREATE TABLE t (id bigint PRIMARY KEY, name text, email text, n int, new_name text,
                        needs_backfill boolean DEFAULT true)" \
    -c "INSERT INTO t SELECT g, 'user' || g, 'u' || g || '@example.com', g, 'user' || g, false
        FROM generate_series(1, $ROWS) g"
  case "$1" in
    none) ;;
    ours) "$BUILD/bench/expand_trigger_sql" t name new_name | "${PSQL[@]}" -f - ;;
    pgroll) "${PSQL[@]}" -f "$WORK/pgroll.sql" ;;
    # The floor of any PL/pgSQL trigger: the same trigger definition, a body that only returns.
    floor)
      "$BUILD/bench/expand_trigger_sql" t name new_name | sed -n '/^CREATE OR REPLACE TRIGGER/p' |
        "${PSQL[@]}" -c 'CREATE OR REPLACE FUNCTION _tandem_dw_t() RETURNS trigger LANGUAGE plpgsql
                          AS $$BEGIN RETURN NEW; END$$' -f -
      ;;
  esac
  "${PSQL[@]}" -c "VACUUM ANALYZE t" -c "CHECKPOINT"
}

# pgroll's template, both directions, for this table (the search_path test against a version
# schema the bench's sessions do not use, so the up direction copies, as for the old app).
pgroll_function() {  # NAME CONDITION ASSIGNMENT
  cat <<SQL
CREATE OR REPLACE FUNCTION "$1"() RETURNS TRIGGER LANGUAGE PLPGSQL AS \$\$
DECLARE
  "id" "public"."t"."id"%TYPE := NEW."id";
  "name" "public"."t"."name"%TYPE := NEW."name";
  "email" "public"."t"."email"%TYPE := NEW."email";
  "n" "public"."t"."n"%TYPE := NEW."n";
  "new_name" "public"."t"."new_name"%TYPE := NEW."new_name";
  "needs_backfill" "public"."t"."needs_backfill"%TYPE := NEW."needs_backfill";
  latest_schema text;
  search_path text;
BEGIN
  SELECT current_setting INTO search_path FROM current_setting('search_path');
  IF search_path $2 'public_02_rename_name' THEN
    $3
    NEW."needs_backfill" = false;
  END IF;
  RETURN NEW;
END; \$\$;
CREATE OR REPLACE TRIGGER "$1" BEFORE UPDATE OR INSERT ON "t"
  FOR EACH ROW EXECUTE PROCEDURE "$1"();
SQL
}
{
  pgroll_function _pgroll_trigger_t_name '!=' 'NEW."new_name" = ("name");'
  pgroll_function _pgroll_trigger_t_new_name '=' 'NEW."name" = ("new_name");'
} >"$WORK/pgroll.sql"

median() { sort -n | awk '{v[NR] = $1} END {print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# SQL -> "WALL_MS/CPU_MS": psql's \timing, and the CPU time (user + system) the statement's
# backend spent, read from /proc before and after it. On a shared machine under load the wall
# clock mostly measures the other processes; the backend's CPU time does not.
TICK_MS=$((1000 / $(getconf CLK_TCK)))
backend_cpu_ms() { awk -v t="$TICK_MS" '{print ($14 + $15) * t}' "/proc/$1/stat"; }
timed() {
  rm -f "$WORK/pid" "$WORK/done"
  cat >"$WORK/timed.sql" <<SQL
SELECT pg_backend_pid() \\g $WORK/pid
SELECT pg_sleep(1);
\\timing on
$1;
\\timing off
\\! touch $WORK/done
SELECT pg_sleep(1);
SQL
  "${PSQL[@]}" -At -f "$WORK/timed.sql" >"$WORK/timing" &
  local psql_pid=$! pid cpu0 cpu1
  until [ -s "$WORK/pid" ]; do sleep 0.02; done
  pid="$(head -1 "$WORK/pid")"
  cpu0="$(backend_cpu_ms "$pid")"
  until [ -e "$WORK/done" ]; do sleep 0.02; done
  cpu1="$(backend_cpu_ms "$pid")"
  wait "$psql_pid"
  echo "$(awk '/^Time:/ {print $2}' "$WORK/timing")/$((cpu1 - cpu0))"
}

# VARIANTS="none ours pgroll floor" adds the floor (an empty PL/pgSQL trigger on the same columns).
read -r -a VARIANTS <<<"${VARIANTS:-none ours pgroll}"
declare -A bulk_old bulk_other tps_old tps_other
for v in "${VARIANTS[@]}"; do bulk_old[$v]="" bulk_other[$v]="" tps_old[$v]="" tps_other[$v]=""; done
for round in $(seq 1 "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do
    echo "(a) round $round, $v: bulk UPDATE of $ROWS rows" >&2
    load "$v"
    bulk_old[$v]+="$(timed "UPDATE t SET name = 'person'") "
    load "$v"
    bulk_other[$v]+="$(timed "UPDATE t SET n = n + 1") "
  done
done

cat >"$WORK/old.sql" <<SQL
\set id random(1, $ROWS)
\set v random(1, 1000000000)
UPDATE t SET name = 'p' || :v WHERE id = :id;
SQL
cat >"$WORK/other.sql" <<SQL
\set id random(1, $ROWS)
UPDATE t SET n = n + 1 WHERE id = :id;
SQL
pgb() {  # SCRIPT -> tps
  pgbench "${CONN[@]}" -n -M prepared -c 8 -j 2 -T "$SECONDS_PER_RUN" -f "$1" postgres 2>/dev/null |
    awk '/^tps = / {print $3; exit}'
}
# PGBENCH_ROUNDS rounds, the variants in turn (reversed every other round, so that a drift of
# the machine's load does not favour one variant); each variant on a freshly loaded table.
for round in $(seq 1 "$PGBENCH_ROUNDS"); do
  order=("${VARIANTS[@]}")
  if [ $((round % 2)) = 0 ]; then
    order=()
    for ((i = ${#VARIANTS[@]} - 1; i >= 0; i--)); do order+=("${VARIANTS[i]}"); done
  fi
  for v in "${order[@]}"; do
    echo "(b) round $round, $v: 8 connections, ${SECONDS_PER_RUN}s per script" >&2
    load "$v"
    tps_old[$v]+="$(pgb "$WORK/old.sql") "
    tps_other[$v]+="$(pgb "$WORK/other.sql") "
  done
done

# Medians (the mean of the two middle values for an even count) of a space-separated list of WALL/CPU pairs (field 1 or 2) or plain numbers.
med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | cut -d/ -f"$2" | median; }
echo "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}'), $ROWS rows; bulk: median of" \
  "$ROUNDS runs, wall ms and the backend's CPU ms; pgbench: 8 connections, median of" \
  "$PGBENCH_ROUNDS runs of ${SECONDS_PER_RUN} s; $(date -u '+%F %H:%M') UTC, load" \
  "average at the end:$(uptime | sed 's/.*load average://')"
echo
echo "| variant | bulk UPDATE of old column: wall ms | CPU ms | CPU x none | bulk UPDATE of other column: wall ms | CPU ms | CPU x none | tps, old column | x none | tps, other column | x none |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for v in "${VARIANTS[@]}"; do
  awk -v v="$v" \
    -v ow="$(med "${bulk_old[$v]}" 1)" -v oc="$(med "${bulk_old[$v]}" 2)" \
    -v boc="$(med "${bulk_old[none]}" 2)" \
    -v uw="$(med "${bulk_other[$v]}" 1)" -v uc="$(med "${bulk_other[$v]}" 2)" \
    -v buc="$(med "${bulk_other[none]}" 2)" \
    -v to="$(med "${tps_old[$v]}" 1)" -v bto="$(med "${tps_old[none]}" 1)" \
    -v tu="$(med "${tps_other[$v]}" 1)" -v btu="$(med "${tps_other[none]}" 1)" \
    'BEGIN { printf "| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f |\n",
             v, ow, oc, oc / boc, uw, uc, uc / buc, to, to / bto, tu, tu / btu }'
done
echo
echo "Every run (wall/CPU ms; tps):"
for v in "${VARIANTS[@]}"; do
  echo "- $v: bulk old column ${bulk_old[$v]}; bulk other column ${bulk_other[$v]};" \
    "tps old column ${tps_old[$v]}; tps other column ${tps_other[$v]}"
done
