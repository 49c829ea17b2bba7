#include "migrate/state.h"

#include <unistd.h>

#include <vector>

#include "pg/quote.h"

namespace tandem::migrate {
namespace {

// Each step upgrades the state from version i to i + 1. Steps are append-only: once released
// a step never changes, so every database walks the same path. "{s}" is the quoted schema.
const std::vector<std::string>& UpgradeSteps() {
  static const std::vector<std::string> kSteps = {
      // 1: migrations and events.
      R"(
CREATE TABLE {s}.migrations (
  version             text PRIMARY KEY,
  name                text NOT NULL DEFAULT '',
  phase               text NOT NULL DEFAULT 'pre-deploy'
                        CHECK (phase IN ('pre-deploy', 'post-deploy', 'background')),
  checksum            text NOT NULL DEFAULT '',
  status              text NOT NULL
                        CHECK (status IN ('pending', 'running', 'succeeded', 'failed')),
  transactional       boolean NOT NULL DEFAULT true,
  attempts            integer NOT NULL DEFAULT 0,
  statements_done     integer NOT NULL DEFAULT 0,
  statements_total    integer NOT NULL DEFAULT 0,
  statement_checksums text[] NOT NULL DEFAULT '{}',
  out_of_order        boolean NOT NULL DEFAULT false,
  started_at          timestamptz,
  finished_at         timestamptz,
  duration_ms         bigint,
  error_sqlstate      text,
  error_message       text,
  error_statement     text,
  error_file          text,
  error_line          integer,
  error_column        integer,
  applied_by_host     text,
  applied_by_pid      integer,
  tandem_version      text,
  adopted_from        text,
  recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE {s}.events (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  version text,
  event   text NOT NULL,
  actor   text NOT NULL,
  detail  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ON {s}.events (version, id);
)",
      // 2: jobs (asynchronous work for `tandem worker`, see src/jobs/README.md) and the
      // notification cursors. A job keeps the SQL it was queued with, so every worker replica
      // runs what the release queued whatever image it was built from.
      R"(
CREATE TABLE {s}.jobs (
  id                   bigserial PRIMARY KEY,
  kind                 text NOT NULL CHECK (kind IN ('post-deploy', 'background')),
  version              text NOT NULL,
  name                 text NOT NULL DEFAULT '',
  status               text NOT NULL CHECK (status IN ('queued', 'awaiting-approval', 'running',
                         'retrying', 'paused', 'succeeded', 'failed', 'cancelled')),
  approved             boolean NOT NULL DEFAULT true,
  requested            text CHECK (requested IN ('pause', 'cancel')),
  layout               text NOT NULL DEFAULT 'tandem',
  path                 text NOT NULL DEFAULT '',
  sql                  text NOT NULL,
  sql_line             integer NOT NULL DEFAULT 1,
  checksum             text NOT NULL,
  transactional        boolean NOT NULL DEFAULT true,
  lock_timeout_ms      bigint,
  statement_timeout_ms bigint,
  attempts             integer NOT NULL DEFAULT 0,
  run_after            timestamptz,
  worker               text,
  statements_done      integer NOT NULL DEFAULT 0,
  statements_total     integer NOT NULL DEFAULT 0,
  queued_at            timestamptz NOT NULL DEFAULT now(),
  started_at           timestamptz,
  finished_at          timestamptz,
  duration_ms          bigint,
  error_sqlstate       text,
  error_message        text,
  error_statement      text,
  error_file           text,
  error_line           integer,
  error_column         integer,
  error_detail         text,
  batch                jsonb,
  progress             jsonb NOT NULL DEFAULT '{}',
  updated_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (kind, version)
);
CREATE INDEX ON {s}.jobs (status) WHERE status NOT IN ('succeeded', 'cancelled');
CREATE TABLE {s}.notify_cursors (
  channel       text PRIMARY KEY,
  last_event_id bigint NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
)",
      // 3: online (expand/contract) migrations, src/expand/: the plan as computed when the
      // expand started (complete and abort run it, not a plan recomputed from a changed
      // catalog), the state, and one row per step done, so that every step runs once.
      R"(
CREATE TABLE {s}.online_migrations (
  version      text PRIMARY KEY,
  name         text NOT NULL DEFAULT '',
  plan         jsonb NOT NULL,
  state        text NOT NULL CHECK (state IN ('expanding', 'expanded', 'contracting',
                 'completed', 'aborting', 'aborted')),
  failed_stage text,
  failed_step  integer,
  error        text,
  started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE {s}.online_steps (
  version  text NOT NULL,
  stage    text NOT NULL CHECK (stage IN ('expand', 'contract', 'abort')),
  step     integer NOT NULL,
  name     text NOT NULL,
  done_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (version, stage, step)
);
)",
      // 4: contract jobs: `tandem complete VERSION` without --now queues an online migration's
      // contract steps for the worker (src/expand/executor.h). Only the kind's check widens;
      // the check of step 2 has PostgreSQL's name for a column check (<table>_<column>_check).
      R"(
ALTER TABLE {s}.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE {s}.jobs ADD CONSTRAINT jobs_kind_check
  CHECK (kind IN ('post-deploy', 'background', 'contract'));
)",
  };
  return kSteps;
}

std::string Expand(const std::string& sql, const std::string& quoted_schema) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t at = sql.find("{s}", pos);
    if (at == std::string::npos) {
      out += sql.substr(pos);
      return out;
    }
    out += sql.substr(pos, at - pos) + quoted_schema;
    pos = at + 3;
  }
}

