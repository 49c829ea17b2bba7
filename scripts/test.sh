#!/usr/bin/env bash
# Installs what is missing, builds, checks formatting and runs the whole test suite. The suite
# starts its own PostgreSQL; it fails (never skips) when none can be started. The tests that
# read the shared corpus beside the repository (label "corpus") are not part of it: a plain
# clone has no corpus. .ci/run runs them too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cmake --build build --target format-check
cd build
ctest --output-on-failure --verbose --label-exclude corpus
