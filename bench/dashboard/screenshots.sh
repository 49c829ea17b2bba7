#!/usr/bin/env bash
# Regenerates the dashboard's screenshots in docs/img/dashboard-*.png (referenced from
# docs/dashboard.md): the browser test (src/dashboard/browser_test.cc) fills two targets, starts
# `tandem dashboard`, and its driver (tests/browser/dashboard.test.mjs) also photographs every
# page when TANDEM_SCREENSHOTS_DIR is set: 1280x800, and the overview at 375x667 (phone).
# The pictures are committed; CI does not make them.
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/install-deps.sh
scripts/build.sh >&2
TANDEM_SCREENSHOTS_DIR="$PWD/docs/img" "${BUILD_DIR:-build}/tandem_tests" \
  --gtest_filter='DashboardBrowserTest.*'
ls -l docs/img/dashboard-*.png
