// tandem adopt --from TOOL: take over another tool's history without running anything.
#include <memory>

#include "cli/context.h"
#include "cli/fleet_command.h"
#include "migrate/adopt.h"

namespace tandem::cli {
namespace {

nlohmann::json AdoptJson(const migrate::AdoptReport& report, bool dry_run) {
  return {{"from", report.source},
          {"table", report.table},
          {"dry_run", dry_run},
          {"adopted", report.adopted},
          {"already_recorded", report.already_recorded},
          {"without_file", report.without_file}};
}

// "adopted 12 migrations from dbmate (schema_migrations); 3 already recorded"
std::string AdoptLine(const migrate::AdoptReport& report, bool dry_run) {
  std::string line = std::string(dry_run ? "would adopt " : "adopted ") +
                     std::to_string(report.adopted.size()) + " migrations from " + report.source +
                     " (" + report.table + ")";
  if (!report.already_recorded.empty())
    line += "; " + std::to_string(report.already_recorded.size()) + " already recorded";
  if (!report.without_file.empty())
    line += "; " + std::to_string(report.without_file.size()) + " without a file here";
  return line;
}

}  // namespace

void RegisterAdopt(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("adopt", "record another tool's applied migrations as applied");
  struct Flags {
    std::string from;
    bool dry_run = false;
  };
  auto f = std::make_shared<Flags>();
  cmd->add_option("--from", f->from, "rails, dbmate, golang-migrate, diesel, flyway or goose")
      ->required();
  cmd->add_flag("--dry-run", f->dry_run, "show what would be recorded and change nothing");
  cmd->callback([&context, &selected, f] {
    selected = [&context, f]() -> int {
      auto source = migrate::ParseAdoptSource(f->from);
      if (!source) {
        return context.Fail(
            Status::InvalidInput("unknown tool \"" + f->from + "\" for --from")
                .WithHint("use rails, dbmate, golang-migrate, diesel, flyway or goose"));
      }
      auto config = context.LoadConfig();
      if (!config.ok()) return context.Fail(config.status());
      auto files = context.LoadMigrations(*config);
      if (!files.ok()) return context.Fail(files.status());
      migrate::AdoptOptions options;
      options.schema = config->schema;
      options.lock_wait = config->lock_wait;
      options.dry_run = f->dry_run;
      if (context.ForFleet()) {
        FleetCommand how;
        how.name = f->dry_run ? "adopt --dry-run" : "adopt";
        return RunOnFleet(
            context, *config, how,
            [&](const fleet::Target&, pg::Connection& connection, TargetOutput& output) -> Status {
              TANDEM_ASSIGN_OR_RETURN(auto report,
                                      migrate::Adopt(connection, *files, *source, options));
              output.json = AdoptJson(report, f->dry_run);
              output.summary = AdoptLine(report, f->dry_run);
              return Status::Ok();
            });
      }
      auto connection = context.Connect(*config);
      if (!connection.ok()) return context.Fail(connection.status());
      auto report = migrate::Adopt(**connection, *files, *source, options);
      if (!report.ok()) return context.Fail(report.status());
      if (context.format() == Format::kJson) {
        context.out << AdoptJson(*report, f->dry_run).dump(2) << "\n";
        return 0;
      }
      migrate::AdoptReport shown = *report;
      shown.without_file.clear();  // each one gets its own warning line below
      context.out << AdoptLine(shown, f->dry_run) << "\n";
      for (const auto& v : report->without_file)
        context.out << "warning: " << v << " is in " << report->table
                    << " but has no file here; it shows as missing-file\n";
      return 0;
    };
  });
}

}  // namespace tandem::cli
