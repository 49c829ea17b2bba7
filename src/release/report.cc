// Text and JSON forms of a release report (see report.h).
#include "release/report.h"

#include <map>
#include <sstream>

#include "base/printable.h"
#include "base/status_json.h"

namespace tandem::release {
namespace {

nlohmann::json LimitsJson(const ReleaseItem& item) {
  auto ms = [](const std::optional<Duration>& d) -> nlohmann::json {
    return d ? nlohmann::json(d->count()) : nlohmann::json(nullptr);
  };
  return {{"lock_timeout_ms", ms(item.limits.lock_timeout)},
          {"statement_timeout_ms", ms(item.limits.statement_timeout)},
          {"idle_in_transaction_session_timeout_ms", ms(item.limits.idle_in_transaction_timeout)},
          {"retry_budget_ms", item.retry_budget.count()}};
}

nlohmann::json BlockerJson(const Blocker& b) {
  return {{"pid", b.pid},
          {"application_name", b.application_name},
          {"state", b.state},
          {"transaction_age_ms", b.transaction_age.count()},
          {"query", b.query}};
}

nlohmann::json ItemJson(const ReleaseItem& item, bool applied_phase) {
  nlohmann::json j = {{"version", item.version},
                      {"name", item.name},
                      {"phase", std::string(migrate::PhaseName(item.phase))},
                      {"file", item.file},
                      {"action", item.action},
                      {"transactional", item.transactional},
                      {"statements_total", item.statements_total}};
  if (!applied_phase) return j;
  j["limits"] = LimitsJson(item);
  j["out_of_order"] = item.out_of_order;
  if (item.action != "applied" && item.action != "failed" && item.action != "interrupted") return j;
  j["duration_ms"] = item.duration.count();
  j["statements_done"] = item.statements_done;
  if (item.resumed) j["resumed_at_statement"] = item.resumed_at + 1;
  j["lock_timeouts"] = item.lock_timeouts;
  j["lock_wait_lost_ms"] = item.lock_wait_lost.count();
  j["retries"] = item.attempts.empty() ? 0 : static_cast<int>(item.attempts.size()) - 1;
  j["budget_spent"] = item.budget_spent;
  nlohmann::json attempts = nlohmann::json::array();
  for (const Attempt& a : item.attempts) {
    nlohmann::json aj = {{"attempt", a.number},
                         {"result", a.result},
                         {"started_ms", a.started.count()},
                         {"duration_ms", a.duration.count()},
                         {"backoff_ms", a.backoff.count()}};
    if (a.statement_index >= 0) aj["statement"] = a.statement_index + 1;
    if (a.line > 0) aj["line"] = a.line;
    if (!a.error.ok()) aj["error"] = StatusToJson(a.error);
    if (a.waited_for) {
      aj["waited_for"] = {{"locktype", a.waited_for->locktype},
                          {"object", a.waited_for->object},
                          {"mode", a.waited_for->mode}};
    }
    nlohmann::json blockers = nlohmann::json::array();
    for (const Blocker& b : a.blockers) blockers.push_back(BlockerJson(b));
    aj["blockers"] = blockers;
    attempts.push_back(std::move(aj));
  }
  j["attempts"] = attempts;
  if (!item.cleanup_commands.empty()) j["cleanup_commands"] = item.cleanup_commands;
  if (!item.error.ok()) j["error"] = StatusToJson(item.error);
  return j;
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string Limits(const ReleaseItem& item) {
  auto show = [](const std::optional<Duration>& d) { return d ? FormatDuration(*d) : "-"; };
  return "lock_timeout " + show(item.limits.lock_timeout) + ", statement_timeout " +
         show(item.limits.statement_timeout) + ", idle_in_transaction_session_timeout " +
         show(item.limits.idle_in_transaction_timeout) + ", retry budget " +
         FormatDuration(item.retry_budget);
}

std::string Shape(const ReleaseItem& item) {
  std::string s = item.transactional ? "in a transaction" : "transaction off";
  s += ", " + std::to_string(item.statements_total) + " statement" +
       (item.statements_total == 1 ? "" : "s");
  return s;
}

// Blockers across attempts, latest sample per pid, for the text form.
std::vector<Blocker> Blockers(const ReleaseItem& item) {
  std::map<int, Blocker> by_pid;
  for (const Attempt& a : item.attempts)
    for (const Blocker& b : a.blockers) by_pid[b.pid] = b;
  std::vector<Blocker> out;
  for (auto& [pid, b] : by_pid) out.push_back(b);
  return out;
}

}  // namespace

nlohmann::json ReleaseReportJson(const ReleaseReport& report) {
  nlohmann::json migrations = nlohmann::json::array();
  for (const auto& item : report.migrations) migrations.push_back(ItemJson(item, true));
  nlohmann::json queued = nlohmann::json::array();
  for (const auto& item : report.queued) queued.push_back(ItemJson(item, false));
  nlohmann::json j = {{"database", report.database},
                      {"plan", report.plan},
                      {"ok", report.status.ok()},
                      {"nothing_to_do", report.nothing_to_do},
                      {"duration_ms", report.duration.count()},
                      {"migrations", migrations},
                      {"queued", queued},
                      {"approval_required", report.approval_required},
                      {"warnings", report.warnings}};
  if (!report.status.ok()) j["error"] = StatusToJson(report.status);
  return j;
}

std::string ReleaseReportText(const ReleaseReport& report) {
  std::ostringstream out;
  for (const auto& w : report.warnings) out << "warning: " << w << "\n";
  if (report.nothing_to_do)
    out << "nothing to do: every pre-deploy migration is applied and nothing new is queued\n";
  size_t width = 0;
  for (const auto* list : {&report.migrations, &report.queued})
    for (const auto& item : *list) width = std::max(width, item.version.size() + item.name.size());
  width = std::min<size_t>(width + 1, 60);
  if (report.plan && !report.nothing_to_do) {
    out << "plan for " << report.database << " (nothing is changed)\n";
    if (report.migrations.empty()) out << "no pre-deploy migration to apply\n";
    for (const auto& item : report.migrations) {
      out << "would apply  " << Pad(item.version + " " + Printable(item.name), width)
          << " pre-deploy, " << Shape(item) << "\n             " << Limits(item) << "\n";
    }
  } else {
    for (const auto& item : report.migrations) {
      out << Pad(item.action, 9) << Pad(item.version + " " + Printable(item.name), width);
      if (item.action == "not-run") {
        out << "not run: an earlier migration failed\n";
        continue;
      }
      out << FormatDuration(item.duration);
      if (item.resumed) out << ", resumed at statement " << item.resumed_at + 1;
      int retries = item.attempts.empty() ? 0 : static_cast<int>(item.attempts.size()) - 1;
      if (item.lock_timeouts == 0) {
        out << ", no lock waits";
      } else {
        out << ", " << item.lock_timeouts << " lock timeout" << (item.lock_timeouts == 1 ? "" : "s")
            << " (" << FormatDuration(item.lock_wait_lost) << " waiting, lock_timeout "
            << FormatDuration(item.limits.lock_timeout.value_or(Duration(0))) << ")";
      }
      out << ", " << retries << " retr" << (retries == 1 ? "y" : "ies") << "\n";
      for (const Blocker& b : Blockers(item))
        out << "    blocked by " << DescribeBlocker(b) << "\n";
      for (const auto& c : item.cleanup_commands) out << "    clean up with: " << c << "\n";
    }
  }
  std::vector<const ReleaseItem*> queued, already;
  for (const auto& item : report.queued) {
    if (item.action == "already-queued") {
      already.push_back(&item);
    } else {
      queued.push_back(&item);
    }
  }
  if (!queued.empty()) {
    const std::string& action = queued.front()->action;
    out << (action == "would-queue"  ? "would queue for the worker:\n"
            : action == "not-queued" ? "not queued for the worker (the release failed):\n"
                                     : "queued for the worker:\n");
    for (const auto* item : queued) {
      out << "  " << Pad(std::string(migrate::PhaseName(item->phase)), 12) << item->version << " "
          << Printable(item->name) << "\n";
    }
    if (action == "queued") {
      out << (report.approval_required
                  ? "each waits for approval ([worker] require_approval): once the new code is "
                    "live everywhere, run \"tandem jobs approve --all\"\n"
                  : "\"tandem worker\" runs them; follow with \"tandem jobs list\"\n");
    }
  } else if (!report.plan && report.status.ok() && !report.nothing_to_do) {
    out << "nothing new queued for the worker\n";
  }
  if (!already.empty()) {
    out << "still pending in the worker (queued earlier):\n";
    for (const auto* item : already) {
      out << "  " << Pad(std::string(migrate::PhaseName(item->phase)), 12) << item->version << " "
          << Printable(item->name) << "\n";
    }
  }
  return out.str();
}

}  // namespace tandem::release
