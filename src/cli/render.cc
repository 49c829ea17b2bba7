#include "cli/render.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "base/duration.h"
#include "base/json_text.h"
#include "base/printable.h"
#include "base/status_json.h"

namespace tandem::cli {
namespace {

std::string Paint(const std::string& text, const char* code, bool color) {
  if (!color) return text;
  return std::string("\033[") + code + "m" + text + "\033[0m";
}

const char* StateColor(migrate::MigrationState state) {
  switch (state) {
    case migrate::MigrationState::kApplied:
      return "32";
    case migrate::MigrationState::kPending:
    case migrate::MigrationState::kRunning:
      return "33";
    default:
      return "31";
  }
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

}  // namespace

bool UseColor() {
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(STDOUT_FILENO) && !(no_color && *no_color);
}

namespace {

// A small writer for the flat JSON objects of `status`: written directly because building
// and dumping an nlohmann tree for 10,000 migrations took longer than reading them.
class ObjectWriter {
 public:
  ObjectWriter(std::string& out, const char* indent) : out_(out), indent_(indent) {}
  void String(const char* key, const std::string& value) {
    Key(key);
    AppendJsonString(out_, value);
  }
  void Number(const char* key, long long value) {
    Key(key);
    out_ += std::to_string(value);
  }
  void Bool(const char* key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
  }
  // Starts a nested object value; the caller writes its members with another ObjectWriter.
  void Key(const char* key) {
    out_ += first_ ? "\n" : ",\n";
    first_ = false;
    out_ += indent_;
    AppendJsonString(out_, key);
    out_ += ": ";
  }

