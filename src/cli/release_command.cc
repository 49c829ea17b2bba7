// tandem release: the release-phase step (Heroku `release:`, a Kubernetes Job, a CI step).
// Flags override tandem.toml [release]; migration directives override both (release.h).
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <unistd.h>

#include "cli/context.h"
#include "cli/fleet_command.h"
#include "cli/render.h"
#include "lint/catalog.h"
#include "lint/gate.h"
#include "lint/report.h"
#include "release/release.h"
#include "release/report.h"
#include "verify/verify.h"

namespace tandem::cli {
namespace {

struct ReleaseFlags {
  bool plan = false;
  bool verify = false;
  std::optional<std::string> lock_timeout;
  std::optional<std::string> statement_timeout;
  std::optional<std::string> idle_in_transaction_timeout;
  std::optional<std::string> retry_budget;
  std::optional<std::string> backoff_initial;
  std::optional<std::string> backoff_max;
};

// Applies one duration flag, if given, naming the flag when it does not parse. Given empty
// (--lock-timeout "", an unset variable in a script) is an error, not the default.
Status Override(const std::string& flag, const std::optional<std::string>& text,
                Duration& setting) {
  if (!text) return Status::Ok();
  auto parsed = ParseDuration(*text);
  if (!parsed.ok()) {
    Status status = parsed.status();
    return std::move(status).Prefix(flag);
  }
  setting = *parsed;
  return Status::Ok();
}

Status ApplyFlags(const ReleaseFlags& f, config::ReleaseSettings& s) {
  TANDEM_RETURN_IF_ERROR(Override("--lock-timeout", f.lock_timeout, s.lock_timeout));
  TANDEM_RETURN_IF_ERROR(Override("--statement-timeout", f.statement_timeout, s.statement_timeout));
  TANDEM_RETURN_IF_ERROR(Override("--idle-in-transaction-timeout", f.idle_in_transaction_timeout,
                                  s.idle_in_transaction_timeout));
  TANDEM_RETURN_IF_ERROR(Override("--retry-budget", f.retry_budget, s.retry_budget));
  TANDEM_RETURN_IF_ERROR(Override("--backoff-initial", f.backoff_initial, s.backoff_initial));
  TANDEM_RETURN_IF_ERROR(Override("--backoff-max", f.backoff_max, s.backoff_max));
  if (s.lock_timeout <= Duration(0)) {
    return Status::InvalidInput("lock_timeout must be greater than zero")
        .WithDetail("tandem release never waits for a lock without a timeout")
        .WithHint("use a short lock_timeout such as 500ms and let release retry");
  }
  return Status::Ok();
}

// The lint gate (issue 4): pending pre-deploy migrations with error-level findings are
// refused before anything changes, unless each finding is allowed with a reason. Returns the
// refusal (ok when nothing blocks); `report_lint` receives the findings' text.
Status LintGate(const config::Config& config, const migrate::MigrationSet& files,
                const std::vector<const migrate::Migration*>& pending, lint::PgVersion server,
                const std::function<void(const std::string&)>& report_lint) {
  std::vector<std::string> versions;
  for (const auto* m : pending) versions.push_back(m->version);
  lint::GateOptions gate;
  gate.server_version = server;
  auto findings = lint::LintPendingPreDeploy(files, versions, config, gate);
  if (!findings.ok()) return findings.status();
  if (!findings->HasErrors()) return Status::Ok();
  if (report_lint) {
    report_lint(lint::RenderText(*findings, isatty(STDERR_FILENO) != 0, lint::FileSourceReader()));
  }
  return Status::Failed("pending pre-deploy migrations have " +
                        std::to_string(findings->Count(lint::Severity::kError)) +
                        " lint errors; nothing was applied")
      .WithHint(
          "follow each finding's recipe, move destructive steps to a post-deploy "
          "migration, or accept one with -- tandem:allow <rule-id> \"reason\"");
}

// The lint gate of a fleet release, run once per distinct question: every database of the
// fleet has the same migration files, so the same pending versions on the same server
// version get the same answer. Linting replays every migration into a schema model: CPU that
// grows with the migration directory, spent once per run instead of once per database (on a
// machine with few cores, the databases' servers need that CPU). Thread-safe: the first
// database to ask computes the answer while the others with the same question wait for it.
class SharedLintGate {
 public:
  explicit SharedLintGate(const config::Config& config) : config_(config) {}

