// tandem lint [PATHS]: static safety analysis of migrations (src/lint/). Exit 1 when any
// error-level finding remains, 0 otherwise, 2 for bad usage.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/keep_until_exit.h"
#include "cli/context.h"
#include "cli/fleet_command.h"
#include "cli/render.h"
#include "lint/catalog.h"
#include "lint/engine.h"
#include "lint/report.h"
#include "lint/rule.h"
#include "lint/source.h"
#include "pg/url.h"

namespace tandem::cli {
namespace {

struct LintFlags {
  std::vector<std::string> paths;
  std::string format;
  std::string pg_version;
  bool list_rules = false;
};

// The rule catalog: one line per rule, or with --format json an array of the rules' metadata
// (the fields of their docs/rules/ pages), for tools that configure [lint.rules].
int ListRules(Context& context, bool json) {
  if (!json) {
    for (const lint::Rule* rule : lint::AllRules()) {
      context.out << rule->id << " (" << lint::SeverityName(rule->severity)
                  << "): " << rule->summary << "\n";
    }
    return 0;
  }
  nlohmann::json rules = nlohmann::json::array();
  for (const lint::Rule* rule : lint::AllRules()) {
    std::string lock = rule->lock;
    if (size_t at = lock.find("{table}"); at != std::string::npos) lock.replace(at, 7, "the table");
    rules.push_back({{"id", rule->id},
                     {"severity", std::string(lint::SeverityName(rule->severity))},
                     {"summary", rule->summary},
                     {"why", rule->why},
                     {"lock", lock},
                     {"blocks", rule->blocks},
                     {"versions", rule->versions},
                     {"recipe", rule->recipe},
                     {"example", rule->example},
                     {"doc", std::string("docs/rules/") + rule->id + ".md"}});
  }
  context.out << nlohmann::json{{"rules", rules}}.dump(2) << "\n";
  return 0;
}

// The live catalog and tandem's history of one database, and its server version unless
// tandem.toml pins one. Not ok when either cannot be read (the caller decides whether lint
// goes on without them).
Status ReadLive(pg::Connection& connection, const config::Config& config,
                lint::LintOptions& options, lint::LiveDatabase& live) {
  if (!config.lint_pg_version && options.version_source != "--pg-version") {
    options.version = lint::ServerVersion(connection);
    options.version_source = "server";
  }
  auto catalog = lint::ReadCatalog(connection);
  if (!catalog.ok()) {
    Status status = catalog.status();
    return std::move(status).Prefix("could not read the live catalog");
  }
  auto applied = lint::ReadAppliedVersions(connection, config.schema);
  if (!applied.ok()) {
    Status status = applied.status();
    return std::move(status).Prefix("could not read tandem's history");
  }
  live.catalog = std::move(*catalog);
  live.applied = std::move(*applied);
  live.migrations_dir = config.MigrationsPath();
  return Status::Ok();
}

// --target: the migrations linted against each database's live catalog (its schema and
// server version), one line per database, each database's findings as its JSON entry.
// Read-only: every database is linted; one with error-level findings counts as failed.
int LintFleet(Context& context, const config::Config& config, const lint::LintOptions& options,
              const std::vector<lint::LintSequence>& sequences, lint::ReportFormat format) {
  if (format != lint::ReportFormat::kText && format != lint::ReportFormat::kJson) {
    return context.Fail(Status::InvalidInput("lint --target reports as text or json")
                            .WithHint("for sarif, github or gitlab, lint one database with "
                                      "--database-url"));
  }
  if (format == lint::ReportFormat::kJson) context.flags.format = "json";
  FleetCommand how;
  how.name = "lint";
  how.read_only = true;
  return RunOnFleet(
      context, config, how,
      [&](const fleet::Target&, pg::Connection& connection, TargetOutput& output) -> Status {
        lint::LintOptions mine = options;
        lint::LiveDatabase live;
        TANDEM_RETURN_IF_ERROR(ReadLive(connection, config, mine, live));
        lint::LintReport report = lint::LintWithLiveDatabase(sequences, live, mine);
        output.json = nlohmann::json::parse(lint::RenderJson(report), nullptr, false);
        int errors = report.Count(lint::Severity::kError);
        output.summary = std::to_string(errors) + " errors, " +
                         std::to_string(report.Count(lint::Severity::kWarning)) +
                         " warnings (PostgreSQL " + std::to_string(report.pg_version.major) + ", " +
                         report.pg_version_source + ")";
        if (errors == 0) return Status::Ok();
        return Status::Failed("lint found " + std::to_string(errors) +
                              " errors against this database's schema")
            .WithDetail(output.summary)
            .WithHint("run \"tandem lint --database-url ...\" on it for the findings");
      });
}

int RunLint(Context& context, const LintFlags& flags) {
  std::string format_name = flags.format.empty() ? context.flags.format : flags.format;
  auto format = lint::ParseReportFormat(format_name);
  if (!format) {
    return context.Fail(Status::InvalidInput("unknown lint format \"" + format_name + "\"")
                            .WithHint("use text, json, sarif, github or gitlab"));
  }
  if (flags.list_rules) return ListRules(context, *format == lint::ReportFormat::kJson);
  auto config = context.LoadConfig();
  if (!config.ok()) return context.Fail(config.status());
  if (Status s = lint::ValidateRuleSettings(config->lint_rules); !s.ok()) return context.Fail(s);

  lint::LintOptions options;
  options.rule_settings = config->lint_rules;
  if (config->lint_pg_version) {
    options.version.major = *config->lint_pg_version;
    options.version_source = "tandem.toml";
  }
  lint::LiveDatabase live;
  bool connected = false;
  if (!context.ForFleet() && !config->database_url.empty()) {
    // A configured database gives the real schema and version; lint stays usable offline.
    auto connection = context.Connect(*config);
    if (connection.ok()) {
      Status read = ReadLive(**connection, *config, options, live);
      connected = read.ok();
      if (!read.ok()) {
        context.err << "tandem: warning: " << read.message() << "; linting without it\n";
      }
    } else {
      context.err << "tandem: warning: " << connection.status().message()
                  << "; linting without the live catalog\n";
    }
  }
  if (!flags.pg_version.empty()) {
    auto v = lint::PgVersion::Parse(flags.pg_version);
    if (!v) {
      return context.Fail(Status::InvalidInput("invalid --pg-version \"" + flags.pg_version + "\"")
                              .WithHint("use a PostgreSQL version such as 15, 14.3 or 120005"));
    }
    options.version = *v;
    options.version_source = "--pg-version";
  }

  std::vector<lint::LintSequence> sequences;
  if (flags.paths.empty()) {
    auto set = context.LoadMigrations(*config);
    if (!set.ok()) return context.Fail(set.status());
    sequences.push_back(lint::SequenceFromSet(*set));
  } else {
    auto collected = lint::CollectPaths(flags.paths, config->layout);
    if (!collected.ok()) return context.Fail(collected.status());
    sequences = std::move(*collected);
  }
  if (context.ForFleet()) return LintFleet(context, *config, options, sequences, *format);
  lint::LintReport report = connected
                                ? lint::LintWithLiveDatabase(std::move(sequences), live, options)
                                : lint::LintSequences(sequences, lint::Schema(), options);
  lint::WriteReport(context.out, report, *format,
                    *format == lint::ReportFormat::kText && UseColor(), lint::FileSourceReader());
  bool has_errors = report.HasErrors();
  // The process exits next: leave the findings and every file's text to the kernel.
  KeepUntilExit(std::move(report));
  KeepUntilExit(std::move(sequences));
  return has_errors ? 1 : 0;
}

}  // namespace

void RegisterLint(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("lint", "static safety analysis of migrations, with safe recipes");
  auto flags = std::make_shared<LintFlags>();
  cmd->add_option("paths", flags->paths,
                  "migration files or directories (default: the migrations directory)");
  cmd->add_option("--format", flags->format, "text, json, sarif, github or gitlab")
      ->check(CLI::IsMember({"text", "json", "sarif", "github", "gitlab"}));
  cmd->add_option("--pg-version", flags->pg_version,
                  "target PostgreSQL version (default: the server's, else 15)");
  cmd->add_flag("--list-rules", flags->list_rules, "list the rules and exit");
  cmd->callback([&context, &selected, flags] {
    selected = [&context, flags]() -> int { return RunLint(context, *flags); };
  });
}

}  // namespace tandem::cli