 private:
  std::string& out_;
  const char* indent_;
  bool first_ = true;
};

}  // namespace

std::string StatusJsonText(const std::vector<migrate::StatusEntry>& entries,
                           const std::string& database, const std::string& directory,
                           const std::string& layout) {
  std::string out;
  out.reserve(512 + entries.size() * 512);
  std::map<std::string, int> summary = {
      {"applied", 0}, {"pending", 0}, {"failed", 0}, {"drifted", 0}, {"missing-file", 0}};
  out += "{";
  ObjectWriter top(out, "  ");
  top.String("database", database);
  top.String("directory", directory);
  top.String("layout", layout);
  top.Key("migrations");
  out += "[";
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    std::string state(migrate::StateName(e.state));
    summary[state]++;
    out += i == 0 ? "\n    {" : ",\n    {";
    ObjectWriter item(out, "      ");
    item.String("version", e.version);
    item.String("name", e.name);
    item.String("phase", std::string(migrate::PhaseName(e.phase)));
    item.String("status", state);
    item.Bool("out_of_order", e.out_of_order);
    item.Bool("down_changed", e.down_changed);
    if (e.job_id) {
      item.Number("job", e.job_id);
      item.String("job_status", e.job_status);
    }
    if (!e.online_state.empty()) item.String("online_state", e.online_state);
    if (e.migration) {
      item.String("file", e.migration->paths.empty() ? "" : e.migration->paths.front());
      item.String("checksum", e.migration->checksum);
      item.Bool("transactional", e.migration->transactional);
    }
    if (e.row) {
      const auto& r = *e.row;
      item.String("recorded_status", r.status);
      item.Number("attempts", r.attempts);
      if (!r.finished_at.empty()) item.String("finished_at", r.finished_at);
      if (r.duration_ms) item.Number("duration_ms", *r.duration_ms);
      item.Number("statements_done", r.statements_done);
      item.Number("statements_total", r.statements_total);
      if (!r.applied_by.empty()) item.String("applied_by", r.applied_by);
      if (!r.adopted_from.empty()) item.String("adopted_from", r.adopted_from);
      if (e.state == migrate::MigrationState::kDrifted)
        item.String("recorded_checksum", r.checksum);
      if (!r.error_message.empty() && e.state == migrate::MigrationState::kFailed) {
        item.Key("error");
        out += "{";
        ObjectWriter error(out, "        ");
        error.String("message", r.error_message);
        error.String("sqlstate", r.error_sqlstate);
        error.String("statement", r.error_statement);
        error.String("file", r.error_file);
        error.Number("line", r.error_line);
        error.Number("column", r.error_column);
        out += "\n      }";
      }
    }
    out += "\n    }";
  }
  out += entries.empty() ? "]" : "\n  ]";
  top.Key("summary");
  out += "{";
  ObjectWriter counts(out, "    ");
  for (const char* s : {"applied", "pending", "failed", "drifted", "missing-file"})
    counts.Number(s, summary[s]);
  out += "\n  }\n}\n";
  return out;
}

std::string StatusText(const std::vector<migrate::StatusEntry>& entries, bool color) {
  std::ostringstream out;
  if (entries.empty()) {
    out << "no migrations yet: create one with \"tandem new NAME\"\n";
    return out.str();
  }
  // Column widths from the data, so that 18- and 20-digit versions stay aligned; names are
  // cut at 40 characters (with "~"), which keeps the table readable beside long ones. Names
  // come from file names: escaped (Printable) so that a newline cannot break the table.
  constexpr size_t kMaxName = 40;
  size_t version_width = 7, name_width = 4;
  for (const auto& e : entries) {
    version_width = std::max(version_width, e.version.size());
    name_width = std::max(name_width, std::min(Printable(e.name).size(), kMaxName));
  }
  out << Pad("VERSION", version_width + 2) << Pad("NAME", name_width + 2) << Pad("PHASE", 13)
      << "STATUS\n";
  std::map<std::string, int> counts;
  for (const auto& e : entries) {
    std::string state(migrate::StateName(e.state));
    counts[state]++;
    std::string name = Printable(e.name);
    if (name.size() > kMaxName) name = name.substr(0, kMaxName - 1) + "~";
    out << Pad(Printable(e.version), version_width + 2) << Pad(name, name_width + 2)
        << Pad(std::string(migrate::PhaseName(e.phase)), 13)
        << Paint(state, StateColor(e.state), color);
    if (e.out_of_order) out << " (out of order)";
    if (e.down_changed) out << " (down section changed)";
    if (!e.online_state.empty()) {
      out << " (online: " << Printable(e.online_state) << ")";
    } else if (e.job_id && e.state != migrate::MigrationState::kApplied) {
      out << " (job " << e.job_id << ": " << e.job_status << ")";
    }
    if (e.row && e.state == migrate::MigrationState::kApplied && !e.row->finished_at.empty()) {
      out << "  " << e.row->finished_at.substr(0, 19);
      if (e.row->duration_ms) out << "  " << FormatDuration(Duration(*e.row->duration_ms));
    }
    if (e.row && e.state == migrate::MigrationState::kFailed) {
      const auto& r = *e.row;
      out << "  after " << r.statements_done << "/" << r.statements_total << " statements";
      if (!r.error_message.empty()) {
        out << "\n    " << Printable(r.error_file) << ":" << r.error_line << ": "
            << Printable(r.error_message);
        if (!r.error_sqlstate.empty()) out << " (SQLSTATE " << r.error_sqlstate << ")";
      } else if (r.status == "running") {
        out << "\n    interrupted: the runner stopped mid-way; the next run resumes";
      }
    }
    out << "\n";
  }
  out << "\n";
  bool first = true;
  for (const char* s : {"applied", "running", "pending", "failed", "drifted", "missing-file"}) {
    if (!counts[s]) continue;
    out << (first ? "" : ", ") << counts[s] << " " << s;
    first = false;
  }
  out << "\n";
  return out.str();
}

nlohmann::json RunReportJson(const migrate::RunReport& report) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& run : report.runs) {
    nlohmann::json item = {{"version", run.version},
                           {"name", run.name},
                           {"phase", std::string(migrate::PhaseName(run.phase))},
                           {"action", run.action},
                           {"out_of_order", run.out_of_order}};
    if (!run.statements.empty()) item["statements"] = run.statements;
    if (run.action == "applied" || run.action == "failed" || run.action == "reverted") {
      const auto& o = run.outcome;
      item["duration_ms"] = o.duration.count();
      item["statements_done"] = o.statements_done;
      item["statements_total"] = o.statements_total;
      if (o.resumed) item["resumed_at_statement"] = o.resumed_at + 1;
      if (!o.notices.empty()) item["notices"] = o.notices;
      if (!o.cleanup_commands.empty()) item["cleanup_commands"] = o.cleanup_commands;
      if (!o.succeeded) item["error"] = StatusToJson(o.error);
    }
    runs.push_back(std::move(item));
  }
  nlohmann::json j = {
      {"migrations", runs}, {"warnings", report.warnings}, {"ok", report.status.ok()}};
  if (!report.status.ok()) j["error"] = StatusToJson(report.status);
  return j;
}

std::string RunReportText(const migrate::RunReport& report, bool color) {
  std::ostringstream out;
  for (const auto& w : report.warnings) out << Paint("warning: ", "33", color) << w << "\n";
  if (report.nothing_to_do) {
    out << "nothing to do: the database is up to date\n";
    return out.str();
  }
  for (const auto& run : report.runs) {
    std::string label = Printable(run.version + " " + run.name);
    if (run.action == "would-apply" || run.action == "would-revert") {
      out << run.action << " " << label << " (" << migrate::PhaseName(run.phase) << ")\n";
      for (const auto& s : run.statements) {
        std::string indented = "    ";
        for (char c : s) indented += c == '\n' ? std::string("\n    ") : std::string(1, c);
        out << indented << ";\n";
      }
      continue;
    }
    const auto& o = run.outcome;
    const char* paint = run.action == "failed" ? "31" : "32";
    out << Paint(run.action, paint, color) << " " << label << " (" << migrate::PhaseName(run.phase);
    if (o.statements_total != 1) out << ", " << o.statements_total << " statements";
    if (o.resumed) out << ", resumed at statement " << o.resumed_at + 1;
    if (run.out_of_order) out << ", out of order";
    out << ") in " << FormatDuration(o.duration) << "\n";
    for (const auto& n : o.notices) out << "    " << n << "\n";
    for (const auto& c : o.cleanup_commands) out << "    clean up with: " << c << "\n";
  }
  return out.str();
}

}  // namespace tandem::cli
