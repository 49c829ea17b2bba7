// tandem.toml, the environment and flags, merged into one Config (flags win over the
// environment, which wins over the file).
//
//   [database]   url, schema (tandem's state schema), search_path
//   [migrations] dir, layout
//   [runner]     lock_wait
//   [release]    lock_timeout, statement_timeout, idle_in_transaction_timeout, retry_budget,
//                backoff_initial, backoff_max
//   [lint]       pg_version, and [lint.rules] rule-id = "off" | "error" | "warning" | "info"
//
// A malformed file or an unknown key is kInvalidInput with the file, line and column.
#pragma once

#include <map>
#include <optional>
#include <string>

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
