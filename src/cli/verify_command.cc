// tandem verify: runs pending migrations on a shadow database and reports what really
// happened (locks, rewrites, scans, durations) and which old-app queries break.
#include <memory>

#include "cli/context.h"
#include "verify/verify.h"

namespace tandem::cli {

void RegisterVerify(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand(
      "verify", "run pending migrations on a shadow database and report what really happened");
  struct Flags {
    std::string shadow_url;
    int sample_rows = 0;
    std::string old_queries;
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
      options.from_pg_stat_statements = f->from_pg_stat_statements;
      options.lint = !f->no_lint;
      options.lint_rules = config->lint_rules;
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
