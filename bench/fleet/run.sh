#!/usr/bin/env bash
# Benchmark for issue 14: tandem over a fleet.
#
#   bench/fleet/run.sh [DATABASES] [STATUS_DATABASES]     (defaults 200 and 500)
#
# Starts two PostgreSQL clusters of its own (initdb + pg_ctl, as the unprivileged user
# "postgres" when run as root, on the first free ports of PORT_BASE..PORT_BASE+99, PORT_BASE
# 55200 unless set, fsync off), creates
# STATUS_DATABASES databases spread over them (even numbers on the first cluster, odd on the
# second), then:
#   1. tandem release --target all over the first DATABASES, 10 migrations each, one of which
#      is SELECT pg_sleep(0.2) (network and lock latency); with --concurrency 1, then, after
#      resetting those databases, with --concurrency 8. Target: c8 <= 1.3 * c1 / 8.
#   2. tandem status --target all over all STATUS_DATABASES. Target: <= 3 s.
# Peak connections: pg_stat_activity's client backends on each cluster, sampled every 20 ms
# by one psql per cluster (\watch) while each command runs. Prints a JSON summary on stdout,
# and on stderr each figure against its target with the load average (a loaded machine
# inflates both; compare ratios measured under the same load).
# KEEP=1 leaves the clusters running (stop them with pg_ctl -D DIR/pgN/data stop);
# STATUS_ONLY=1 skips the releases.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
DATABASES="${1:-200}"
STATUS_DATABASES="${2:-500}"
TANDEM="${TANDEM:-$ROOT/${BUILD_DIR:-build}/tandem}"
[ -x "$TANDEM" ] || scripts/build.sh >&2
PGBIN="${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
WORK="$(mktemp -d /tmp/tandem-fleet-XXXXXX)"
chmod 755 "$WORK"
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi
PORTS=()
SAMPLERS=()

