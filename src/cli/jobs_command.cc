// tandem jobs: list, show and steer the asynchronous work (post-deploy migrations) the worker
// runs. Every change goes through src/jobs/transitions.h, which records who made it and why.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "background/progress.h"
#include "background/runner.h"
#include "base/interrupt.h"
#include "base/printable.h"
#include "cli/context.h"
#include "cli/fleet_command.h"
#include "cli/render.h"
#include "jobs/schedule.h"
#include "jobs/transitions.h"
#include "migrate/history.h"

namespace tandem::cli {
namespace {

struct JobsFlags {
  long long id = 0;
  bool all = false;
  std::string actor;
  std::string reason;
};

nlohmann::json JobJson(const jobs::Job& j, const std::string& waiting = "") {
  nlohmann::json out = {{"id", j.id},
                        {"kind", j.kind},
                        {"version", j.version},
                        {"name", j.name},
                        {"status", std::string(jobs::StatusName(j.status))},
                        {"attempts", j.attempts},
                        {"approved", j.approved},
                        {"file", j.path},
                        {"transactional", j.transactional},
                        {"statements_done", j.statements_done},
                        {"statements_total", j.statements_total},
                        {"queued_at", j.queued_at},
                        {"updated_at", j.updated_at}};
  auto optional = [&](const char* key, const std::string& value) {
    out[key] = value.empty() ? nlohmann::json() : nlohmann::json(value);
  };
  optional("started_at", j.started_at);
  optional("finished_at", j.finished_at);
  optional("next_attempt_at", j.run_after);
  optional("worker", j.worker);
  optional("requested", j.requested);
  out["duration_ms"] = j.duration_ms ? nlohmann::json(*j.duration_ms) : nlohmann::json();
  if (j.error) {
    out["last_error"] = {{"sqlstate", j.error->sqlstate},   {"message", j.error->message},
                         {"statement", j.error->statement}, {"file", j.error->file},
                         {"line", j.error->line},           {"column", j.error->column},
                         {"detail", j.error->detail}};
  } else {
    out["last_error"] = nullptr;
  }
  if (!waiting.empty()) out["waiting"] = waiting;
  if (j.kind == "background") {
    auto batch = nlohmann::json::parse(j.batch, nullptr, false);
    out["batch"] = batch.is_discarded() ? nlohmann::json() : batch;
    background::Progress progress = background::ParseProgress(j.progress);
    out["progress"] = progress.key_kind.empty() ? nlohmann::json() : background::ToJson(progress);
  }
  return out;
}

std::string Dump(const nlohmann::json& json) {
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string DurationText(const jobs::Job& j) {
  if (!j.duration_ms) return "";
  return FormatDuration(Duration(*j.duration_ms));
}

// What a person can do next, as commands: what the job needs from a person, and for a job
// waiting for its next attempt, how not to wait.
std::vector<std::string> NextCommands(const jobs::Job& j) {
  std::string id = std::to_string(j.id);
  if (j.status == jobs::JobStatus::kRetrying) {
    return {"tandem jobs retry " + id + "  (now)", "tandem jobs cancel " + id};
  }
  return jobs::PersonNextCommands(j.status, id);
}

struct Open {
  config::Config config;
  std::unique_ptr<pg::Connection> connection;
};

// One database: the URL given, or with --target the one database it names (a job id is per
// database, so `what` names the job for the refusal when it names several).
Result<Open> Connect(Context& context, const std::string& what = "a job id") {
  Open o;
  TANDEM_ASSIGN_OR_RETURN(o.config, context.LoadConfig());
  if (context.ForFleet()) {
    TANDEM_ASSIGN_OR_RETURN(o.connection, ConnectSingleTarget(context, o.config, what));
  } else {
    TANDEM_ASSIGN_OR_RETURN(o.connection, context.Connect(o.config));
  }
  return o;
}

// A database's jobs and, for each job that waits, why.
struct Listed {
  std::vector<jobs::Job> jobs;
  std::map<long long, std::string> waiting;
};

Result<Listed> ReadJobs(pg::Connection& connection, const std::string& schema) {
  Listed listed;
  TANDEM_ASSIGN_OR_RETURN(listed.jobs, jobs::ListJobs(connection, schema));
  TANDEM_ASSIGN_OR_RETURN(auto history, migrate::ReadHistory(connection, schema));
  TANDEM_ASSIGN_OR_RETURN(
      auto now,
      connection.Query(
          "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"));
  jobs::Schedule schedule = jobs::ComputeSchedule(listed.jobs, history, now.Get(0, 0));
  for (const auto& w : schedule.waiting) listed.waiting[w.job] = w.reason;
  return listed;
}

nlohmann::json ListJson(const Listed& listed) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& j : listed.jobs) {
    auto it = listed.waiting.find(j.id);
    out.push_back(JobJson(j, it == listed.waiting.end() ? "" : it->second));
  }
  return out;
}

// The jobs table; with `target` non-empty, a TARGET column first (jobs list --target).
std::string JobsTable(const std::vector<std::pair<std::string, const Listed*>>& databases,
                      bool with_target) {
  size_t width = 6;
  for (const auto& [target, listed] : databases) width = std::max(width, target.size());
  std::string out = with_target ? fmt::format("{:<{}}  ", "TARGET", width) : "";
  out += fmt::format("{:>5}  {:<11}  {:<16}  {:<28}  {:<17}  {:>8}  {:>9}  {}\n", "ID", "KIND",
                     "VERSION", "NAME", "STATUS", "ATTEMPTS", "DURATION", "NOTE");
  for (const auto& [target, listed] : databases) {
    for (const auto& j : listed->jobs) {
      auto it = listed->waiting.find(j.id);
      std::string note = it == listed->waiting.end() ? "" : it->second;
      if (j.error &&
          (j.status == jobs::JobStatus::kFailed || j.status == jobs::JobStatus::kRetrying)) {
        note = (j.error->sqlstate.empty() ? "" : j.error->sqlstate + ": ") + j.error->message;
      }
      if (j.kind == "background" && note.empty()) {
        note = background::Summary(background::ParseProgress(j.progress));
      }
      if (!j.requested.empty()) note = j.requested + " requested";
      if (with_target) out += fmt::format("{:<{}}  ", target, width);
      out += fmt::format("{:>5}  {:<11}  {:<16}  {:<28}  {:<17}  {:>8}  {:>9}  {}\n", j.id, j.kind,
                         j.version, j.name, jobs::StatusName(j.status), j.attempts, DurationText(j),
                         note);
    }
  }
  return PrintableLines(out);
}

// `tandem jobs list --target ...`: every chosen database's jobs in one table with a TARGET
// column after the per-database lines; in JSON each database's entry has its "jobs".
int ListFleet(Context& context) {
  auto config = context.LoadConfig();
  if (!config.ok()) return context.Fail(config.status());
  std::mutex mutex;
  std::map<std::string, Listed> by_target;
  FleetCommand how;
  how.name = "jobs list";
  how.read_only = true;
  how.text_footer = [&](const std::vector<TargetOutput>& outputs) -> std::string {
    std::vector<std::pair<std::string, const Listed*>> databases;
    for (const auto& o : outputs) {
      auto it = by_target.find(o.target);
      if (it != by_target.end()) databases.emplace_back(it->first, &it->second);
    }
    size_t total = 0;
    for (const auto& d : databases) total += d.second->jobs.size();
    if (total == 0) return "no jobs on any database that answered\n";
    return "\n" + JobsTable(databases, true);
  };
  return RunOnFleet(
      context, *config, how,
      [&](const fleet::Target& target, pg::Connection& connection, TargetOutput& output) -> Status {
        TANDEM_ASSIGN_OR_RETURN(Listed listed, ReadJobs(connection, config->schema));
        std::map<std::string, int> counts;
        for (const auto& j : listed.jobs) ++counts[std::string(jobs::StatusName(j.status))];
        output.summary = std::to_string(listed.jobs.size()) + " jobs";
        std::string separator = ": ";
        for (const auto& [status, n] : counts) {
          output.summary += separator + std::to_string(n) + " " + status;
          separator = ", ";
        }
        output.json = {{"jobs", ListJson(listed)}};
        std::lock_guard<std::mutex> lock(mutex);
        by_target[target.name] = std::move(listed);
        return Status::Ok();
      });
}

int List(Context& context) {
  if (context.ForFleet()) return ListFleet(context);
  auto open = Connect(context);
  if (!open.ok()) return context.Fail(open.status());
  auto listed = ReadJobs(*open->connection, open->config.schema);
  if (!listed.ok()) return context.Fail(listed.status());
  if (context.format() == Format::kJson) {
    nlohmann::json out = {{"database", open->connection->url().Redacted()},
                          {"jobs", ListJson(*listed)}};
    context.out << Dump(out);
    return 0;
  }
  if (listed->jobs.empty()) {
    context.out << "no jobs: tandem release queues post-deploy migrations here\n";
    return 0;
  }
  context.out << JobsTable({{"", &*listed}}, false);
  return 0;
}

int Show(Context& context, long long id) {
  auto open = Connect(context, "job " + std::to_string(id));
  if (!open.ok()) return context.Fail(open.status());
  auto job = jobs::FindJob(*open->connection, open->config.schema, id);
  if (!job.ok()) return context.Fail(job.status());
  if (!*job) {
    return context.Fail(Status::InvalidInput("job " + std::to_string(id) + " does not exist")
                            .WithHint("run \"tandem jobs list\" to see the jobs and their ids"));
  }
  const jobs::Job& j = **job;
  if (context.format() == Format::kJson) {
    nlohmann::json out = JobJson(j);
    out["sql"] = j.sql;
    out["checksum"] = j.checksum;
    out["next"] = NextCommands(j);
    context.out << Dump(out);
    return 0;
  }
  std::string text = "job " + std::to_string(j.id) + ": " + j.kind + " " + j.version + " " +
                     j.name + "\n  status:      " + std::string(jobs::StatusName(j.status)) +
                     (j.requested.empty() ? "" : " (" + j.requested + " requested)") +
                     "\n  attempts:    " + std::to_string(j.attempts) +
                     "\n  file:        " + j.path + "\n  queued at:   " + j.queued_at;
  if (!j.started_at.empty()) text += "\n  started at:  " + j.started_at;
  if (!j.finished_at.empty()) text += "\n  finished at: " + j.finished_at;
  if (j.duration_ms) text += "\n  duration:    " + DurationText(j);
  if (!j.run_after.empty()) text += "\n  next try at: " + j.run_after;
  if (!j.worker.empty()) text += "\n  worker:      " + j.worker;
  if (!j.transactional) {
    text += "\n  statements:  " + std::to_string(j.statements_done) + " of " +
            std::to_string(j.statements_total) + " applied (transaction off)";
  }
  if (j.kind == "background") {
    background::Progress p = background::ParseProgress(j.progress);
    auto batch = nlohmann::json::parse(j.batch, nullptr, false);
    if (batch.is_object()) {
      text += "\n  batches of:  " + batch.value("table", "") + " by " + batch.value("key", "") +
              ", size " + (batch["size"].is_number() ? batch["size"].dump() : "auto");
    }
    if (!p.key_kind.empty()) {
      text += "\n  progress:    " + background::Summary(p);
      text +=
          "\n  cursor:      " + (p.done ? std::string("done") : p.cursor) +
          (p.max ? " (keys " + std::to_string(*p.min) + " to " + std::to_string(*p.max) + ")" : "");
      text += "\n  batches:     " + std::to_string(p.batches) + " (last " +
              std::to_string(p.last_batch_ms) + " ms, " + std::to_string(p.splits) +
              " split after a timeout)";
      text += "\n  throttled:   " + FormatDuration(Duration(p.throttled_ms)) +
              (p.throttled_reason.empty()
                   ? ""
                   : " (now: " + p.throttled_reason + " " + p.throttled_value + ")");
    }
  }
  if (j.error) {
    text += "\n  last error:  " + (j.error->sqlstate.empty() ? "" : j.error->sqlstate + ": ") +
            j.error->message;
    if (j.error->line) {
      text += "\n  at:          " + j.error->file + ":" + std::to_string(j.error->line) + ":" +
              std::to_string(j.error->column);
    }
    if (!j.error->statement.empty()) text += "\n  statement:   " + j.error->statement;
    // The detail (the blockers of a lock timeout, for one) indented under the error.
    for (size_t at = 0; at < j.error->detail.size();) {
      size_t end = j.error->detail.find('\n', at);
      if (end == std::string::npos) end = j.error->detail.size();
      text += "\n  detail:      " + j.error->detail.substr(at, end - at);
      at = end + 1;
    }
  }
  for (const auto& next : NextCommands(j)) text += "\n  next:        " + next;
  context.out << PrintableLines(text + "\n\n" + j.sql + (j.sql.ends_with("\n") ? "" : "\n"));
  return 0;
}

// `tandem jobs finalize ID`: the remaining batches of a background job now, in the foreground,
// with progress on stderr. The batches are the worker's (one transaction each with the
// compare-and-set cursor), so a worker running the same job meanwhile never repeats a range.
int Finalize(Context& context, const JobsFlags& flags) {
  auto open = Connect(context, "job " + std::to_string(flags.id));
  if (!open.ok()) return context.Fail(open.status());
  pg::Connection& c = *open->connection;
  const std::string& schema = open->config.schema;
  jobs::Change change{jobs::ResolveActor(flags.actor),
                      flags.reason.empty() ? "finalized in the foreground" : flags.reason};
  auto found = jobs::FindJob(c, schema, flags.id);
  if (!found.ok()) return context.Fail(found.status());
  if (!*found) {
    return context.Fail(Status::InvalidInput("job " + std::to_string(flags.id) + " does not exist")
                            .WithHint("run \"tandem jobs list\" to see the jobs and their ids"));
  }
  jobs::Job job = **found;
  if (job.kind != "background") {
    return context.Fail(Status::InvalidInput("job " + std::to_string(job.id) + " (" + job.version +
                                             ") is not a background migration")
                            .WithHint("only background migrations are finalized"));
  }
  if (job.status == jobs::JobStatus::kSucceeded) {
    context.err << "job " << job.id << " is already done\n";
    return 0;
  }
  // A paused, failed or cancelled job is queued again first, recorded as this person's act.
  Result<jobs::Job> step = job;
  if (job.status == jobs::JobStatus::kPaused) step = jobs::Resume(c, schema, job.id, change);
  if (job.status == jobs::JobStatus::kFailed || job.status == jobs::JobStatus::kCancelled) {
    step = jobs::Retry(c, schema, job.id, change);
  }
  if (!step.ok()) return context.Fail(step.status());
  auto claimed = jobs::Claim(c, schema, job.id, change);
  if (!claimed.ok()) return context.Fail(claimed.status());
  auto with_sql = jobs::FindJob(c, schema, job.id);
  if (!with_sql.ok() || !*with_sql) return context.Fail(with_sql.status());
  job = **with_sql;

  background::RunnerSettings settings =
      background::SettingsFrom(open->config.background, open->config.worker.max_attempts);
  auto started = std::chrono::steady_clock::now();
  auto last_print = started - std::chrono::seconds(1);
  auto print = [&](const background::Progress& p) {
    auto now = std::chrono::steady_clock::now();
    if (!p.done && now - last_print < std::chrono::seconds(1)) return;
    last_print = now;
    context.err << PrintableLines("job " + std::to_string(job.id) + ": " + background::Summary(p) +
                                  "\n");
  };
  background::RunResult result;
  {
    interrupt::Graceful graceful(Duration(10'000));
    interrupt::CancelHook cancel([&c] { c.RequestCancel(); });
    result = background::RunJob(c, schema, job, settings, nullptr, print);
  }
  if (result.lost) {
    return context.Fail(Status::Unavailable("lost the connection while finalizing job " +
                                            std::to_string(job.id) + ": " + result.reason)
                            .WithHint("the committed batches stay; run it again to go on"));
  }
  jobs::Outcome outcome;
  outcome.to = result.to;
  outcome.error = result.error;
  outcome.duration =
      std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  auto finished = jobs::Finish(c, schema, job.id, outcome, {change.actor, result.reason});
  if (!finished.ok()) return context.Fail(finished.status());
  if (context.format() == Format::kJson) {
    context.out << Dump(JobJson(*finished));
  } else {
    context.out << PrintableLines("job " + std::to_string(job.id) + " (" + job.version + " " +
                                  job.name +
                                  "): " + std::string(jobs::StatusName(finished->status)) +
                                  (result.reason.empty() ? "" : " (" + result.reason + ")") + "\n");
  }
  return finished->status == jobs::JobStatus::kSucceeded ? 0 : 1;
}

using One = Result<jobs::Job> (*)(pg::Connection&, const std::string&, long long,
                                  const jobs::Change&);
using Every = Result<std::vector<jobs::Job>> (*)(pg::Connection&, const std::string&,
                                                 const jobs::Change&);

int Change(Context& context, const JobsFlags& flags, const char* verb, One one, Every every) {
  if (!flags.all && flags.id <= 0) {
    return context.Fail(Status::InvalidInput(std::string("tandem jobs ") + verb +
                                             " needs a job id" + (every ? " or --all" : ""))
                            .WithHint("run \"tandem jobs list\" to see the jobs and their ids"));
  }
  jobs::Change change{jobs::ResolveActor(flags.actor), flags.reason};
  if (flags.all && context.ForFleet()) {
    // --all is a statement about each database: the action on every chosen one.
    auto config = context.LoadConfig();
    if (!config.ok()) return context.Fail(config.status());
    FleetCommand how;
    how.name = std::string("jobs ") + verb + " --all";
    return RunOnFleet(
        context, *config, how,
        [&](const fleet::Target&, pg::Connection& connection, TargetOutput& output) -> Status {
          TANDEM_ASSIGN_OR_RETURN(auto changed, every(connection, config->schema, change));
          output.json = {
              {"action", verb}, {"actor", change.actor}, {"jobs", nlohmann::json::array()}};
          std::string ids;
          for (const auto& j : changed) {
            output.json["jobs"].push_back(JobJson(j));
            ids += (ids.empty() ? "" : ", ") + std::to_string(j.id);
          }
          output.summary = changed.empty() ? std::string("no job to ") + verb
                                           : std::string(verb) + ": job" +
                                                 (changed.size() == 1 ? " " : "s ") + ids;
          return Status::Ok();
        });
  }
  auto open = Connect(context, "job " + std::to_string(flags.id));
  if (!open.ok()) return context.Fail(open.status());
  std::vector<jobs::Job> changed;
  if (flags.all) {
    auto result = every(*open->connection, open->config.schema, change);
    if (!result.ok()) return context.Fail(result.status());
    changed = std::move(*result);
  } else {
    auto result = one(*open->connection, open->config.schema, flags.id, change);
    if (!result.ok()) return context.Fail(result.status());
    changed.push_back(std::move(*result));
  }
  if (context.format() == Format::kJson) {
    nlohmann::json out = {
        {"action", verb}, {"actor", change.actor}, {"jobs", nlohmann::json::array()}};
    for (const auto& j : changed) out["jobs"].push_back(JobJson(j));
    context.out << Dump(out);
    return 0;
  }
  if (changed.empty()) context.out << "no job to " << verb << "\n";
  for (const auto& j : changed) {
    std::string state(jobs::StatusName(j.status));
    if (!j.requested.empty()) state += ", " + j.requested + " requested: the worker stops it";
    context.out << PrintableLines("job " + std::to_string(j.id) + " (" + j.version + " " + j.name +
                                  "): " + state + "\n");
  }
  return 0;
}

}  // namespace

void RegisterJobs(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand("jobs", "list, show and steer the worker's jobs");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<JobsFlags>();
  auto* list = cmd->add_subcommand("list", "every job, its state, and why it waits");
  list->callback([&context, &selected] { selected = [&context] { return List(context); }; });
  auto* show = cmd->add_subcommand("show", "one job: state, attempts, last error, its SQL");
  show->add_option("id", flags->id, "the job id")->required();
  show->callback([&context, &selected, flags] {
    selected = [&context, flags] { return Show(context, flags->id); };
  });
  auto* finalize =
      cmd->add_subcommand("finalize", "run a background job's remaining batches now, here");
  finalize->add_option("id", flags->id, "the job id")->required();
  finalize->add_option("--actor", flags->actor,
                       "your name, recorded with the change (default: TANDEM_ACTOR, then host)");
  finalize->add_option("--reason", flags->reason, "why, recorded with the change");
  finalize->callback([&context, &selected, flags] {
    selected = [&context, flags] { return Finalize(context, *flags); };
  });
  struct Verb {
    const char* name;
    const char* help;
    One one;
    Every every;
  };
  for (const Verb& v : {
           Verb{"pause", "stop a job from starting (a running one: its statement is cancelled)",
                jobs::Pause, jobs::PauseAll},
           Verb{"resume", "let a paused job run again", jobs::Resume, jobs::ResumeAll},
           Verb{"retry", "queue a failed or cancelled job again, now", jobs::Retry, nullptr},
           Verb{"cancel", "never run this job (a running one: its statement is cancelled)",
                jobs::Cancel, nullptr},
           Verb{"approve",
                "let a job that awaits approval run (--all: a deploy pipeline's "
                "last step, once the new code is live everywhere)",
                jobs::Approve, jobs::ApproveAll},
       }) {
    auto* sub = cmd->add_subcommand(v.name, v.help);
    auto* id = sub->add_option("id", flags->id, "the job id");
    if (v.every) sub->add_flag("--all", flags->all, "every job this applies to")->excludes(id);
    sub->add_option("--actor", flags->actor,
                    "your name, recorded with the change (default: TANDEM_ACTOR, then host)");
    sub->add_option("--reason", flags->reason, "why, recorded with the change");
    sub->callback([&context, &selected, flags, v] {
      selected = [&context, flags, v] { return Change(context, *flags, v.name, v.one, v.every); };
    });
  }
}

}  // namespace tandem::cli
