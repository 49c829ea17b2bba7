#include "cli/fleet_command.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>

#include "base/interrupt.h"
#include "base/printable.h"
#include "base/status_json.h"

namespace tandem::cli {
namespace {

std::string Seconds(Duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1fs", static_cast<double>(d.count()) / 1000.0);
  return buffer;
}

// Failures first (what needs a person), then what never started, then the rest, each in the
// configured order.
int Rank(fleet::Outcome outcome) {
  switch (outcome) {
    case fleet::Outcome::kFailed:
    case fleet::Outcome::kUnreachable:
      return 0;
    case fleet::Outcome::kNotStarted:
    case fleet::Outcome::kRunning:
      return 1;
    case fleet::Outcome::kOk:
      return 2;
  }
  return 2;
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

// A progress line on a terminal's stderr, redrawn at most ten times a second.
class ProgressLine {
 public:
  explicit ProgressLine(std::ostream& err, bool enabled, std::string name)
      : err_(err), enabled_(enabled), name_(std::move(name)) {}
  ~ProgressLine() { Clear(); }
  void Clear() {
    if (enabled_ && drawn_) err_ << "\r\033[K" << std::flush;
    drawn_ = false;
  }
  void Update(const fleet::Progress& p) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100) && p.running > 0) return;
    last_ = now;
    drawn_ = true;
    err_ << "\r\033[K" << name_ << ": " << p.done << " done, " << p.running << " running, "
         << p.failed << " failed, " << p.queued << " queued, " << Seconds(p.elapsed) << std::flush;
  }

 private:
  std::ostream& err_;
  bool enabled_;
  std::string name_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace

std::string FleetReportText(const FleetCommand& how, const fleet::RolloutReport& report,
                            const std::vector<TargetOutput>& outputs) {
  using fleet::Outcome;
  std::ostringstream out;
  int failed = report.Count(Outcome::kFailed), unreachable = report.Count(Outcome::kUnreachable),
      not_started = report.Count(Outcome::kNotStarted), ok = report.Count(Outcome::kOk);
  out << how.name << " on " << report.results.size() << " database"
      << (report.results.size() == 1 ? "" : "s") << ": " << ok << " ok";
  if (failed) out << ", " << failed << " failed";
  if (unreachable) out << ", " << unreachable << " unreachable";
  if (not_started) out << ", " << not_started << " not started";
  out << " (" << Seconds(report.duration) << ")\n";
  if (report.canary_failed) {
    out << "the canary group failed: no other database was started\n";
  } else if (report.stopped && not_started > 0) {
    out << "stopped after " << (failed + unreachable) << " failure"
        << (failed + unreachable == 1 ? "" : "s")
        << ": databases not started were left as they are\n";
  }
  size_t width = 4;
  for (const auto& r : report.results) width = std::max(width, r.name.size());
  std::vector<size_t> order(report.results.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return Rank(report.results[a].outcome) < Rank(report.results[b].outcome);
  });
  for (size_t i : order) {
    const fleet::TargetResult& r = report.results[i];
    std::string outcome(fleet::OutcomeName(r.outcome));
    out << "  " << outcome << std::string(12 - std::min<size_t>(12, outcome.size()), ' ') << r.name
        << std::string(width + 2 - r.name.size(), ' ');
    if (!r.error.ok()) {
      // Messages are built from redacted URLs; Printable for any control characters.
      out << Printable(FirstLine(r.error.message()));
      if (!r.error.detail().empty()) out << ": " << Printable(FirstLine(r.error.detail()));
    } else if (i < outputs.size()) {
      out << Printable(outputs[i].summary);
    }
    out << "\n";
  }
  if (how.text_footer) out << how.text_footer(outputs);
  return out.str();
}

