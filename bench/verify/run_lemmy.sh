#!/bin/sh
# Benchmark for `tandem verify` (issue 5): verify lemmy's first 100 migrations (Diesel layout)
# end to end, embedded shadow start included, and report tracing overhead per statement.
# Usage: bench/verify/run_lemmy.sh [path/to/tandem]   (default: build-verify/tandem)
# The migrations are copied to a temporary directory; nothing is written into the repo.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
tandem=${1:-$here/build-verify/tandem}
corpus=$here/../shared/corpus/lemmy/migrations
work=$(mktemp -d /tmp/tandem-bench-verify-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/migrations"
for d in $(ls "$corpus" | sort | head -100); do cp -r "$corpus/$d" "$work/migrations/"; done
start=$(date +%s.%N)
set +e
DATABASE_URL= TANDEM_DATABASE_URL= "$tandem" --dir "$work/migrations" --layout diesel \
  --format json verify > "$work/out.json"
rc=$?
set -e
end=$(date +%s.%N)
python3 - "$work/out.json" "$start" "$end" "$rc" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
wall = float(sys.argv[3]) - float(sys.argv[2])
stmts = [s for m in report["migrations"] for s in m["statements"]]
over = sorted(s["trace_overhead_ms"] for s in stmts)
own = sum(s["duration_ms"] for s in stmts)
print(f"exit code            {sys.argv[4]}")
print(f"migrations verified  {len(report['migrations'])}")
print(f"statements traced    {len(stmts)}")
print(f"wall time            {wall:.2f} s (shadow setup {report['shadow_setup_ms']/1000:.2f} s)")
print(f"statements' own time {own/1000:.2f} s")
print(f"tracing overhead     mean {sum(over)/len(over):.2f} ms, p50 {over[len(over)//2]:.2f} ms, "
      f"p95 {over[int(len(over)*0.95)]:.2f} ms, max {over[-1]:.2f} ms per statement")
failed = [m["version"] for m in report["migrations"] if not m["succeeded"]]
print(f"failed migrations    {failed or 'none'}")
PY
