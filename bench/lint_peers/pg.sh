#!/usr/bin/env bash
# Start (or stop) the throwaway PostgreSQL 15 the judge uses: its own data directory, socket and
# port, owned by the postgres user when run as root (initdb refuses root).
# Usage: bench/lint_peers/pg.sh start|stop   (prints the psql options on start)
set -euo pipefail
dir="${LINT_PEERS_PGDATA:-/tmp/lint_peers_pg}"
port="${LINT_PEERS_PGPORT:-55439}"
bindir="$(dirname "$(readlink -f "$(command -v postgres)")")"
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-start}" in
  start)
    if [ ! -s "$dir/data/PG_VERSION" ]; then
      mkdir -p "$dir"
      [ "$(id -u)" = 0 ] && chown postgres "$dir"
      as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
    fi
    if ! as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
        "-p $port -k $dir -c listen_addresses='' -c fsync=off -c timezone=UTC -c max_connections=20" \
        start >/dev/null
    fi
    echo "-h $dir -p $port -U postgres"
    ;;
  stop) as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null ;;
esac