nlohmann::json FleetReportJson(const FleetCommand& how, const fleet::RolloutReport& report,
                               const std::vector<TargetOutput>& outputs) {
  using fleet::Outcome;
  nlohmann::json targets = nlohmann::json::array();
  for (size_t i = 0; i < report.results.size(); ++i) {
    const fleet::TargetResult& r = report.results[i];
    nlohmann::json entry = i < outputs.size() ? outputs[i].json : nlohmann::json::object();
    entry["target"] = r.name;
    entry["outcome"] = fleet::OutcomeName(r.outcome);
    entry["canary"] = r.canary;
    entry["duration_ms"] = r.duration.count();
    if (!r.error.ok()) entry["error"] = StatusToJson(r.error);
    targets.push_back(std::move(entry));
  }
  nlohmann::json json = {
      {"command", how.name},
      {"targets", targets},
      {"summary",
       {{"total", report.results.size()},
        {"ok", report.Count(Outcome::kOk)},
        {"failed", report.Count(Outcome::kFailed)},
        {"unreachable", report.Count(Outcome::kUnreachable)},
        {"not_started", report.Count(Outcome::kNotStarted)}}},
      {"canary_failed", report.canary_failed},
      {"stopped", report.stopped},
      {"duration_ms", report.duration.count()},
      {"peak_running", report.peak_running},
  };
  if (how.json_footer) json["fleet"] = how.json_footer(outputs);
  return json;
}

std::string CountedActions(const std::vector<std::string>& actions) {
  std::vector<std::pair<std::string, int>> counts;
  for (const auto& a : actions) {
    auto it =
        std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == a; });
    if (it == counts.end()) {
      counts.emplace_back(a, 1);
    } else {
      ++it->second;
    }
  }
  std::string out;
  for (const auto& [action, n] : counts) {
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + action;
  }
  return out;
}

Result<std::unique_ptr<pg::Connection>> ConnectSingleTarget(Context& context,
                                                            const config::Config& config,
                                                            const std::string& what) {
  TANDEM_ASSIGN_OR_RETURN(auto all, fleet::ListTargets(config));
  TANDEM_ASSIGN_OR_RETURN(auto targets, fleet::SelectTargets(all, context.flags.target));
  if (targets.size() != 1) {
    return Status::InvalidInput(what + " belongs to one database: --target \"" +
                                context.flags.target + "\" names " +
                                std::to_string(targets.size()) + " databases")
        .WithDetail(
            "each database of the fleet numbers its own; the same number on another "
            "database is another thing")
        .WithHint("choose one database with --target NAME");
  }
  return fleet::ConnectTarget(targets[0], config);
}

int RunOnFleet(Context& context, const config::Config& config, const FleetCommand& how,
               const TargetCommand& command) {
  auto all = fleet::ListTargets(config);
  if (!all.ok()) return context.Fail(all.status());
  auto targets = fleet::SelectTargets(*all, context.flags.target);
  if (!targets.ok()) return context.Fail(targets.status());
  fleet::RolloutOptions options;
  options.concurrency = context.flags.concurrency.value_or(config.fleet.concurrency);
  options.max_failures = context.flags.max_failures.value_or(config.fleet.max_failures);
  if (options.concurrency < 1 || options.max_failures < 1) {
    return context.Fail(
        Status::InvalidInput("--concurrency and --max-failures must be at least 1"));
  }
  options.canary_group = config.fleet.canary;
  if (how.read_only) {
    options.max_failures = 0;
    options.canary_group.clear();
  }
  bool progress_enabled = context.format() == Format::kText && isatty(STDERR_FILENO) != 0;
  ProgressLine progress(context.err, progress_enabled, how.name);
  options.on_progress = [&progress](const fleet::Progress& p) { progress.Update(p); };

  // Outputs by target index; each slot is written by the one thread running that target.
  std::vector<TargetOutput> outputs(targets->size());
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < targets->size(); ++i) index[(*targets)[i].name] = i;

  // A signal stops new databases from starting and cancels the statements running on the
  // others, which then record what happened as a single-database run does.
  interrupt::Graceful graceful;
  fleet::Operation operation = [&](const fleet::Target& target) -> Status {
    TANDEM_ASSIGN_OR_RETURN(auto connection, fleet::ConnectTarget(target, config));
    interrupt::CancelHook cancel([&connection] { connection->RequestCancel(); });
    TargetOutput& output = outputs[index.at(target.name)];
    output.target = target.name;
    return command(target, *connection, output);
  };
  fleet::RolloutReport report = fleet::Rollout(*targets, operation, options);
  progress.Clear();
  int exit_code = report.AllOk() ? 0 : 1;
  if (interrupt::Requested()) exit_code = 128 + interrupt::Signal();
  if (context.format() == Format::kJson) {
    nlohmann::json json = FleetReportJson(how, report, outputs);
    json["exit_code"] = exit_code;
    context.out << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    context.out << FleetReportText(how, report, outputs);
  }
  context.out.flush();
  return exit_code;
}

}  // namespace tandem::cli
