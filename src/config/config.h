// tandem.toml, the environment and flags, merged into one Config (flags win over the
// environment, which wins over the file).
//
//   [database]   url, schema (tandem's state schema), search_path
//   [migrations] dir, layout
//   [runner]     lock_wait
//   [release]    lock_timeout, statement_timeout, idle_in_transaction_timeout, retry_budget,
//                backoff_initial, backoff_max
//   [lint]       pg_version, and [lint.rules] rule-id = "off" | "error" | "warning" | "info"
//   [worker]     require_approval, max_attempts, statement_timeout, poll_interval
//   [background] target_batch_duration, min_batch_size, max_batch_size, lock_timeout,
//                statement_timeout, max_parallel, max_replication_lag,
//                max_replication_lag_bytes, max_lock_wait, throttle_query
//   [[notify]]   kind ("slack" | "webhook"), url or url_env, events
//   [[targets]]  name, url or url_env, groups (a fleet: see src/fleet/)
//   [fleet]      targets_query, catalog_url or catalog_url_env, concurrency, canary,
//                max_failures
//   [dashboard]  token_env, max_listen, refresh_interval
//
// A malformed file or an unknown key is kInvalidInput with the file, line and column.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "migrate/migration.h"

namespace tandem::config {

struct ReleaseSettings {
  Duration lock_timeout{500};
  Duration statement_timeout{15 * 60 * 1000};
  Duration idle_in_transaction_timeout{60 * 1000};
  Duration retry_budget{10 * 60 * 1000};
  Duration backoff_initial{200};
  Duration backoff_max{10 * 1000};
};

// The post-deploy worker (`tandem worker`); `tandem release` reads require_approval.
struct WorkerSettings {
  bool require_approval = false;  // every queued job waits for `tandem jobs approve`
  int max_attempts = 5;           // for transient errors (lock timeout, deadlock, lost connection)
  Duration statement_timeout{60 * 60 * 1000};  // post-deploy work may be long
  // The polling fallback behind LISTEN/NOTIFY (poolers in transaction mode drop NOTIFY).
  Duration poll_interval{1000};
};

// Background data migrations (src/background/), run by the worker batch by batch. The worker
// reads the file again between batches, so a threshold changed while a job runs takes effect at
// the next batch.
struct BackgroundSettings {
  Duration target_batch_duration{200};  // size=auto aims each batch at this
  long long min_batch_size = 10;
  long long max_batch_size = 2'000'000;
  Duration lock_timeout{2000};         // per batch (SET LOCAL)
  Duration statement_timeout{30'000};  // per batch: a batch over it is split in half
  int max_parallel = 2;                // background jobs at once per database
  // Throttling, checked between batches: wait while any is over its limit.
  Duration max_replication_lag{5000};             // replay lag of any standby
  long long max_replication_lag_bytes = 1 << 30;  // used while the time lag is NULL (idle)
  Duration max_lock_wait{1000};  // an app query blocked behind the batch, or the batch's wait
  std::string throttle_query;    // a user's probe: true means wait
};

// One `[[notify]]` table: where job state changes are sent. The URL is a secret (a Slack
// incoming-webhook URL is a bearer credential): it is never printed, logged or rendered.
struct NotifyChannel {
  std::string kind;                 // "slack" or "webhook"
  std::string url;                  // `url = "..."`, or empty when given through url_env
  std::string url_env;              // `url_env = "NAME"`: read from the environment when sending
  std::vector<std::string> events;  // job states to send; empty: every state change
  SourceLocation location;          // the [[notify]] header, for messages
};

// One `[[targets]]` table: a database of the fleet. The URL is a secret like any database URL:
// messages name the target, never its URL.
struct TargetEntry {
  std::string name;
  std::string url;      // `url = "..."`, or empty when given through url_env
  std::string url_env;  // `url_env = "NAME"`: read from the environment when connecting
  std::vector<std::string> groups;
  SourceLocation location;  // the [[targets]] header, for messages
};

// `[fleet]`: where more targets come from and how a rollout over them proceeds.
struct FleetSettings {
  // A query on the catalog database returning (name, url[, groups]) rows: groups as a
  // comma-separated text.
  std::string targets_query;
  std::string catalog_url;
  std::string catalog_url_env;
  int concurrency = 8;   // databases worked on at once
  std::string canary;    // this group first, all of it, before anyone else
  int max_failures = 1;  // no new database is started after this many failures
};

// `[dashboard]`: `tandem dashboard` and the pages `tandem worker --http` serves.
struct DashboardSettings {
  // The environment variable holding the token that allows changes (and a non-loopback
  // address). The token itself is never written in the file.
  std::string token_env = "TANDEM_DASHBOARD_TOKEN";
  // Targets watched with a LISTEN connection of their own (changes shown at once); the others
  // are read every refresh_interval on a short-lived connection.
  int max_listen = 50;
  // Every target is read again this often even without a NOTIFY (poolers in transaction mode
  // drop them, and applying migrations sends none).
  Duration refresh_interval{10'000};
};

struct Config {
  std::string project_dir;  // where tandem.toml is (or the working directory)
  std::string config_path;  // empty when there is no tandem.toml
  std::string database_url;
  std::string database_url_source;  // "flag", "TANDEM_DATABASE_URL", "tandem.toml", "tandem dev"
  std::string schema = "tandem";
  std::string search_path = "public";
  std::string migrations_dir = "db/migrations";  // relative to project_dir unless absolute
  std::optional<migrate::Layout> layout;
  Duration lock_wait{60 * 1000};
  ReleaseSettings release;
  std::optional<int> lint_pg_version;
  std::map<std::string, std::string> lint_rules;
  WorkerSettings worker;
  BackgroundSettings background;
  std::vector<NotifyChannel> notify;
  std::vector<TargetEntry> targets;
  FleetSettings fleet;
  DashboardSettings dashboard;

  // True when [[targets]] or [fleet] targets_query name a fleet: database commands then need
  // --target (or an explicit database URL) instead of guessing.
  bool HasTargets() const { return !targets.empty() || !fleet.targets_query.empty(); }
  // migrations_dir resolved against project_dir.
  std::string MigrationsPath() const;
};

// What the command line said; unset fields leave the file's or environment's value.
struct Overrides {
  std::string config_path;
  std::string database_url;
  std::string dir;
  std::string layout;
  std::string schema;
  std::optional<Duration> lock_wait;
};

// Reads tandem.toml from overrides.config_path, else from `working_directory`/tandem.toml if
// it exists, then applies the environment (TANDEM_DATABASE_URL, DATABASE_URL, TANDEM_DIR,
// TANDEM_LAYOUT, TANDEM_SCHEMA) and the overrides. When no URL is set anywhere and `tandem dev`
// is running for this project, its URL is used.
Result<Config> LoadConfig(const std::string& working_directory, const Overrides& overrides);

// Parses the text of a tandem.toml (for tests); `path` is used in messages.
Result<Config> ParseConfigText(const std::string& text, const std::string& path);

// The file `tandem init` writes.
std::string DefaultConfigText();

}  // namespace tandem::config
