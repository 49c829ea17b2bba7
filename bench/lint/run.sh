#!/usr/bin/env bash
# tandem lint vs squawk on ../shared/corpus: JSON output for both, runs alternated.
# Installs squawk-cli (and its linux-x64 binary package) from the npm registry into
# .cache/bench/ (gitignored). Usage: bench/lint/run.sh [runs] [tandem binary] [dir|files]
#   dir (default): tandem lints the corpus directory, squawk the up files in it.
#   files: every .sql file of the corpus (down files too, as `git diff --name-only` lists them)
#     named one by one on both command lines; tandem on the directory is timed alongside, for
#     the file list / directory ratio.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
runs="${1:-5}"
tandem="${2:-$root/build/tandem}"
mode="${3:-dir}"
corpus="${TANDEM_CORPUS:-$root/../shared/corpus}"
cache="$root/.cache/bench"
mkdir -p "$cache"
if [ ! -x "$cache/node_modules/.bin/squawk" ]; then
  (cd "$cache" && npm install --silent --no-audit --no-fund squawk-cli @squawk-cli/linux-x64 >/dev/null)
fi
squawk="$(find "$cache/node_modules/@squawk-cli/linux-x64" -type f -name squawk | head -1)"
[ -x "$squawk" ] || squawk="$cache/node_modules/.bin/squawk"
if [ "$mode" = files ]; then
  mapfile -t files < <(find "$corpus" -name '*.sql' | sort)
  echo "corpus: ${#files[@]} files named one by one; squawk $("$squawk" --version 2>&1 | head -1); $("$tandem" --version)"
  t_all=(); s_all=(); d_all=()
  for i in $(seq "$runs"); do
    a=$EPOCHREALTIME; "$tandem" lint --format json "${files[@]}" > "$cache/tandem_files.json" || true; b=$EPOCHREALTIME
    "$squawk" --pg-version=15 --reporter json "${files[@]}" > "$cache/squawk_files.json" 2>/dev/null || true; c=$EPOCHREALTIME
    "$tandem" lint --format json "$corpus" > "$cache/tandem.json" || true; d=$EPOCHREALTIME
    t=$(echo "$b - $a" | bc); s=$(echo "$c - $b" | bc); dd=$(echo "$d - $c" | bc)
    printf 'run %d: tandem files %.3fs  squawk files %.3fs  tandem directory %.3fs\n' "$i" "$t" "$s" "$dd"
    t_all+=("$t"); s_all+=("$s"); d_all+=("$dd")
  done
  python3 - "${t_all[*]}" "${s_all[*]}" "${d_all[*]}" <<'PY2'
import statistics, sys
t, s, d = ([float(x) for x in a.split()] for a in sys.argv[1:4])
for name, f in (("mean", statistics.mean), ("median", statistics.median)):
    print(f"{name}: tandem files {f(t):.3f}s  squawk files {f(s):.3f}s  tandem directory {f(d):.3f}s  "
          f"files/directory {f(t) / f(d):.2f}  tandem/squawk {f(t) / f(s):.2f}")
PY2
  python3 - "$cache/tandem_files.json" "$cache/tandem.json" <<'PY2'
import json, os, sys
files = json.load(open(sys.argv[1]))["findings"]
directory = json.load(open(sys.argv[2]))["findings"]
key = lambda f: (os.path.normpath(f["file"]), f["line"], f["column"], f["rule"], f["message"])
fk = sorted(map(key, files)); dk = sorted(map(key, directory))
linted = {k[0] for k in dk}
print(f"findings: file list {len(fk)}, directory {len(dk)}; on the files the directory lints: "
      f"{'identical' if [k for k in fk if k[0] in linted] == dk else 'DIFFERENT'}")
PY2
  exit 0
fi
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
