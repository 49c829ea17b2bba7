#!/usr/bin/env bash
# The main job: install what is missing, build, and show tandem on an embedded PostgreSQL.
# Creates a throwaway project, writes migrations, shows status, applies them, shows the history,
# and stops the server again.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
TANDEM="$PWD/${BUILD_DIR:-build}/tandem"

project="$(mktemp -d /tmp/tandem-demo-XXXXXX)"
cleanup() { (cd "$project" && "$TANDEM" dev --stop >/dev/null 2>&1) || true; rm -rf "$project"; }
trap cleanup EXIT
cd "$project"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

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
cat > db/migrations/20260103000000_drop_users_legacy_name.sql <<'SQL'
-- Destructive, so post-deploy: it runs once no running app version reads the column.
-- tandem:phase post-deploy
-- migrate:up
ALTER TABLE users DROP COLUMN legacy_name;

-- migrate:down
ALTER TABLE users ADD COLUMN legacy_name text;
SQL
step "$TANDEM" status
step "$TANDEM" up --dry-run
step "$TANDEM" up
step "$TANDEM" status
url="$("$TANDEM" dev)"
printf '\n\033[1m# the history tandem keeps in the database\033[0m\n'
psql "$url" -X -q -c "SELECT version, name, phase, status, attempts, duration_ms FROM tandem.migrations ORDER BY version" \
            -c "SELECT id, version, event, detail FROM tandem.events ORDER BY id" 2>/dev/null \
  || "$TANDEM" status --format json
step "$TANDEM" down
step "$TANDEM" status
step "$TANDEM" dev --stop