// Runs a multi-statement DDL step one statement at a time (bound-parameter protocol refuses
// several statements in one string). The steps contain no semicolons inside literals.
Status ExecScript(pg::Connection& connection, const std::string& script) {
  size_t pos = 0;
  while (pos < script.size()) {
    size_t end = script.find(';', pos);
    if (end == std::string::npos) end = script.size();
    std::string statement = script.substr(pos, end - pos);
    if (statement.find_first_not_of(" \n\t") != std::string::npos) {
      TANDEM_RETURN_IF_ERROR(connection.Exec(statement));
    }
    pos = end + 1;
  }
  return Status::Ok();
}

}  // namespace

int LatestStateVersion() { return static_cast<int>(UpgradeSteps().size()); }

std::string HostName() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string Actor() {
  return HostName() + " pid " + std::to_string(getpid()) + " tandem " + TANDEM_VERSION;
}

Result<bool> StateSchemaExists(pg::Connection& connection, const std::string& schema) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query("SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.migrations')"
                       " IS NOT NULL",
                       {schema}));
  return result.GetBool(0, 0);
}

Status EnsureStateSchema(pg::Connection& connection, const std::string& schema) {
  std::string s = pg::QuoteIdentifier(schema);
  TANDEM_ASSIGN_OR_RETURN(
      auto exists, connection.Query("SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || "
                                    "'.state_version') IS NOT NULL",
                                    {schema}));
  int current = 0;
  if (exists.GetBool(0, 0)) {
    TANDEM_ASSIGN_OR_RETURN(
        auto v, connection.Query("SELECT coalesce(max(version), 0) FROM " + s + ".state_version"));
    current = static_cast<int>(v.GetInt(0, 0));
  }
  if (current > LatestStateVersion()) {
    return Status::Failed("the " + schema + " schema has state version " + std::to_string(current) +
                          ", newer than this tandem understands (" +
                          std::to_string(LatestStateVersion()) + ")")
        .WithHint("upgrade tandem to the version the other deploys use");
  }
  for (int step = current; step < LatestStateVersion(); ++step) {
    TANDEM_RETURN_IF_ERROR(connection.Exec("BEGIN"));
    Status status = Status::Ok();
    if (step == 0) {
      status = ExecScript(connection, "CREATE SCHEMA IF NOT EXISTS " + s +
                                          ";CREATE TABLE IF NOT EXISTS " + s +
                                          ".state_version (version integer PRIMARY KEY, "
                                          "upgraded_at timestamptz NOT NULL DEFAULT now())");
    }
    if (status.ok()) status = ExecScript(connection, Expand(UpgradeSteps()[step], s));
    if (status.ok()) {
      status = connection.Exec("INSERT INTO " + s + ".state_version (version) VALUES ($1)",
                               {std::to_string(step + 1)});
    }
    if (!status.ok()) {
      connection.Exec("ROLLBACK");
      return status.Prefix("could not upgrade the " + schema + " state schema to version " +
                           std::to_string(step + 1));
    }
    TANDEM_RETURN_IF_ERROR(connection.Exec("COMMIT"));
  }
  return Status::Ok();
}

Status RecordEvent(pg::Connection& connection, const std::string& schema,
                   const std::string& version, const std::string& event,
                   const std::string& detail_json) {
  return connection.Exec(
      "INSERT INTO " + pg::QuoteIdentifier(schema) +
          ".events (version, event, actor, detail) VALUES ($1, $2, $3, $4)",
      {version.empty() ? pg::Param() : pg::Param(version), event, Actor(), detail_json});
}

}  // namespace tandem::migrate
