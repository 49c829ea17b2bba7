#!/usr/bin/env bash
# The main job: install what is missing, build, and show the whole life of a release on an
# embedded PostgreSQL. Creates a throwaway project with pre-deploy and post-deploy migrations,
# lints and verifies them, releases (pre-deploy applied, post-deploy queued as jobs), lets the
# worker apply the queued work, shows status, the jobs and the history, and stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
TANDEM="$PWD/${BUILD_DIR:-build}/tandem"

project="$(mktemp -d /tmp/tandem-demo-XXXXXX)"
cleanup() { (cd "$project" && "$TANDEM" dev --stop >/dev/null 2>&1) || true; rm -rf "$project"; }
trap cleanup EXIT
cd "$project"
# The demo's database is the embedded one, whatever the calling shell points at.
unset DATABASE_URL TANDEM_DATABASE_URL TANDEM_DIR TANDEM_LAYOUT TANDEM_SCHEMA

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
note() { printf '\n\033[1m# %s\033[0m\n' "$*"; }

step "$TANDEM" init
step "$TANDEM" dev
cat > db/migrations/20260101000000_create_users.sql <<'SQL'
-- migrate:up
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL,
  legacy_name text
);

-- migrate:down
DROP TABLE users;
SQL
cat > db/migrations/20260102000000_index_users_email.sql <<'SQL'
-- An index built without blocking writes: CONCURRENTLY cannot run in a transaction, so this
-- migration runs statement by statement and records its progress after each.
-- tandem:transaction off

-- migrate:up
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);

-- migrate:down
DROP INDEX CONCURRENTLY users_email_key;
SQL
cat > db/migrations/20260103000000_add_users_email_check.sql <<'SQL'
-- NOT VALID: the constraint holds for new rows at once, without scanning the table under lock.
-- migrate:up
ALTER TABLE users ADD CONSTRAINT users_email_check CHECK (email LIKE '%@%') NOT VALID;

-- migrate:down
ALTER TABLE users DROP CONSTRAINT users_email_check;
SQL
cat > db/migrations/20260104000000_validate_users_email_check.sql <<'SQL'
-- The scan of existing rows, after the deploy: VALIDATE takes a lock that lets reads and
-- writes through, but can take long on a big table, so it does not hold up the release.
-- tandem:phase post-deploy
-- migrate:up
ALTER TABLE users VALIDATE CONSTRAINT users_email_check;

-- migrate:down
SQL
cat > db/migrations/20260105000000_drop_users_legacy_name.sql <<'SQL'
-- Destructive, so post-deploy: it runs once no running app version reads the column.
-- tandem:phase post-deploy
-- migrate:up
ALTER TABLE users DROP COLUMN legacy_name;

-- migrate:down
ALTER TABLE users ADD COLUMN legacy_name text;
SQL

note "before the deploy: check the migrations"
step "$TANDEM" lint
step "$TANDEM" verify

note "the release phase: pre-deploy migrations applied, post-deploy ones queued for the worker"
step "$TANDEM" release --plan
step "$TANDEM" release
step "$TANDEM" status
step "$TANDEM" jobs list

note "after the deploy: the worker applies the queued work, one job at a time, in order"
# In production the worker runs until stopped (tandem worker); --once drains what is runnable.
step "$TANDEM" worker --once
step "$TANDEM" status
step "$TANDEM" jobs list
step "$TANDEM" jobs show 1

url="$("$TANDEM" dev)"
note "the history tandem keeps in the database"
psql "$url" -X -q \
     -c "SELECT version, name, phase, status, attempts, duration_ms FROM tandem.migrations ORDER BY version" \
     -c "SELECT id, version, status, attempts, duration_ms, finished_at FROM tandem.jobs ORDER BY id" \
     -c "SELECT id, version, event, actor, detail->>'reason' AS reason FROM tandem.events ORDER BY id" 2>/dev/null \
  || "$TANDEM" jobs list --format json
step "$TANDEM" dev --stop
