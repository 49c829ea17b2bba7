// The machine reporters: json (tandem's own shape), SARIF 2.1.0, GitHub workflow annotations
// and GitLab's code quality report.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "base/json_text.h"
#include "base/parallel_for.h"
#include "base/sha256.h"
#include "lint/report.h"
#include "lint/rule.h"

namespace tandem::lint {
namespace {

using Json = nlohmann::ordered_json;

std::string SarifLevel(Severity s) {
  return s == Severity::kError ? "error" : s == Severity::kWarning ? "warning" : "note";
}

// GitHub's workflow command escaping: data escapes %, CR, LF; properties also : and ,.
std::string GithubEscape(const std::string& s, bool property) {
  std::string out;
  for (char c : s) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else if (property && c == ':')
      out += "%3A";
    else if (property && c == ',')
      out += "%2C";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::optional<ReportFormat> ParseReportFormat(std::string_view name) {
  if (name == "text") return ReportFormat::kText;
  if (name == "json") return ReportFormat::kJson;
  if (name == "sarif") return ReportFormat::kSarif;
  if (name == "github") return ReportFormat::kGithub;
  if (name == "gitlab") return ReportFormat::kGitlab;
  return std::nullopt;
}

namespace {

// One `"key": value` line of the json reporter's dump(2) layout.
void JsonField(std::string& out, const char* indent, const char* key, const std::string& value,
               bool last) {
  out += indent;
  AppendJsonString(out, key);
  out += ": ";
  AppendJsonString(out, value);
  out += last ? "\n" : ",\n";
}

void JsonNumber(std::string& out, const char* indent, const char* key, long long value, bool last) {
  out += indent;
  AppendJsonString(out, key);
  out += ": " + std::to_string(value) + (last ? "\n" : ",\n");
}

std::vector<std::string> RenderJsonParts(const LintReport& report) {
  // Written directly rather than through a JSON tree: on a whole corpus (4 MB of findings)
  // the tree cost a quarter of lint's run time. The layout is nlohmann's dump(2), which the
  // golden tests pin. Findings are rendered in chunks on all cores: each one's text depends on
  // nothing but itself and whether it is the first.
  constexpr size_t kChunk = 256;
  const size_t n = report.findings.size();
  std::vector<std::string> parts((n + kChunk - 1) / kChunk + 2);
  parts.front() = "{\n  \"findings\": [";
  ParallelFor(parts.size() - 2, 0, [&](size_t chunk) {
    std::string& out = parts[chunk + 1];
    size_t begin = chunk * kChunk, end = std::min(n, begin + kChunk);
    out.reserve((end - begin) * 1536);
    const char* kIn = "      ";
    auto field = [&](const char* key, const std::string& value, bool last = false) {
      JsonField(out, kIn, key, value, last);
    };
    auto number = [&](const char* key, long long value) {
      JsonNumber(out, kIn, key, value, false);
    };
    for (size_t i = begin; i < end; ++i) {
      const Finding& f = report.findings[i];
      out += i == 0 ? "\n    {\n" : ",\n    {\n";
      field("rule", f.rule);
      field("severity", std::string(SeverityName(f.severity)));
      field("file", f.file);
      number("line", f.line);
      number("column", f.column);
      field("message", f.message);
      field("why", f.why);
      field("lock", f.lock);
      field("blocks", f.blocks);
      field("recipe", f.recipe);
      field("versions", f.versions);
      field("doc", f.doc);
      field("migration", f.migration);
      field("statement", f.statement, /*last=*/true);
      out += "    }";
    }
  });
  std::string& out = parts.back();
  auto field = [&](const char* indent, const char* key, const std::string& value, bool last) {
    JsonField(out, indent, key, value, last);
  };
  auto number = [&](const char* indent, const char* key, long long value, bool last) {
    JsonNumber(out, indent, key, value, last);
  };
  out += report.findings.empty() ? "],\n" : "\n  ],\n";
  out += "  \"summary\": {\n";
  number("    ", "errors", report.Count(Severity::kError), false);
  number("    ", "warnings", report.Count(Severity::kWarning), false);
  number("    ", "infos", report.Count(Severity::kInfo), false);
  number("    ", "files", report.files, false);
  number("    ", "statements", report.statements, true);
  out += "  },\n";
  field("  ", "pg_version", report.pg_version.ToString(), false);
  field("  ", "pg_version_source", report.pg_version_source, true);
  out += "}\n";
  return parts;
}

}  // namespace

std::string RenderJson(const LintReport& report) {
  std::string out;
  for (const auto& part : RenderJsonParts(report)) out += part;
  return out;
}

std::string RenderSarif(const LintReport& report) {
  std::set<std::string> used;
  for (const auto& f : report.findings) used.insert(f.rule);
  Json rules = Json::array();
  Json index = Json::object();
  for (const Rule* rule : AllRules()) {
    if (!used.count(rule->id)) continue;
    index[rule->id] = rules.size();
    rules.push_back(Json{{"id", rule->id},
                         {"shortDescription", {{"text", rule->summary}}},
                         {"fullDescription", {{"text", rule->why}}},
                         {"helpUri", std::string("docs/rules/") + rule->id + ".md"},
                         {"defaultConfiguration", {{"level", SarifLevel(rule->severity)}}}});
  }
  Json results = Json::array();
  for (const auto& f : report.findings) {
    results.push_back(Json{
        {"ruleId", f.rule},
        {"ruleIndex", index.value(f.rule, 0)},
        {"level", SarifLevel(f.severity)},
        {"message", {{"text", f.message + "\nsafe recipe:\n" + f.recipe}}},
        {"locations",
         Json::array({{{"physicalLocation",
                        {{"artifactLocation", {{"uri", f.file}}},
                         {"region", {{"startLine", f.line}, {"startColumn", f.column}}}}}}})}});
  }
  Json sarif{
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs", Json::array({{{"tool",
                              {{"driver",
                                {{"name", "tandem"},
                                 {"informationUri", "https://github.com/tandem-migrations/tandem"},
                                 {"version", TANDEM_VERSION},
                                 {"rules", rules}}}}},
                             {"results", results}}})}};
  return sarif.dump(2) + "\n";
}

