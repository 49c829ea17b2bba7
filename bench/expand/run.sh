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

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
timed() {  # SQL -> milliseconds
  "${PSQL[@]}" -c '\timing on' -c "$1" | awk '/^Time:/ {print $2}'
}

VARIANTS=(none ours pgroll)
declare -A bulk_old bulk_other tps_old tps_other
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
for v in "${VARIANTS[@]}"; do
  echo "(b) $v: 8 connections, ${SECONDS_PER_RUN}s per script" >&2
  load "$v"
  tps_old[$v]="$(pgb "$WORK/old.sql")"
  tps_other[$v]="$(pgb "$WORK/other.sql")"
done

m() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
base_old="$(m "${bulk_old[none]}")"
base_other="$(m "${bulk_other[none]}")"
echo "PostgreSQL $("$BINDIR/postgres" --version | awk '{print $3}'), $ROWS rows, $ROUNDS rounds" \
  "(bulk: median ms), pgbench 8 connections x ${SECONDS_PER_RUN} s; $(date -u +%F), load:$(uptime |
  sed 's/.*load average://')"
echo
echo "| variant | bulk UPDATE of old column, ms | x no trigger | bulk UPDATE of other column, ms | x no trigger | tps, old column | x no trigger | tps, other column | x no trigger |"
echo "|---|---|---|---|---|---|---|---|---|"
for v in "${VARIANTS[@]}"; do
  o="$(m "${bulk_old[$v]}")"
  u="$(m "${bulk_other[$v]}")"
  awk -v v="$v" -v o="$o" -v bo="$base_old" -v u="$u" -v bu="$base_other" \
    -v to="${tps_old[$v]}" -v bto="${tps_old[none]}" -v tu="${tps_other[$v]}" \
    -v btu="${tps_other[none]}" -v all_old="${bulk_old[$v]}" -v all_other="${bulk_other[$v]}" \
    'BEGIN { printf "| %s | %.0f (%s) | %.2f | %.0f (%s) | %.2f | %.0f | %.2f | %.0f | %.2f |\n",
             v, o, all_old, o / bo, u, all_other, u / bu, to, to / bto, tu, tu / btu }'
done
