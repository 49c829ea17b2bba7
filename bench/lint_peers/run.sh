#!/usr/bin/env bash
# tandem lint against squawk's and strong_migrations' own test cases, each judged on a real
# PostgreSQL 15 (README.md). Starts a throwaway server (pg.sh), runs every case sequentially,
# prints the summary table and writes results.md (every disagreement) and .cache/lint_peers/results.json.
# Usage: bench/lint_peers/run.sh [tandem binary] [case filter, e.g. squawk/0]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tandem="${1:-$root/build/tandem}"
only="${2:-}"
[ -x "$tandem" ] || { echo "run.sh: no tandem binary at $tandem (build with scripts/build.sh)" >&2; exit 2; }
out="$root/.cache/lint_peers"
mkdir -p "$out"
psql_opts="$("$here/pg.sh" start)"
echo "PostgreSQL: $(psql -X -At $psql_opts -d postgres -c 'show server_version'); $("$tandem" --version)"
python3 "$here/judge.py" --tandem "$tandem" --psql-opts="$psql_opts" --out "$out" --only "$only" \
  2> "$out/judge.log"
python3 "$here/summarize.py" "$out/results.json" "$here/results.md" "$here/causes.tsv"
