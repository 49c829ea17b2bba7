// Rendering a LintReport: text for people (source excerpt with the span underlined, colour
// only when asked), and json, sarif (2.1.0), github (workflow annotations) and gitlab (code
// quality) for machines. Pure functions; the CLI decides where the output goes.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "lint/finding.h"

namespace tandem::lint {

enum class ReportFormat { kText, kJson, kSarif, kGithub, kGitlab };
std::optional<ReportFormat> ParseReportFormat(std::string_view name);

// Returns the text of a file for the excerpt ("" when it cannot be read); injectable for tests.
using SourceReader = std::function<std::string(const std::string& path)>;
SourceReader FileSourceReader();

std::string RenderText(const LintReport& report, bool color, const SourceReader& read);
std::string RenderJson(const LintReport& report);
std::string RenderSarif(const LintReport& report);
std::string RenderGithub(const LintReport& report);
std::string RenderGitlab(const LintReport& report);

std::string Render(const LintReport& report, ReportFormat format, bool color,
                   const SourceReader& read);

// Render, written to `out`; json goes out in parts, without being joined into one string first.
void WriteReport(std::ostream& out, const LintReport& report, ReportFormat format, bool color,
                 const SourceReader& read);

}  // namespace tandem::lint
