#!/usr/bin/env bash
# Benchmark for issue 2: tandem vs dbmate applying 1,000 small migrations to the same embedded
# PostgreSQL (fresh database per run, runs alternated), and `tandem status` over 10,000 files.
#
#   bench/runner/run.sh [RUNS]          (default 5 runs of each tool)
#
# dbmate comes from the npm registry (packages dbmate and @dbmate/linux-x64) into .cache/bench.
# Prints a JSON summary on stdout; human-readable lines on stderr.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
RUNS="${1:-5}"
TANDEM="$ROOT/${BUILD_DIR:-build}/tandem"
[ -x "$TANDEM" ] || scripts/build.sh >&2
CACHE="$ROOT/.cache/bench"
mkdir -p "$CACHE"
if [ ! -x "$CACHE/node_modules/.bin/dbmate" ]; then
  (cd "$CACHE" && npm install --silent --no-audit --no-fund dbmate @dbmate/linux-x64 >&2)
fi
DBMATE="$(readlink -f "$CACHE/node_modules/@dbmate/linux-x64/bin/dbmate" 2>/dev/null || true)"
[ -x "$DBMATE" ] || DBMATE="$CACHE/node_modules/.bin/dbmate"

WORK="$(mktemp -d /tmp/tandem-bench-XXXXXX)"
cleanup() { (cd "$WORK" && "$TANDEM" dev --stop >/dev/null 2>&1) || true; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK"
BASE_URL="$("$TANDEM" dev)"           # postgresql://postgres@127.0.0.1:PORT/postgres
SERVER="${BASE_URL%/postgres}"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

# 1,000 small migrations in the dbmate format, which both tools read unchanged.
mkdir -p m1000
for i in $(seq 1 1000); do
  v=$(printf '2026%010d' "$i")
  printf -- '-- migrate:up\nCREATE TABLE t%d (id bigint PRIMARY KEY, v text);\nINSERT INTO t%d VALUES (1, %s);\n\n-- migrate:down\nDROP TABLE t%d;\n' \
    "$i" "$i" "'x'" "$i" > "m1000/${v}_create_t$i.sql"
done

now_ms() { date +%s%3N; }
# dbmate is measured twice: as its users run it (`dbmate up` also writes db/schema.sql with
# pg_dump after migrating), and with --no-dump-schema (the migration engine alone).
tandem_times=(); dbmate_times=(); nodump_times=()
for run in $(seq 1 "$RUNS"); do
  for tool in tandem dbmate dbmate-nodump; do
    db="bench_${tool//-/_}_$run"
    "${PSQL[@]}" "$BASE_URL" -c "CREATE DATABASE $db"
    # DROP DATABASE requests a checkpoint that otherwise runs in the background during the next
    # timed run (it made every run after the first 3x slower, whatever the tool): finish it now.
    "${PSQL[@]}" "$BASE_URL" -c "CHECKPOINT"
    start=$(now_ms)
    if [ "$tool" = tandem ]; then
      "$TANDEM" --database-url "$SERVER/$db" --dir m1000 up >/dev/null
    elif [ "$tool" = dbmate ]; then
      "$DBMATE" --url "$SERVER/$db?sslmode=disable" --migrations-dir m1000 up >/dev/null
    else
      "$DBMATE" --url "$SERVER/$db?sslmode=disable" --migrations-dir m1000 --no-dump-schema up >/dev/null
    fi
    elapsed=$(( $(now_ms) - start ))
    count=$("${PSQL[@]}" -At "$SERVER/$db" -c "SELECT count(*) FROM pg_tables WHERE tablename ~ '^t[0-9]+$'")
    [ "$count" = 1000 ] || { echo "$tool applied $count of 1000" >&2; exit 1; }
    case "$tool" in
      tandem) tandem_times+=("$elapsed") ;;
      dbmate) dbmate_times+=("$elapsed") ;;
      *) nodump_times+=("$elapsed") ;;
    esac
    echo "run $run: $tool $elapsed ms" >&2
    "${PSQL[@]}" "$BASE_URL" -c "DROP DATABASE $db"
  done
done

# tandem status over 10,000 files: once all pending, once all applied.
mkdir -p m10000
for i in $(seq 1 10000); do
  v=$(printf '2026%010d' "$i")
  printf -- '-- migrate:up\nCREATE TABLE s%d (id int);\n-- migrate:down\nDROP TABLE s%d;\n' "$i" "$i" > "m10000/${v}_s$i.sql"
done
"${PSQL[@]}" "$BASE_URL" -c "CREATE DATABASE bench_status"
status_run() {
  local best=999999
  for _ in 1 2 3 4 5; do
    local s e
    s=$(now_ms); "$TANDEM" --database-url "$SERVER/bench_status" --dir m10000 status --format json >/dev/null; e=$(now_ms)
    (( e - s < best )) && best=$(( e - s ))
  done
  echo "$best"
}
status_pending=$(status_run)
"$TANDEM" --database-url "$SERVER/bench_status" --dir m10000 up >/dev/null
status_applied=$(status_run)
echo "status over 10,000 files: ${status_pending} ms (all pending), ${status_applied} ms (all applied)" >&2

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
tm=$(median "${tandem_times[@]}"); dm=$(median "${dbmate_times[@]}"); nm=$(median "${nodump_times[@]}")
ratio=$(awk -v t="$tm" -v d="$dm" 'BEGIN { printf "%.2f", t / d }')
ratio_nodump=$(awk -v t="$tm" -v d="$nm" 'BEGIN { printf "%.2f", t / d }')
echo "1,000 migrations: tandem median $tm ms; dbmate median $dm ms (ratio $ratio); dbmate --no-dump-schema median $nm ms (ratio $ratio_nodump)" >&2
cat <<JSON
{"date": "$(date -u +%Y-%m-%d)", "machine": "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME")",
 "postgres": "$("${PSQL[@]}" -At "$BASE_URL" -c 'SHOW server_version')", "dbmate": "$("$DBMATE" --version 2>&1 | head -1)",
 "runs": $RUNS, "tandem_ms": [$(IFS=,; echo "${tandem_times[*]}")], "dbmate_ms": [$(IFS=,; echo "${dbmate_times[*]}")], "dbmate_no_dump_ms": [$(IFS=,; echo "${nodump_times[*]}")],
 "tandem_median_ms": $tm, "dbmate_median_ms": $dm, "ratio_tandem_to_dbmate": $ratio,
 "dbmate_no_dump_median_ms": $nm, "ratio_tandem_to_dbmate_no_dump": $ratio_nodump,
 "status_10000_files_pending_ms": $status_pending, "status_10000_files_applied_ms": $status_applied}
JSON
