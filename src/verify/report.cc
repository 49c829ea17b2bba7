// Rendering a VerifyReport: JSON for machines (the shape issue 5 specifies), text for people.
#include "verify/report.h"

#include <fmt/format.h>

#include <sstream>

namespace tandem::verify {

bool VerifyReport::HasErrors() const {
  if (!compat.empty() || !new_app.empty()) return true;
  for (const auto& m : migrations) {
    if (!m.succeeded) return true;
  }
  for (const auto& f : findings) {
    if (f.severity == Severity::kError) return true;
  }
  return false;
}

namespace {

using nlohmann::json;

double Round(double ms) {
  return static_cast<double>(static_cast<long long>(ms * 100 + 0.5)) / 100;
}

json StatementJson(const StatementTrace& st) {
  json locks = json::array();
  for (const auto& lock : st.locks) {
    locks.push_back({{"relation", lock.relation},
                     {"mode", std::string(LockModeSql(lock.mode))},
                     {"pg_mode", std::string(LockModeName(lock.mode))},
                     {"blocks", BlockedList(lock.mode)}});
  }
  json out = {{"index", st.index},
              {"file", st.file},
              {"line", st.line},
              {"column", st.column},
              {"sql", st.sql},
              {"in_transaction", st.in_transaction},
              {"locks", locks},
              {"rewrites", st.rewrites},
              {"scans", st.scans},
              {"created", st.created},
              {"dropped", st.dropped},
              {"duration_ms", Round(st.duration_ms)},
              {"held_until_commit_ms", Round(st.held_until_commit_ms)},
              {"trace_overhead_ms", Round(st.overhead_ms)}};
  if (st.error) {
    out["error"] = {{"message", st.error->message()}, {"sqlstate", st.error->sqlstate()}};
    if (!st.error->detail().empty()) out["error"]["detail"] = st.error->detail();
  }
  return out;
}

json FindingJson(const Finding& f) {
  json out = {{"rule", f.rule},       {"severity", std::string(SeverityName(f.severity))},
              {"version", f.version}, {"verdict", f.verdict},
              {"file", f.file},       {"line", f.line},
              {"message", f.message}};
  if (f.statement_index >= 0) out["statement_index"] = f.statement_index;
  if (!f.detail.empty()) out["detail"] = f.detail;
  if (!f.hint.empty()) out["hint"] = f.hint;
  return out;
}

std::string LockList(const StatementTrace& st) {
  std::string out;
  for (const auto& lock : st.locks) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{} {}", lock.relation, LockModeSql(lock.mode));
  }
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string OneLine(const std::string& sql, size_t max = 90) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    bool ws = c == '\n' || c == '\t' || c == '\r' || c == ' ';
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

}  // namespace

json ReportToJson(const VerifyReport& report) {
  json migrations = json::array();
  for (const auto& m : report.migrations) {
    json statements = json::array();
    for (const auto& st : m.statements) statements.push_back(StatementJson(st));
    migrations.push_back({{"version", m.version},
                          {"name", m.name},
                          {"transactional", m.transactional},
                          {"succeeded", m.succeeded},
                          {"duration_ms", Round(m.duration_ms)},
                          {"statements", statements}});
  }
  json findings = json::array();
  for (const auto& f : report.findings) findings.push_back(FindingJson(f));
  json compat = json::array();
  for (const auto& c : report.compat) {
    compat.push_back({{"query", c.query},
                      {"query_source", c.query_source},
                      {"error", c.error},
                      {"sqlstate", c.sqlstate},
                      {"version", c.version},
                      {"file", c.file},
                      {"line", c.line},
                      {"statement", c.statement}});
  }
  json out = {{"shadow", report.shadow},
              {"baseline", report.baseline},
              {"warnings", report.warnings},
              {"migrations", migrations},
              {"findings", findings},
              {"compat", compat},
              {"compat_summary",
               {{"queries", report.compat_summary.queries},
                {"checked", report.compat_summary.checked},
                {"skipped", report.compat_summary.skipped},
                {"skipped_reasons", report.compat_summary.skipped_reasons}}},
              {"shadow_setup_ms", Round(report.shadow_setup_ms)},
              {"total_ms", Round(report.total_ms)},
              {"ok", !report.HasErrors()}};
  if (report.new_app_checked) {
    json failures = json::array();
    for (const auto& f : report.new_app) {
      failures.push_back({{"query", f.query},
                          {"query_source", f.source},
                          {"error", f.error},
                          {"sqlstate", f.sqlstate}});
    }
    const NewAppSummary& n = report.new_app_summary;
    out["new_app_compat"] = failures;
    out["new_app_summary"] = {
        {"queries", n.queries},
        {"checked", n.checked},
        {"skipped", n.skipped},
        {"skipped_reasons", n.skipped_reasons},
        {"search_path", n.search_path.empty() ? json(nullptr) : json(n.search_path)}};
  }
  return out;
}

std::string ReportToText(const VerifyReport& report) {
  std::ostringstream out;
  out << "shadow: " << report.shadow << "\n";
  out << "baseline: " << report.baseline << "\n";
  for (const auto& w : report.warnings) out << "warning: " << w << "\n";
  if (report.migrations.empty()) out << "nothing to verify: no pending migrations\n";
  for (const auto& m : report.migrations) {
    out << fmt::format("\n{} {} ({}{:.1f} ms){}\n", m.version, m.name,
                       m.transactional ? "" : "transaction off, ", m.duration_ms,
                       m.succeeded ? "" : "  FAILED");
    for (const auto& st : m.statements) {
      out << fmt::format("  {}:{}  {}  ({:.1f} ms)\n", st.file, st.line, OneLine(st.sql),
                         st.duration_ms);
      if (!st.locks.empty()) out << "      locks: " << LockList(st) << "\n";
      if (!st.rewrites.empty()) out << "      rewrites: " << Join(st.rewrites) << "\n";
      if (!st.scans.empty()) out << "      scans: " << Join(st.scans) << "\n";
      if (!st.created.empty()) out << "      creates: " << Join(st.created) << "\n";
      if (!st.dropped.empty()) out << "      drops: " << Join(st.dropped) << "\n";
      if (st.error) out << "      error: " << st.error->ToString() << "\n";
    }
  }
  if (!report.findings.empty()) out << "\nfindings:\n";
  for (const auto& f : report.findings) {
    out << fmt::format("  {}:{}: {}: {} [{}{}]\n", f.file, f.line, SeverityName(f.severity),
                       f.message, f.rule, f.verdict == "observed" ? "" : ", " + f.verdict);
    if (!f.detail.empty()) out << "    DETAIL: " << f.detail << "\n";
    if (!f.hint.empty()) out << "    HINT: " << f.hint << "\n";
  }
  if (report.compat_summary.queries > 0) {
    out << fmt::format("\nold-app compatibility: {} queries, {} checked, {} skipped\n",
                       report.compat_summary.queries, report.compat_summary.checked,
                       report.compat_summary.skipped);
  }
  for (const auto& c : report.compat) {
    out << fmt::format("  {}:{}: error: breaks an old-app query: {}\n", c.file, c.line,
                       OneLine(c.query));
    out << "    DETAIL: " << c.error << (c.sqlstate.empty() ? "" : " (SQLSTATE " + c.sqlstate + ")")
        << "\n";
    out << "    statement: " << OneLine(c.statement) << "\n";
    if (!c.query_source.empty()) out << "    query: " << c.query_source << "\n";
  }
  if (report.new_app_checked) {
    const NewAppSummary& n = report.new_app_summary;
    out << fmt::format(
        "\nnew-app compatibility: {} queries, {} checked, {} skipped (search_path: {})\n",
        n.queries, n.checked, n.skipped, n.search_path.empty() ? "the default" : n.search_path);
  }
  for (const auto& f : report.new_app) {
    out << fmt::format("  {}: error: new-app query fails after the migrations: {}\n", f.source,
                       OneLine(f.query));
    out << "    DETAIL: " << f.error << (f.sqlstate.empty() ? "" : " (SQLSTATE " + f.sqlstate + ")")
        << "\n";
  }
  out << fmt::format("\n{}: {} migration(s) verified in {:.0f} ms (shadow setup {:.0f} ms)\n",
                     report.HasErrors() ? "FAILED" : "ok", report.migrations.size(),
                     report.total_ms, report.shadow_setup_ms);
  return out.str();
}

}  // namespace tandem::verify
