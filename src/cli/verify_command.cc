// tandem verify: runs pending migrations on a shadow database and reports what really
// happened (locks, rewrites, scans, durations) and which old-app queries break.
#include <memory>

#include "cli/context.h"
#include "cli/fleet_command.h"
#include "verify/verify.h"

namespace tandem::cli {
namespace {

// --target: each database's pending migrations run on a shadow of its own (an embedded
// PostgreSQL per database in flight, brought to that database's schema), so the shards are
// verified as they really are. Read-only on the targets: every database is checked.
int VerifyFleet(Context& context, const config::Config& config, const migrate::MigrationSet& files,
                verify::VerifyOptions options) {
  if (!options.shadow_url.empty()) {
    return context.Fail(
        Status::InvalidInput("--shadow-url does not take --target")
            .WithDetail("each database of the fleet needs an empty shadow of its own")
            .WithHint("leave --shadow-url out: each database gets an embedded shadow; lower "
                      "--concurrency to start fewer at once"));
  }
  FleetCommand how;
  how.name = "verify";
  how.read_only = true;
  return RunOnFleet(
      context, config, how,
      [&](const fleet::Target& target, pg::Connection& connection, TargetOutput& output) -> Status {
        verify::VerifyOptions mine = options;
        mine.target_url = target.url;  // for pg_dump; never printed unredacted
        mine.target_connection = &connection;
        migrate::MigrationSet copy = files;  // verify splits the sections in place
        TANDEM_ASSIGN_OR_RETURN(auto report, verify::Verify(copy, mine));
        output.json = verify::ReportToJson(report);
        int errors = 0, warnings = 0;
        for (const auto& f : report.findings) {
          errors += f.severity == lint::Severity::kError;
          warnings += f.severity == lint::Severity::kWarning;
        }
        output.summary = std::to_string(report.migrations.size()) + " migrations traced, " +
                         std::to_string(errors) + " errors, " + std::to_string(warnings) +
                         " warnings, " + std::to_string(report.compat.size()) +
                         " old-app queries broken";
        if (report.new_app_checked) {
          output.summary +=
              ", " + std::to_string(report.new_app.size()) + " new-app queries failing";
        }
        if (!report.HasErrors()) return Status::Ok();
        return Status::Failed("verify found errors on this database's shadow")
            .WithDetail(output.summary)
            .WithHint("run \"tandem --format json verify --target " + target.name +
                      "\" for the full report");
      });
}

}  // namespace

void RegisterVerify(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand(
      "verify", "run pending migrations on a shadow database and report what really happened");
  struct Flags {
    std::string shadow_url;
    int sample_rows = 0;
    std::string old_queries;
    std::string new_queries;
    bool from_pg_stat_statements = false;
    bool no_lint = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--shadow-url", f->shadow_url,
                  "a scratch database to run on (default: a throwaway embedded PostgreSQL)");
  cmd->add_option("--sample-rows", f->sample_rows,
                  "fill each table with N generated rows first, so scans and rewrites take time")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--old-queries", f->old_queries,
                  "SQL the running app issues ($1 parameters accepted), checked after each "
                  "migration");
  cmd->add_option("--new-queries", f->new_queries,
                  "SQL the new app issues ($1 parameters accepted), checked once the pending "
                  "migrations have run (online ones expanded, on the plan's search_path)");
  cmd->add_flag("--from-pg-stat-statements", f->from_pg_stat_statements,
                "read the old app's queries from pg_stat_statements on the target");
  cmd->add_flag("--no-lint", f->no_lint, "do not join lint's findings");
  cmd->callback([&context, &selected, f] {
    selected = [&context, f]() -> int {
      auto config = context.LoadConfig();
      if (!config.ok()) return context.Fail(config.status());
      auto files = context.LoadMigrations(*config);
      if (!files.ok()) return context.Fail(files.status());
      verify::VerifyOptions options;
      options.shadow_url = f->shadow_url;
      options.target_url = config->database_url;
      options.state_schema = config->schema;
      options.sample_rows = f->sample_rows;
      options.old_queries_file = f->old_queries;
      options.new_queries_file = f->new_queries;
      options.from_pg_stat_statements = f->from_pg_stat_statements;
      options.lint = !f->no_lint;
      options.lint_rules = config->lint_rules;
      if (context.ForFleet()) return VerifyFleet(context, *config, *files, options);
      auto report = verify::Verify(*files, options);
      if (!report.ok()) return context.Fail(report.status());
      if (context.format() == Format::kJson) {
        context.out << verify::ReportToJson(*report).dump(2) << "\n";
      } else {
        context.out << verify::ReportToText(*report);
      }
      return report->HasErrors() ? 1 : 0;
    };
  });
}

}  // namespace tandem::cli
