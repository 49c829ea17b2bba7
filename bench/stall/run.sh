#!/usr/bin/env bash
# The stall meter of issue 3: scenarios S1-S3, each run naively (psql -f) and through
# `tandem release`, on a private embedded PostgreSQL, then one latency-over-time plot per
# scenario (gnuplot, Debian package gnuplot-nox) and a markdown table with the ratios.
#
#   bench/stall/run.sh [OUT_DIR] [extra stall_meter flags, e.g. --rows 100000]
#
# Needs the build (stall_meter and tandem targets). Takes about 3 minutes with the defaults
# (1M rows, 4 app clients, a 20 s blocker, lock_timeout 500ms).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
OUT="${1:-/tmp/tandem-stall}"
shift || true
BUILD="${BUILD:-$ROOT/build}"
[ -x "$BUILD/bench/stall_meter" ] && [ -x "$BUILD/tandem" ] ||
  cmake --build "$BUILD" --target tandem stall_meter >&2
PSQL="$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)"
mkdir -p "$OUT"

"$BUILD/bench/stall_meter" --tandem "$BUILD/tandem" --psql "$PSQL" --out "$OUT" "$@" >/dev/null

# One plot per scenario: the longest wait of any app query in each 100 ms, naive vs tandem, log scale.
for s in S1 S2 S3; do
  [ -f "$OUT/${s}_naive.dat" ] || continue
  title="$(python3 -c "import json;print(json.load(open('$OUT/${s}_naive.json'))['title'])")"
  gnuplot <<EOF
set terminal pngcairo size 900,380 font "sans,10"
set output "$OUT/stall_${s}.png"
set title "${s}: ${title} (longest app query wait, per 100 ms)"
set xlabel "seconds since the app started"
set ylabel "ms waited (log scale)"
set logscale y
set yrange [0.1:60000]
set grid ytics
set key top right
plot "$OUT/${s}_naive.dat" using 1:(\$2 > 0 ? \$2 : 1/0) with lines lw 1.5 lc rgb "#d62728" title "naive (psql -f)", \
     "$OUT/${s}_tandem.dat" using 1:(\$2 > 0 ? \$2 : 1/0) with lines lw 1.5 lc rgb "#1f77b4" title "tandem release"
EOF
done

# Side by side, with the naive/tandem ratio of the longest stall.
python3 - "$OUT/summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
runs = {(r["scenario"], r["mode"]): r for r in s["runs"]}
print(f"PostgreSQL {s['server_version']}, {s['rows']:,} rows, {s['clients']} app clients, "
      f"blocker {s['blocker_seconds']} s, lock_timeout {s['lock_timeout']}\n")
print("| scenario | mode | migration exit | throughput/s | p50 ms | p99 ms | max ms | longest stall ms | failed app queries | schema after |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (sc, mode), r in sorted(runs.items()):
    schema = f"columns {r['columns_after']}"
    if r["indexes_after"]: schema += f"; indexes {r['indexes_after']}"
    if r["check_constraints_after"]: schema += f"; checks {r['check_constraints_after']}"
    print(f"| {sc} | {mode} | {r['migration_exit_code']} | {r['throughput_per_s']:,.0f} | "
          f"{r['p50_ms']:.2f} | {r['p99_ms']:.1f} | {r['max_ms']:,.0f} | "
          f"{r['longest_stall_ms']:,.0f} | {r['failed_queries']} | {schema} |")
print()
for sc in sorted({k[0] for k in runs}):
    n, t = runs.get((sc, "naive")), runs.get((sc, "tandem"))
    if n and t:
        print(f"- {sc}: longest stall naive / tandem = {n['longest_stall_ms']:,.0f} / "
              f"{t['longest_stall_ms']:,.0f} ms = {n['longest_stall_ms'] / t['longest_stall_ms']:.1f}x; "
              f"max latency ratio {n['max_ms'] / t['max_ms']:.1f}x")
EOF
