#!/usr/bin/env bash
# Installs what tandem needs to build, test and demo, from Debian 12's packages only.
# Idempotent: does nothing when everything is there. Works as root or as a user with sudo.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libpq-dev libpg-query-dev postgresql-15 postgresql-client-15
  libcli11-dev nlohmann-json3-dev rapidjson-dev libtomlplusplus-dev libfmt-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-format clang-tidy
  gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
# The server package's post-install starts a cluster service; tandem never uses it (it starts
# its own private server), so keep it from being started where policy allows.
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
