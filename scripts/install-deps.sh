#!/usr/bin/env bash
# Installs what tandem needs to build, test and demo: Debian 12's packages, and for the browser
# tests of the dashboard one npm package (puppeteer-core, pinned in tests/browser/package-lock.json)
# into tests/browser/node_modules. Idempotent: does nothing when everything is there. Works as
# root or as a user with sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libpq-dev libpg-query-dev postgresql-15 postgresql-client-15
  libcli11-dev nlohmann-json3-dev rapidjson-dev libtomlplusplus-dev libfmt-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy
  gnuplot-nox
  # The dashboard's browser tests and screenshots: Debian's Chromium (driven headless; never a
  # browser downloaded by a test tool) and a font for its text.
  chromium fonts-dejavu-core
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js runs the browser test driver. A machine that already has node and npm (from Debian or
# elsewhere) keeps them: Debian's npm package would replace a newer Node.js.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  # The server package's post-install starts a cluster service; tandem never uses it (it starts
  # its own private server), so keep it from being started where policy allows.
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# puppeteer-core at the version the lock file pins, in the project's own directory (never
# global, never a browser download: puppeteer-core has none). Skipped when that version is there.
browser_dir=tests/browser
wanted=$(node -e 'const l = require(process.argv[1]);
  process.stdout.write(l.packages["node_modules/puppeteer-core"].version)' \
  "$PWD/$browser_dir/package-lock.json")
have=""
if [ -f "$browser_dir/node_modules/puppeteer-core/package.json" ]; then
  have=$(node -e 'process.stdout.write(require(process.argv[1]).version)' \
    "$PWD/$browser_dir/node_modules/puppeteer-core/package.json")
fi
if [ "$have" != "$wanted" ]; then
  echo "installing: puppeteer-core $wanted into $browser_dir/node_modules" >&2
  (cd "$browser_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
