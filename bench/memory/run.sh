#!/usr/bin/env bash
# Peak memory of `tandem up` and `tandem release` on one large seed-data migration (issue 10:
# at most 4 times the file, plus a constant). Writes a file of short INSERTs of the given size
# (default 50 MB) into a throwaway project, starts the embedded server, and prints the maximum
# resident set size of each command as /usr/bin/time -v reports it, with the ratio to the file.
#
#   bench/memory/run.sh [SIZE_MB] [TANDEM_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE_MB="${1:-50}"
TANDEM="$(readlink -f "${2:-build/tandem}")"
WORK="$(mktemp -d /tmp/tandem-memory-XXXXXX)"
cleanup() { (cd "$WORK" && "$TANDEM" dev --stop >/dev/null 2>&1) || true; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK"
"$TANDEM" init >/dev/null
python3 - "$SIZE_MB" > db/migrations/1_seed.sql <<'PY'
import sys
limit = int(sys.argv[1]) * 1024 * 1024
out = ["-- migrate:up\nCREATE TABLE seed (id bigint, name text, note text);\n"]
size, i = len(out[0]), 0
while size < limit:
    s = f"INSERT INTO seed (id, name, note) VALUES ({i}, 'name {i}', 'a note; with a semicolon and ''quotes''');\n"
    out.append(s); size += len(s); i += 1
out.append("-- migrate:down\nDROP TABLE seed;\n")
sys.stdout.write("".join(out))
PY
"$TANDEM" dev >/dev/null
bytes=$(stat -c %s db/migrations/1_seed.sql)
floor=$(/usr/bin/time -v "$TANDEM" --version 2>&1 >/dev/null | awk '/Maximum resident/ {print $6}')
measure() {
  /usr/bin/time -v "$TANDEM" "$@" 2>&1 >/dev/null | awk '/Maximum resident/ {print $6}'
}
up=$(measure up)
"$TANDEM" down >/dev/null
release=$(measure release)
python3 - "$bytes" "$floor" "$up" "$release" <<'PY'
import sys
size, floor, up, release = (int(x) for x in sys.argv[1:])
kb = size / 1024
print(f"file {size/1e6:.1f} MB; tandem --version {floor} kB")
for name, v in (("up", up), ("release", release)):
    print(f"{name:8s} {v} kB peak RSS = {v/kb:.1f} x the file ({(v-floor)/kb:.1f} x above the floor)")
PY
