// Severity names, PostgreSQL versions and report counts.
#include "lint/finding.h"

#include <algorithm>
#include <charconv>

namespace tandem::lint {

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kInfo:
      return "info";
    case Severity::kWarning:
      return "warning";
    case Severity::kError:
      return "error";
  }
  return "error";
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  if (name == "info") return Severity::kInfo;
  if (name == "warning") return Severity::kWarning;
  if (name == "error") return Severity::kError;
  return std::nullopt;
}

std::optional<PgVersion> PgVersion::Parse(std::string_view text) {
  auto number = [](std::string_view s, int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  PgVersion v;
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) {
    int n = 0;
    if (!number(text, n) || n <= 0) return std::nullopt;
    if (n >= 100000) {  // server_version_num: 140002
      v.major = n / 10000;
      v.minor = n % 10000;
    } else {
      v.major = n;
    }
  } else {
    std::string_view rest = text.substr(dot + 1);
    if (!number(text.substr(0, dot), v.major)) return std::nullopt;
    if (v.major == 9) {  // 9.6 is a major version
      int sub = 0;
      if (!number(rest.substr(0, rest.find('.')), sub)) return std::nullopt;
      v.major = 9;
      v.minor = -1;
      return v;
    }
    if (!number(rest, v.minor)) return std::nullopt;
  }
  if (v.major < 9 || v.major > 99) return std::nullopt;
  return v;
}

std::string PgVersion::ToString() const {
  return minor < 0 ? std::to_string(major) : std::to_string(major) + "." + std::to_string(minor);
}

bool LintReport::HasErrors() const { return Count(Severity::kError) > 0; }

int LintReport::Count(Severity severity) const {
  return static_cast<int>(std::count_if(findings.begin(), findings.end(),
                                        [&](const Finding& f) { return f.severity == severity; }));
}

}  // namespace tandem::lint
