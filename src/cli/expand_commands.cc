// tandem plan, tandem complete, tandem abort: online (expand/contract) migrations, src/expand/.
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/context.h"
#include "expand/executor.h"
#include "expand/plan.h"
#include "jobs/job.h"
#include "migrate/layouts.h"
#include "migrate/runner_lock.h"
#include "migrate/state.h"

namespace tandem::cli {
namespace {

// VERSION, or the path of one of the migration's files.
Result<const migrate::Migration*> FindMigration(const migrate::MigrationSet& files,
                                                const std::string& wanted,
                                                const std::string& working_directory) {
  if (const migrate::Migration* m = files.Find(wanted)) return m;
  std::error_code ec;
  std::filesystem::path p = std::filesystem::path(wanted).is_absolute()
                                ? std::filesystem::path(wanted)
                                : std::filesystem::path(working_directory) / wanted;
  auto canonical = std::filesystem::weakly_canonical(p, ec);
  for (const migrate::Migration& m : files.migrations) {
    for (const std::string& path : m.paths) {
      if (!ec && std::filesystem::weakly_canonical(path, ec) == canonical) return &m;
    }
  }
  return Status::InvalidInput("no migration " + wanted + " in " + files.directory)
      .WithHint("give a version or the path of a migration file");
}

std::string StepsText(const std::vector<expand::Step>& steps, const std::string& indent) {
  std::ostringstream out;
  for (size_t i = 0; i < steps.size(); ++i) {
    const expand::Step& s = steps[i];
    out << indent << i + 1 << ". " << s.name << "\n";
    out << indent << "   locks: " << s.lock << "; " << s.duration
        << (s.scan ? "" : " (under lock_timeout, retried)") << "\n";
    for (const std::string& sql : s.sql) {
      std::string line = sql;
      size_t nl = line.find('\n');
      if (nl != std::string::npos) line = line.substr(0, nl) + " ...";
      out << indent << "   " << line << "\n";
    }
  }
  return out.str();
}

std::string PlanText(const expand::Plan& plan, const std::string& state) {
  std::ostringstream out;
  out << "online migration " << plan.version << " (" << plan.name << "): " << state << "\n\n";
  for (const auto& o : plan.operations) {
    out << o.kind << ": " << o.statement << "\n";
    out << "  old app: " << o.old_app << "\n";
    out << "  new app: " << o.new_app << "\n";
  }
  out << "\nexpand (tandem release):\n";
  out << (plan.expand.empty() ? "  nothing\n" : StepsText(plan.expand, "  "));
  out << "\nbackfill (a background job run by tandem worker, ctid block ranges, one short "
         "transaction per batch):\n";
  out << (plan.backfill ? "  " + plan.backfill->sql + "\n" : "  none\n");
  out << "\ncontract (tandem complete, once the old app is gone):\n";
  out << (plan.contract.empty() ? "  nothing\n" : StepsText(plan.contract, "  "));
  out << "\nnew app search_path: "
      << (plan.new_app_search_path ? *plan.new_app_search_path : "none needed") << "\n";
  return out.str();
}

struct Opened {
  config::Config config;
  std::unique_ptr<pg::Connection> connection;
};

Result<Opened> Open(Context& context) {
  Opened o;
  TANDEM_ASSIGN_OR_RETURN(o.config, context.LoadConfig());
  TANDEM_ASSIGN_OR_RETURN(o.connection, context.Connect(o.config));
  return o;
}

expand::ExecOptions ExecOptionsFor(const config::Config& config) {
  expand::ExecOptions options;
  options.schema = config.schema;
  options.settings = config.release;
  options.actor = jobs::ResolveActor("");
  return options;
}

// complete and abort change the schema: under the runner lock, so that no release runs then.
int UnderRunnerLock(Context& context,
                    const std::function<Status(pg::Connection&, const Opened&)>& run,
                    const std::string& done) {
  auto opened = Open(context);
  if (!opened.ok()) return context.Fail(opened.status());
  pg::Connection& connection = *opened->connection;
  StopOnSignal stop_on_signal(connection);
  auto lock =
      migrate::RunnerLock::Acquire(connection, opened->config.schema, opened->config.lock_wait);
  if (!lock.ok()) return context.Fail(lock.status());
  if (Status s = migrate::EnsureStateSchema(connection, opened->config.schema); !s.ok()) {
    return context.Fail(s);
  }
  Status status = run(connection, *opened);
  if (!status.ok()) return context.Fail(status);
  if (context.format() == Format::kJson) {
    context.out << nlohmann::json{{"result", done}}.dump(2) << "\n";
  } else {
    context.out << done << "\n";
  }
  return 0;
}

}  // namespace

void RegisterExpand(CLI::App& app, Context& context, Runner& selected) {
  auto wanted = std::make_shared<std::string>();
  auto* plan = app.add_subcommand(
      "plan", "show the expand/contract plan of an online migration (-- tandem:online)");
  plan->add_option("migration", *wanted, "the migration's version or file")->required();
  plan->callback([&context, &selected, wanted] {
    selected = [&context, wanted]() -> int {
      auto config = context.LoadConfig();
      if (!config.ok()) return context.Fail(config.status());
      auto files = context.LoadMigrations(*config);
      if (!files.ok()) return context.Fail(files.status());
      auto found = FindMigration(*files, *wanted, context.working_directory);
      if (!found.ok()) return context.Fail(found.status());
      migrate::Migration migration = **found;
      if (!migration.online) {
        return context.Fail(
            Status::InvalidInput("migration " + migration.version + " is not online")
                .WithHint("add \"-- tandem:online\" to plan it as expand/contract"));
      }
      auto connection = context.Connect(*config);
      if (!connection.ok()) return context.Fail(connection.status());
      // A released migration shows the plan it runs; otherwise the plan it would get now.
      auto state = expand::ReadOnlineState(**connection, config->schema, migration.version);
      if (!state.ok()) return context.Fail(state.status());
      expand::Plan plan;
      std::string state_name = "not released";
      if (*state && (*state)->state != "aborted") {
        plan = (*state)->plan;
        state_name = (*state)->description;
      } else {
        if (Status s = migrate::SplitSections(migration); !s.ok()) return context.Fail(s);
        auto planned = expand::PlanMigration(**connection, migration);
        if (!planned.ok()) return context.Fail(planned.status());
        plan = std::move(*planned);
      }
      if (context.format() == Format::kJson) {
        nlohmann::json j = nlohmann::json::parse(expand::PlanToJson(plan));
        j["state"] = state_name;
        context.out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      } else {
        context.out << PlanText(plan, state_name);
      }
      return 0;
    };
  });

  auto complete_version = std::make_shared<std::string>();
  auto now = std::make_shared<bool>(false);
  auto* complete = app.add_subcommand(
      "complete", "run the contract of an online migration once the old app is gone");
  complete->add_option("version", *complete_version, "the online migration's version")->required();
  complete->add_flag("--now", *now, "run the contract steps now, in this process");
  complete->callback([&context, &selected, complete_version, now] {
    selected = [&context, complete_version, now]() -> int {
      if (!*now) {
        return context.Fail(
            Status::InvalidInput("queueing the contract for the worker is not implemented yet")
                .WithHint("run it now with \"tandem complete " + *complete_version + " --now\""));
      }
      return UnderRunnerLock(
          context,
          [&](pg::Connection& connection, const Opened& o) {
            return expand::Complete(connection, *complete_version, ExecOptionsFor(o.config));
          },
          "online migration " + *complete_version + " completed");
    };
  });

  auto abort_version = std::make_shared<std::string>();
  auto* abort = app.add_subcommand(
      "abort", "undo the expand of an online migration (schema and rows as before it)");
  abort->add_option("version", *abort_version, "the online migration's version")->required();
  abort->callback([&context, &selected, abort_version] {
    selected = [&context, abort_version]() -> int {
      return UnderRunnerLock(
          context,
          [&](pg::Connection& connection, const Opened& o) {
            return expand::Abort(connection, *abort_version, ExecOptionsFor(o.config));
          },
          "online migration " + *abort_version + " aborted");
    };
  });
}

}  // namespace tandem::cli