std::string RenderGithub(const LintReport& report) {
  std::ostringstream out;
  for (const auto& f : report.findings) {
    const char* command = f.severity == Severity::kError     ? "error"
                          : f.severity == Severity::kWarning ? "warning"
                                                             : "notice";
    out << "::" << command << " file=" << GithubEscape(f.file, true) << ",line=" << f.line
        << ",col=" << f.column << ",title=" << GithubEscape("tandem lint " + f.rule, true)
        << "::" << GithubEscape(f.message + " (" + f.doc + ")", false) << "\n";
  }
  return out.str();
}

std::string RenderGitlab(const LintReport& report) {
  Json issues = Json::array();
  for (const auto& f : report.findings) {
    const char* severity = f.severity == Severity::kError     ? "critical"
                           : f.severity == Severity::kWarning ? "major"
                                                              : "info";
    issues.push_back(
        Json{{"description", f.rule + ": " + f.message},
             {"check_name", f.rule},
             {"fingerprint", Sha256Hex(f.rule + "\n" + f.file + "\n" + std::to_string(f.line) +
                                       "\n" + std::to_string(f.column) + "\n" + f.message)},
             {"severity", severity},
             {"location", {{"path", f.file}, {"lines", {{"begin", f.line}}}}}});
  }
  return issues.dump(2) + "\n";
}

void WriteReport(std::ostream& out, const LintReport& report, ReportFormat format, bool color,
                 const SourceReader& read) {
  if (format != ReportFormat::kJson) {
    out << Render(report, format, color, read);
    return;
  }
  for (const auto& part : RenderJsonParts(report)) out.write(part.data(), part.size());
}

std::string Render(const LintReport& report, ReportFormat format, bool color,
                   const SourceReader& read) {
  switch (format) {
    case ReportFormat::kText:
      return RenderText(report, color, read);
    case ReportFormat::kJson:
      return RenderJson(report);
    case ReportFormat::kSarif:
      return RenderSarif(report);
    case ReportFormat::kGithub:
      return RenderGithub(report);
    case ReportFormat::kGitlab:
      return RenderGitlab(report);
  }
  return "";
}

}  // namespace tandem::lint