  Status Check(const migrate::MigrationSet& files,
               const std::vector<const migrate::Migration*>& pending, lint::PgVersion server) {
    std::string key = std::to_string(server.major) + "." + std::to_string(server.minor);
    for (const auto* m : pending) key += "," + m->version;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = answers_.find(key);
    if (it != answers_.end()) return it->second;
    ++runs_;
    // Findings are the same on every database: the error says how many, and "tandem lint"
    // shows them; printing them per database would interleave.
    Status answer = LintGate(config_, files, pending, server, nullptr);
    answers_.emplace(key, answer);
    return answer;
  }

  int runs() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return runs_;
  }

 private:
  const config::Config& config_;
  mutable std::mutex mutex_;
  std::map<std::string, Status> answers_;
  int runs_ = 0;
};

// The options for one database's release, without its lint gate.
release::ReleaseOptions OptionsFor(const config::Config& config,
                                   const config::ReleaseSettings& settings,
                                   const ReleaseFlags& flags) {
  release::ReleaseOptions options;
  options.schema = config.schema;
  options.lock_wait = config.lock_wait;
  options.settings = settings;
  options.require_approval = config.worker.require_approval;
  options.plan = flags.plan;
  return options;
}

// --target: exactly a single-database release on each database of the fleet, each on its own
// connection with its own copy of the migrations (a release splits their sections in place).
int RunFleet(Context& context, const config::Config& config,
             const config::ReleaseSettings& settings, const ReleaseFlags& flags,
             const migrate::MigrationSet& files) {
  if (flags.verify) {
    return context.Fail(Status::InvalidInput("--verify does not take --target yet")
                            .WithHint("run \"tandem verify\" against one database of the fleet "
                                      "first, then release with --target"));
  }
  FleetCommand how;
  how.name = flags.plan ? "release --plan" : "release";
  // The blocker watches of all databases share a few connections (kFleetExtraConnections):
  // each connects only while its migration waits, so the rollout stays within concurrency
  // plus that constant whatever the fleet size.
  release::WatchSlots watch_slots(kFleetExtraConnections);
  SharedLintGate lint_gate(config);
  how.json_footer = [&watch_slots, &lint_gate](const std::vector<TargetOutput>&) -> nlohmann::json {
    return {{"peak_blocker_watch_connections", watch_slots.peak_in_use()},
            {"lint_gate_runs", lint_gate.runs()}};
  };
  return RunOnFleet(
      context, config, how,
      [&](const fleet::Target&, pg::Connection& connection, TargetOutput& output) -> Status {
        migrate::MigrationSet copy = files;
        auto options = OptionsFor(config, settings, flags);
        lint::PgVersion server = lint::ServerVersion(connection);
        options.lint_gate = [&lint_gate, &copy,
                             server](const std::vector<const migrate::Migration*>& pending) {
          return lint_gate.Check(copy, pending, server);
        };
        options.watch_slots = &watch_slots;
        release::ReleaseReport report = release::Release(connection, copy, options);
        output.json = release::ReleaseReportJson(report);
        int applied = 0, queued = 0;
        for (const auto& m : report.migrations) applied += m.action == "applied";
        for (const auto& q : report.queued) queued += q.action == "queued";
        if (report.nothing_to_do) {
          output.summary = "nothing to do";
        } else if (flags.plan) {
          output.summary = std::to_string(report.migrations.size()) + " would apply, " +
                           std::to_string(report.queued.size()) + " would queue";
        } else {
          output.summary =
              std::to_string(applied) + " applied, " + std::to_string(queued) + " queued";
        }
        return report.status;
      });
}

int Run(Context& context, const ReleaseFlags& flags) {
  auto config = context.LoadConfig();
  if (!config.ok()) return context.Fail(config.status());
  config::ReleaseSettings settings = config->release;
  if (Status s = ApplyFlags(flags, settings); !s.ok()) return context.Fail(s);
  auto files = context.LoadMigrations(*config);
  if (!files.ok()) return context.Fail(files.status());
  if (context.ForFleet()) return RunFleet(context, *config, settings, flags, *files);
  auto connection = context.Connect(*config);
  if (!connection.ok()) return context.Fail(connection.status());
  StopOnSignal stop_on_signal(**connection);

  release::ReleaseOptions options = OptionsFor(*config, settings, flags);
  const config::Config& cfg = *config;
  migrate::MigrationSet& set = *files;
  lint::PgVersion server = lint::ServerVersion(**connection);
  options.lint_gate = [&cfg, &set, server,
                       &context](const std::vector<const migrate::Migration*>& pending) {
    // On stderr in every format, so that --format json keeps stdout one document.
    return LintGate(cfg, set, pending, server,
                    [&context](const std::string& text) { context.err << text; });
  };
  // --verify (issue 5): prove the pending migrations on a shadow database first.
  if (flags.verify && !flags.plan) {
    auto shadow_files = context.LoadMigrations(*config);
    if (!shadow_files.ok()) return context.Fail(shadow_files.status());
    verify::VerifyOptions verify_options;
    verify_options.target_url = config->database_url;
    verify_options.state_schema = config->schema;
    verify_options.lint_rules = config->lint_rules;
    auto verified = verify::Verify(*shadow_files, verify_options);
    if (!verified.ok()) return context.Fail(verified.status());
    if (verified->HasErrors()) {
      context.err << verify::ReportToText(*verified);
      return context.Fail(
          Status::Failed("verify found errors on the shadow database; nothing was applied")
              .WithHint("run \"tandem verify\" for the full report"));
    }
  }
  release::ReleaseReport report = release::Release(**connection, *files, options);
  if (context.format() == Format::kJson) {
    nlohmann::json json = release::ReleaseReportJson(report);
    json["exit_code"] = ExitCodeFor(report.status);
    context.out << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return ExitCodeFor(report.status);
  }
  context.out << release::ReleaseReportText(report);
  context.out.flush();
  if (!report.status.ok()) return context.Fail(report.status);
  return 0;
}

}  // namespace

