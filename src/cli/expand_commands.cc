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
#include "pg/quote.h"

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

expand::ExecOptions ExecOptionsFor(Context& context, const config::Config& config) {
  expand::ExecOptions options;
  options.schema = config.schema;
  options.settings = config.release;
  options.actor = jobs::ResolveActor("");
  // A queued contract job sorts among the post-deploy jobs in the order of the set's layout.
  if (config.layout) {
    options.layout = std::string(migrate::LayoutName(*config.layout));
  } else if (auto files = context.LoadMigrations(config); files.ok()) {
    options.layout = std::string(migrate::LayoutName(files->layout));
  }
  return options;
}

void Print(Context& context, const nlohmann::json& result) {
  if (context.format() == Format::kJson) {
    context.out << result.dump(2) << "\n";
  } else {
    context.out << result["result"].get<std::string>() << "\n";
  }
}

// complete --now and abort change the schema: under the runner lock, so that no release, no
// worker's contract job and no other complete or abort runs then.
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
  Print(context, {{"result", done}});
  return 0;
}

// `tandem complete VERSION`: the contract queued for the worker. No runner lock (a worker
// running a contract holds it for as long as the contract runs), except to upgrade the state
// schema when it is older than this tandem (the contract job's kind arrived in version 4).
int QueueContract(Context& context, const std::string& version) {
  auto opened = Open(context);
  if (!opened.ok()) return context.Fail(opened.status());
  pg::Connection& connection = *opened->connection;
  const std::string& schema = opened->config.schema;
  auto exists = connection.Query(
      "SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.state_version') IS NOT NULL",
      {schema});
  if (!exists.ok()) return context.Fail(exists.status());
  long long current = 0;
  if (exists->GetBool(0, 0)) {
    auto v = connection.Query("SELECT coalesce(max(version), 0) FROM " +
                              pg::QuoteIdentifier(schema) + ".state_version");
    if (!v.ok()) return context.Fail(v.status());
    current = v->GetInt(0, 0);
  }
  if (current < migrate::LatestStateVersion()) {
    auto lock = migrate::RunnerLock::Acquire(connection, schema, opened->config.lock_wait);
    if (!lock.ok()) return context.Fail(lock.status());
    if (Status s = migrate::EnsureStateSchema(connection, schema); !s.ok()) {
      return context.Fail(s);
    }
  }
  auto queued = expand::QueueComplete(connection, version, ExecOptionsFor(context, opened->config));
  if (!queued.ok()) return context.Fail(queued.status());
  std::string id = std::to_string(queued->job_id);
  std::string text;
  if (queued->completed) {
    text = "online migration " + version + " is completed already";
  } else if (queued->created) {
    text = "contract of online migration " + version + " queued as job " + id +
           "; tandem worker runs it (see \"tandem status\")";
  } else if (queued->requeued) {
    text = "contract of online migration " + version + " queued again as job " + id +
           "; it goes on from the first step not done";
  } else {
    text = "contract of online migration " + version + " is job " + id + " (" + queued->job_status +
           ") already";
  }
  nlohmann::json result = {{"result", text}};
  if (queued->job_id != 0) {
    result["job"] = queued->job_id;
    result["job_status"] = queued->job_status;
  }
  result["created"] = queued->created;
  Print(context, result);
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
      "complete",
      "contract an online migration once the old app is gone: queue its contract steps for "
      "tandem worker, or run them now with --now (a contract that failed half-way is finished "
      "by running complete again)");
  complete->add_option("version", *complete_version, "the online migration's version")->required();
  complete->add_flag("--now", *now,
                     "run the contract steps now, in this process, instead of queueing them");
  complete->callback([&context, &selected, complete_version, now] {
    selected = [&context, complete_version, now]() -> int {
      if (!*now) return QueueContract(context, *complete_version);
      return UnderRunnerLock(
          context,
          [&](pg::Connection& connection, const Opened& o) {
            return expand::CompleteNow(connection, *complete_version,
                                       ExecOptionsFor(context, o.config));
          },
          "online migration " + *complete_version + " completed");
    };
  });

  auto abort_version = std::make_shared<std::string>();
  auto* abort = app.add_subcommand(
      "abort",
      "undo the expand of an online migration (schema and rows as before it); refused once a "
      "contract step has run");
  abort->add_option("version", *abort_version, "the online migration's version")->required();
  abort->callback([&context, &selected, abort_version] {
    selected = [&context, abort_version]() -> int {
      return UnderRunnerLock(
          context,
          [&](pg::Connection& connection, const Opened& o) {
            return expand::Abort(connection, *abort_version, ExecOptionsFor(context, o.config));
          },
          "online migration " + *abort_version + " aborted");
    };
  });
}

}  // namespace tandem::cli
