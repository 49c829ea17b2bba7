#!/usr/bin/env bash
# Benchmark for issue 2: tandem vs dbmate applying 1,000 small migrations to the same embedded
# PostgreSQL (fresh database per run, runs alternated), and `tandem status` over 10,000 files.
#
#   bench/runner/run.sh [RUNS]          (default 5 runs of each tool per cluster)
#
# The migrations run twice over: on the embedded server as tandem starts it (its cluster in
# memory, /dev/shm, where the runners' own costs show), and on a cluster on the VM's disk
# (TMPDIR=/tmp), where creating each table's four files dominates both tools' time. psql running the same SQL, one transaction per migration and no
# bookkeeping, measures the server's floor. dbmate comes from the npm registry (packages dbmate
# and @dbmate/linux-x64) into .cache/bench. Prints a JSON summary on stdout; progress on stderr.
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
cleanup() {
  for d in "$WORK/tmpfs" "$WORK/disk"; do
    (cd "$d" 2>/dev/null && "$TANDEM" dev --stop >/dev/null 2>&1) || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
# Bash's own clock: no fork and exec of `date` inside the timed interval.
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v t="$1" -v d="$2" 'BEGIN { printf "%.2f", t / d }'; }

# 1,000 small migrations in the dbmate format, which both tools read unchanged.
mkdir -p "$WORK/m1000"
for i in $(seq 1 1000); do
  v=$(printf '2026%010d' "$i")
  printf -- '-- migrate:up\nCREATE TABLE t%d (id bigint PRIMARY KEY, v text);\nINSERT INTO t%d VALUES (1, %s);\n\n-- migrate:down\nDROP TABLE t%d;\n' \
    "$i" "$i" "'x'" "$i" > "$WORK/m1000/${v}_create_t$i.sql"
  # The floor: the same SQL through psql, one transaction per migration and no bookkeeping.
  printf "BEGIN;\nCREATE TABLE t%d (id bigint PRIMARY KEY, v text);\nINSERT INTO t%d VALUES (1, 'x');\nCOMMIT;\n" \
    "$i" "$i" >> "$WORK/floor.sql"
done

# run_set TMPDIR LABEL: starts an embedded server with its cluster under TMPDIR (empty: where
# tandem puts it by default, in memory when /dev/shm has room), alternates the tools RUNS times,
# leaves the server running and sets BASE_URL, SERVER and <LABEL>_JSON.
run_set() {
  local tmpdir="$1" label="$2"
  mkdir -p "$WORK/$label"
  cd "$WORK/$label"
  if [ -n "$tmpdir" ]; then
    BASE_URL="$(TMPDIR="$tmpdir" "$TANDEM" dev)"     # postgresql://postgres@127.0.0.1:PORT/postgres
  else
    BASE_URL="$(env -u TMPDIR "$TANDEM" dev)"
  fi
  echo "$label: cluster in $(psql -X -At "$BASE_URL" -c 'SHOW data_directory')" >&2
  SERVER="${BASE_URL%/postgres}"
  local tandem_times=() dbmate_times=() nodump_times=() floor_times=()
  local run tool db start elapsed count
  for run in $(seq 1 "$RUNS"); do
    for tool in tandem dbmate dbmate-nodump psql-floor; do
      db="bench_${tool//-/_}_$run"
      "${PSQL[@]}" "$BASE_URL" -c "CREATE DATABASE $db"
      # DROP DATABASE requests a checkpoint that otherwise runs in the background during the
      # next timed run (it made every run after the first 3x slower, whatever the tool).
      "${PSQL[@]}" "$BASE_URL" -c "CHECKPOINT"
      start=$(now_ms)
      if [ "$tool" = tandem ]; then
        "$TANDEM" --database-url "$SERVER/$db" --dir "$WORK/m1000" up >/dev/null
      elif [ "$tool" = psql-floor ]; then
        "${PSQL[@]}" "$SERVER/$db" -f "$WORK/floor.sql" >/dev/null
      elif [ "$tool" = dbmate ]; then
        "$DBMATE" --url "$SERVER/$db?sslmode=disable" --migrations-dir "$WORK/m1000" up >/dev/null
      else
        "$DBMATE" --url "$SERVER/$db?sslmode=disable" --migrations-dir "$WORK/m1000" \
          --no-dump-schema up >/dev/null
      fi
      elapsed=$(( $(now_ms) - start ))
      count=$("${PSQL[@]}" -At "$SERVER/$db" -c "SELECT count(*) FROM pg_tables WHERE tablename ~ '^t[0-9]+$'")
      [ "$count" = 1000 ] || { echo "$tool applied $count of 1000" >&2; exit 1; }
      case "$tool" in
        tandem) tandem_times+=("$elapsed") ;;
        dbmate) dbmate_times+=("$elapsed") ;;
        psql-floor) floor_times+=("$elapsed") ;;
        *) nodump_times+=("$elapsed") ;;
      esac
      echo "$label run $run: $tool $elapsed ms" >&2
      "${PSQL[@]}" "$BASE_URL" -c "DROP DATABASE $db"
    done
  done
  local tm dm nm fm
  tm=$(median "${tandem_times[@]}"); dm=$(median "${dbmate_times[@]}")
  nm=$(median "${nodump_times[@]}"); fm=$(median "${floor_times[@]}")
  echo "$label: tandem median $tm ms; dbmate median $dm ms (ratio $(ratio "$tm" "$dm")); dbmate --no-dump-schema median $nm ms (ratio $(ratio "$tm" "$nm")); psql floor $fm ms" >&2
  printf -v "${label}_JSON" '{"tandem_ms": [%s], "dbmate_ms": [%s], "dbmate_no_dump_ms": [%s], "psql_floor_ms": [%s], "tandem_median_ms": %s, "dbmate_median_ms": %s, "dbmate_no_dump_median_ms": %s, "psql_floor_median_ms": %s, "ratio_tandem_to_dbmate": %s, "ratio_tandem_to_dbmate_no_dump": %s}' \
    "$(IFS=,; echo "${tandem_times[*]}")" "$(IFS=,; echo "${dbmate_times[*]}")" \
    "$(IFS=,; echo "${nodump_times[*]}")" "$(IFS=,; echo "${floor_times[*]}")" "$tm" "$dm" "$nm" "$fm" \
    "$(ratio "$tm" "$dm")" "$(ratio "$tm" "$nm")"
}

run_set "" tmpfs            # the embedded server as it starts by default
(cd "$WORK/tmpfs" && "$TANDEM" dev --stop >/dev/null)
run_set /tmp disk            # its server stays up for the status runs below
cd "$WORK"
POSTGRES_VERSION="$("${PSQL[@]}" -At "$BASE_URL" -c 'SHOW server_version')"

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


cat <<JSON
{"date": "$(date -u +%Y-%m-%d)", "machine": "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME")",
 "postgres": "$POSTGRES_VERSION", "dbmate": "$("$DBMATE" --version 2>&1 | head -1)", "runs": $RUNS,
 "cluster_in_memory": $tmpfs_JSON,
 "cluster_on_disk": $disk_JSON,
 "status_10000_files_pending_ms": $status_pending, "status_10000_files_applied_ms": $status_applied}
JSON