cleanup() {
  if [ -n "${KEEP:-}" ]; then echo "kept $WORK (ports ${PORTS[*]})" >&2; return; fi
  for pid in "${SAMPLERS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for c in 0 1; do
    [ -d "$WORK/pg$c/data" ] && "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg$c/data" -m immediate stop \
      >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

PORT_BASE="${PORT_BASE:-55200}"
for c in 0 1; do
  port=$PORT_BASE
  for p in $(seq "$PORT_BASE" $((PORT_BASE + 99))); do
    if port_free "$p" && [[ " ${PORTS[*]} " != *" $p "* ]]; then port=$p; break; fi
  done
  PORTS+=("$port")
  mkdir -p "$WORK/pg$c"
  [ ${#AS[@]} -gt 0 ] && chown postgres "$WORK/pg$c"
  "${AS[@]}" "$PGBIN/initdb" -D "$WORK/pg$c/data" -U postgres --auth=trust -E UTF8 --no-sync \
    >/dev/null
  "${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg$c/data" -l "$WORK/pg$c/log" -w start -o \
    "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$WORK/pg$c \
     -c max_connections=100 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null
done
url() { echo "postgresql://postgres@127.0.0.1:${PORTS[$(($1 % 2))]}/fleet_$1"; }
PSQL=(psql -X -q -v ON_ERROR_STOP=1)

echo "creating $STATUS_DATABASES databases on ports ${PORTS[*]}" >&2
for c in 0 1; do
  for ((i = c; i < STATUS_DATABASES; i += 2)); do echo "CREATE DATABASE fleet_$i;"; done |
    "${PSQL[@]}" "postgresql://postgres@127.0.0.1:${PORTS[$c]}/postgres" &
done
wait

# Two projects: the release fleet (the first DATABASES) and the status fleet (all).
write_project() {  # DIR COUNT
  mkdir -p "$1/db/migrations"
  {
    echo "[fleet]"
    echo "concurrency = 8"
    echo "max_failures = 1"
    for ((i = 0; i < $2; i++)); do
      printf '[[targets]]\nname = "db-%03d"\nurl = "%s"\n' "$i" "$(url "$i")"
    done
  } > "$1/tandem.toml"
  for m in $(seq 1 10); do
    if [ "$m" = 5 ]; then
      sql="SELECT pg_sleep(0.2);"
    else
      sql="CREATE TABLE bench_t$m (id bigint PRIMARY KEY, name text);"
    fi
    printf -- '-- migrate:up\n%s\n' "$sql" > "$1/db/migrations/$(printf '%02d' "$m")_step$m.sql"
  done
}
write_project "$WORK/release" "$DATABASES"
write_project "$WORK/status" "$STATUS_DATABASES"

# Samples the client backends on each cluster until stopped; writes one count per line.
start_sampling() {  # NAME
  SAMPLERS=()
  for c in 0 1; do
    printf "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()\n\\\\watch 0.02\n" |
      stdbuf -oL psql -X -At "postgresql://postgres@127.0.0.1:${PORTS[$c]}/postgres" > "$WORK/$1.c$c" 2>/dev/null &
    SAMPLERS+=($!)
  done
  sleep 0.2
}
stop_sampling() {  # NAME; sets PEAKS to "peak0 peak1"
  for pid in "${SAMPLERS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait "${SAMPLERS[@]}" 2>/dev/null || true
  SAMPLERS=()
  PEAKS="$(grep -E '^[0-9]+$' "$WORK/$1.c0" | sort -n | tail -1) $(grep -E '^[0-9]+$' "$WORK/$1.c1" | sort -n | tail -1)"
}
now() { date +%s.%N; }
timed() {  # CPU_FILE COMMAND...: runs COMMAND, writing its user and system seconds to CPU_FILE
  local file=$1
  shift
  if [ -x /usr/bin/time ]; then /usr/bin/time -f "%U %S" -o "$file" "$@"; else "$@"; fi
}

reset_release_fleet() {
  for ((i = 0; i < DATABASES; i++)); do
    echo "$(url "$i")"
  done | xargs -P 4 -I{} psql -X -q "{}" -c "DROP SCHEMA IF EXISTS tandem CASCADE" \
    -c "DO \$\$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables WHERE tablename LIKE 'bench_t%' LOOP EXECUTE format('DROP TABLE %I', t); END LOOP; END \$\$" \
    >/dev/null 2>&1
}

declare -A PEAKS_RELEASE SECONDS_RELEASE
release() {  # CONCURRENCY
  echo "release over $DATABASES databases, --concurrency $1" >&2
  start_sampling "release_c$1"
  local start end
  start=$(now)
  (cd "$WORK/release" && timed "$WORK/release_c$1.cpu" "$TANDEM" release --target all \
    --concurrency "$1" > "$WORK/release_c$1.out")
  end=$(now)
  stop_sampling "release_c$1"
  PEAKS_RELEASE[$1]="$PEAKS"
  SECONDS_RELEASE[$1]=$(echo "$end - $start" | bc -l)
  head -1 "$WORK/release_c$1.out" >&2
  # tandem's own CPU (user + system) per database: what no concurrency can overlap on a
  # machine with few cores, beside the servers' own.
  [ -s "$WORK/release_c$1.cpu" ] && awk -v d="$DATABASES" \
    '{ printf "  tandem CPU %.1f ms per database\n", ($1 + $2) * 1000 / d }' "$WORK/release_c$1.cpu" >&2
}
if [ -n "${STATUS_ONLY:-}" ]; then
  SECONDS_RELEASE=([1]=1 [8]=1) PEAKS_RELEASE=([1]="0 0" [8]="0 0")
else
  release 1
  reset_release_fleet
  release 8
fi
c1=${SECONDS_RELEASE[1]}
c8=${SECONDS_RELEASE[8]}

echo "status over $STATUS_DATABASES databases" >&2
# One run to warm the servers' caches of each database (as a fleet that is in use), then the
# measured run.
(cd "$WORK/status" && "$TANDEM" status --target all > /dev/null) || true
start_sampling status
start=$(now)
(cd "$WORK/status" && "$TANDEM" status --target all > "$WORK/status.out") || true
end=$(now)
stop_sampling status
status_peaks="$PEAKS"
status_s=$(echo "$end - $start" | bc -l)
head -1 "$WORK/status.out" >&2
tail -1 "$WORK/status.out" >&2

read -r r1a r1b <<< "${PEAKS_RELEASE[1]}"
read -r r8a r8b <<< "${PEAKS_RELEASE[8]}"
read -r sa sb <<< "$status_peaks"
awk -v d="$DATABASES" -v sd="$STATUS_DATABASES" -v c1="$c1" -v c8="$c8" -v s="$status_s" \
  -v r1a="$r1a" -v r1b="$r1b" -v r8a="$r8a" -v r8b="$r8b" -v sa="$sa" -v sb="$sb" 'BEGIN {
  printf "{\"databases\": %d, \"release_c1_s\": %.2f, \"release_c8_s\": %.2f, ", d, c1, c8
  printf "\"c8_over_c1_div_8\": %.2f, \"target_ratio\": 1.3, ", c8 / (c1 / 8)
  printf "\"peak_connections_c1\": [%d, %d], \"peak_connections_c8\": [%d, %d], ", r1a, r1b, r8a, r8b
  printf "\"status_databases\": %d, \"status_s\": %.2f, \"status_target_s\": 3, ", sd, s
  printf "\"peak_connections_status\": [%d, %d]}\n", sa, sb
}'
awk -v c1="$c1" -v c8="$c8" -v s="$status_s" -v sd="$STATUS_DATABASES" -v d="$DATABASES" \
  -v r8a="$r8a" -v r8b="$r8b" -v sa="$sa" -v sb="$sb" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -v so="${STATUS_ONLY:-}" 'BEGIN {
  ratio = c8 / (c1 / 8)
  if (so == "") printf "release over %d databases: c1 %.2fs, c8 %.2fs: c8 / (c1 / 8) = %.2f (target <= 1.3: %s)\n", d, c1, c8, ratio, ratio <= 1.3 ? "met" : "NOT met"
  printf "status over %d databases: %.2fs (target <= 3s: %s)\n", sd, s, s <= 3 ? "met" : "NOT met"
  if (so == "") printf "peak connections: release c8 %d + %d, status %d + %d (the two clusters)\n", r8a, r8b, sa, sb
  if (so != "") printf "peak connections: status %d + %d (the two clusters)\n", sa, sb
  printf "load average: %s\n", load
}' >&2
