#include "cli/context.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/status_json.h"
#include "migrate/layouts.h"
#include "pg/url.h"

namespace tandem::cli {

Context::Context(std::ostream& out_stream, std::ostream& err_stream)
    : out(out_stream), err(err_stream) {
  working_directory = std::filesystem::current_path().string();
}

Result<config::Config> Context::LoadConfig() {
  if (!config_) {
    config::Overrides overrides;
    overrides.config_path = flags.config;
    overrides.database_url = flags.database_url;
    overrides.dir = flags.dir;
    overrides.layout = flags.layout;
    overrides.schema = flags.schema;
    if (flags.lock_wait) {
      auto wait = ParseDuration(*flags.lock_wait);
      if (!wait.ok()) {
        Status status = wait.status();
        config_ = std::move(status).Prefix("--lock-wait");
        return *config_;
      }
      overrides.lock_wait = *wait;
    }
    config_ = config::LoadConfig(working_directory, overrides);
  }
  return *config_;
}

Result<migrate::MigrationSet> Context::LoadMigrations(const config::Config& config) {
  migrate::LoadOptions options;
  options.layout = config.layout;
  return migrate::LoadMigrations(config.MigrationsPath(), options);
}

Result<std::unique_ptr<pg::Connection>> Context::Connect(const config::Config& config) {
  if (ForFleet()) {
    return Status::InvalidInput("this command does not take --target yet")
        .WithHint("run it on one database with --database-url");
  }
  bool url_given = config.database_url_source == "flag" ||
                   config.database_url_source == "DATABASE_URL" ||
                   config.database_url_source == "TANDEM_DATABASE_URL";
  if (config.HasTargets() && !url_given) {
    return Status::InvalidInput(
               "targets are configured: choose one with --target NAME, group:NAME or all")
        .WithDetail("tandem.toml lists a fleet of databases; tandem does not guess which one")
        .WithHint("or give one database with --database-url");
  }
  if (config.database_url.empty()) {
    return Status::InvalidInput("no database configured")
        .WithHint(
            "set DATABASE_URL, pass --database-url, set [database] url in tandem.toml, "
            "or start a local one with \"tandem dev\"");
  }
  TANDEM_ASSIGN_OR_RETURN(pg::DatabaseUrl url, pg::ParseDatabaseUrl(config.database_url));
  pg::ConnectOptions options;
  options.search_path = config.search_path;
  return pg::Connection::Open(url, options);
}

int Context::Fail(const Status& status) {
  if (format() == Format::kJson) {
    nlohmann::json error = StatusToJson(status);
    error["exit_code"] = ExitCodeFor(status);
    // Replace, not throw, on text that is not UTF-8 (a file name can be anything).
    out << nlohmann::json{{"error", error}}.dump(2, ' ', false,
                                                 nlohmann::json::error_handler_t::replace)
        << "\n";
  } else {
    err << "tandem: " << status.ToString() << "\n";
  }
  return ExitCodeFor(status);
}

int RunCli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  Context context(out, err);
  CLI::App app{"tandem: zero-downtime schema migrations for PostgreSQL", "tandem"};
  app.set_version_flag("--version", std::string("tandem ") + TANDEM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--format", context.flags.format, "output format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--config", context.flags.config, "path to tandem.toml");
  app.add_option("--database-url,--url", context.flags.database_url,
                 "database URL (default: DATABASE_URL, then tandem.toml)");
  app.add_option("--dir", context.flags.dir, "migrations directory (default: db/migrations)");
  app.add_option("--layout", context.flags.layout,
                 "auto, tandem, dbmate, golang-migrate, diesel, flyway or goose");
  app.add_option("--schema", context.flags.schema, "tandem's state schema (default: tandem)");
  app.add_option("--lock-wait", context.flags.lock_wait,
                 "how long to wait for another runner, e.g. 30s (default 60s)");
  app.add_option("--target", context.flags.target,
                 "the fleet's databases to work on: NAME, group:NAME or all (tandem.toml "
                 "[[targets]])");
  app.add_option("--concurrency", context.flags.concurrency,
                 "with --target: databases worked on at once (default [fleet] concurrency, 8)");
  app.add_option("--max-failures", context.flags.max_failures,
                 "with --target: start no new database after this many failures (default 1)");

  Runner selected;
  // The command table: one Register function per command file in src/cli/.
  for (Registration r : {
           RegisterInit,
           RegisterNew,
           RegisterStatus,
           RegisterUp,
           RegisterDown,
           RegisterAdopt,
           RegisterDev,
           RegisterLint,
           RegisterRelease,
           RegisterVerify,
           RegisterWorker,
           RegisterJobs,
           RegisterDashboard,
           RegisterExpand,
       }) {
    r(app, context, selected);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    // Usage errors are exit 2 like every other bad input. CLI11 quotes the arguments it did
    // not expect, and one of them may be a database URL with its password.
    std::string message = pg::RedactSecrets(e.what());
    if (!message.empty()) message[0] = static_cast<char>(std::tolower(message[0]));
    while (!message.empty() && message.back() == '.') message.pop_back();
    return context.Fail(Status::InvalidInput(message).WithHint("see \"tandem --help\""));
  }
  if (!selected) return context.Fail(Status::InvalidInput("no command given"));
  return selected();
}

}  // namespace tandem::cli
