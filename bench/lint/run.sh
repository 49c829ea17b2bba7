#!/usr/bin/env bash
# tandem lint vs squawk on ../shared/corpus: JSON output for both, runs alternated.
# Installs squawk-cli (and its linux-x64 binary package) from the npm registry into
# .cache/bench/ (gitignored). Usage: bench/lint/run.sh [runs] [tandem binary]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-5}"
tandem="${2:-$root/build/tandem}"
corpus="${TANDEM_CORPUS:-$root/../shared/corpus}"
cache="$root/.cache/bench"
mkdir -p "$cache"
if [ ! -x "$cache/node_modules/.bin/squawk" ]; then
  (cd "$cache" && npm install --silent --no-audit --no-fund squawk-cli @squawk-cli/linux-x64 >/dev/null)
fi
squawk="$(find "$cache/node_modules/@squawk-cli/linux-x64" -type f -name squawk | head -1)"
[ -x "$squawk" ] || squawk="$cache/node_modules/.bin/squawk"
mapfile -t files < <(find "$corpus" -name '*.sql' ! -name '*down.sql' | sort)
echo "corpus: ${#files[@]} up files; squawk $("$squawk" --version 2>&1 | head -1); $("$tandem" --version)"
# Bash's own clock ($EPOCHREALTIME): spawning `date` around each run added a few ms of fork and
# exec to both tools' times.
t_all=(); s_all=()
for i in $(seq "$runs"); do
  a=$EPOCHREALTIME; "$tandem" lint --format json "$corpus" > "$cache/tandem.json" || true; b=$EPOCHREALTIME
  "$squawk" --pg-version=15 --reporter json "${files[@]}" > "$cache/squawk.json" 2>/dev/null || true; c=$EPOCHREALTIME
  t=$(echo "$b - $a" | bc); s=$(echo "$c - $b" | bc)
  printf 'run %d: tandem %.3fs  squawk %.3fs\n' "$i" "$t" "$s"
  t_all+=("$t"); s_all+=("$s")
done
python3 - "${t_all[*]}" "${s_all[*]}" <<'PY'
import statistics, sys
t = [float(x) for x in sys.argv[1].split()]
s = [float(x) for x in sys.argv[2].split()]
print(f"mean:   tandem {statistics.mean(t):.3f}s  squawk {statistics.mean(s):.3f}s  ratio {sum(t) / sum(s):.2f}")
print(f"median: tandem {statistics.median(t):.3f}s  squawk {statistics.median(s):.3f}s  "
      f"ratio {statistics.median(t) / statistics.median(s):.2f}")
PY
python3 - "$cache/tandem.json" "$cache/squawk.json" <<'PY'
import collections, json, sys
t = json.load(open(sys.argv[1]))["findings"]
raw = open(sys.argv[2]).read().strip()
s = json.loads(raw) if raw else []
tc = collections.Counter(f["rule"] for f in t)
sc = collections.Counter(v.get("rule_name") or v.get("code") or "?" for v in s)
shared = [  # tandem rule, squawk rule(s)
  ("create-index-non-concurrently", ["require-concurrent-index-creation"]),
  ("drop-index-non-concurrently", ["require-concurrent-index-deletion"]),
  ("change-column-type", ["changing-column-type"]),
  ("set-not-null-scan", ["adding-not-nullable-field"]),
  ("add-column-required", ["adding-required-field"]),
  ("add-column-volatile-default", ["adding-field-with-default"]),
  ("foreign-key-missing-not-valid", ["adding-foreign-key-constraint"]),
  ("constraint-missing-not-valid", ["constraint-missing-not-valid"]),
  ("add-unique-constraint", ["disallowed-unique-constraint"]),
  ("add-primary-key", ["adding-serial-primary-key-field"]),
  ("drop-column", ["ban-drop-column"]),
  ("drop-table", ["ban-drop-table"]),
  ("rename-column", ["renaming-column"]),
  ("rename-table", ["renaming-table"]),
  ("concurrently-in-transaction", ["ban-concurrent-index-creation-in-transaction"]),
  ("reindex-non-concurrently", ["require-concurrent-reindex"]),
  ("detach-partition-non-concurrently", ["require-concurrent-partition-detach"]),
  ("truncate-table", ["ban-truncate-cascade"]),
  ("drop-database", ["ban-drop-database"]),
  ("prefer-bigint", ["prefer-bigint-over-int", "prefer-bigint-over-smallint"]),
  ("prefer-identity", ["prefer-identity"]),
  ("prefer-text-over-varchar", ["prefer-text-field"]),
  ("prefer-text-over-char", ["ban-char-field"]),
  ("prefer-timestamptz", ["prefer-timestamp-tz"]),
  ("drop-not-null", ["ban-drop-not-null"]),
  ("enum-value-without-position", ["require-enum-value-ordering"]),
  ("identifier-too-long", ["identifier-too-long"]),
  ("duplicate-column-assignment", ["ban-duplicate-column-assignments"]),
  ("create-domain-with-check", ["ban-create-domain-with-constraint"]),
  ("alter-domain-add-constraint", ["ban-alter-domain-with-add-constraint"]),
  ("unused-allow", ["unused-ignore"]),
  ("syntax-error", ["syntax-error"]),
]
print("\n| tandem rule | tandem | squawk rule | squawk |\n|---|---|---|---|")
for tr, srs in shared:
    print(f"| {tr} | {tc.get(tr, 0)} | {', '.join(srs)} | {sum(sc.get(x, 0) for x in srs)} |")
print("\ntandem totals:", dict(tc.most_common()))
print("squawk totals:", dict(sc.most_common()))
PY