void RegisterRelease(CLI::App& app, Context& context, Runner& selected) {
  auto* cmd = app.add_subcommand(
      "release",
      "apply pending pre-deploy migrations with bounded locks and queue post-deploy ones");
  auto f = std::make_shared<ReleaseFlags>();
  cmd->add_flag("--verify", f->verify,
                "first run the pending migrations on a shadow database (tandem verify) and "
                "refuse on errors");
  cmd->add_flag("--plan", f->plan,
                "print what would run, in which phase, with which timeouts; change nothing");
  cmd->add_option("--lock-timeout", f->lock_timeout,
                  "longest wait for each lock before rolling back and retrying (default 500ms)");
  cmd->add_option("--statement-timeout", f->statement_timeout,
                  "longest run of one statement (default 15min)");
  cmd->add_option("--idle-in-transaction-timeout", f->idle_in_transaction_timeout,
                  "idle_in_transaction_session_timeout for the migration session (default 1min)");
  cmd->add_option("--retry-budget", f->retry_budget,
                  "how long to keep retrying a migration after lock timeouts (default 10min)");
  cmd->add_option("--backoff-initial", f->backoff_initial,
                  "first wait between retries, doubled each time, with jitter (default 200ms)");
  cmd->add_option("--backoff-max", f->backoff_max, "longest wait between retries (default 10s)");
  cmd->callback(
      [&context, &selected, f] { selected = [&context, f]() -> int { return Run(context, *f); }; });
}

}  // namespace tandem::cli
