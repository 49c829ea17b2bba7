// The text reporter: one block per finding, compiler style, with the statement's line and the
// span underlined, then the lock, why, versions and the recipe.
#include <map>
#include <sstream>

#include "base/printable.h"
#include "base/process.h"
#include "lint/report.h"

namespace tandem::lint {
namespace {

std::string LineOf(const std::string& text, int line) {
  size_t pos = 0;
  for (int i = 1; i < line && pos != std::string::npos; ++i) {
    pos = text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  if (pos == std::string::npos || pos > text.size()) return "";
  size_t end = text.find('\n', pos);
  std::string out = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

const char* SeverityColor(Severity s) {
  switch (s) {
    case Severity::kError:
      return "\033[1;31m";
    case Severity::kWarning:
      return "\033[1;33m";
    case Severity::kInfo:
      return "\033[1;36m";
  }
  return "";
}

}  // namespace

SourceReader FileSourceReader() {
  return [](const std::string& path) {
    auto text = ReadFile(path);
    return text.ok() ? *text : std::string();
  };
}

std::string RenderText(const LintReport& report, bool color, const SourceReader& read) {
  std::ostringstream out;
  std::map<std::string, std::string> sources;
  auto paint = [&](const char* code, const std::string& s) {
    return color ? std::string(code) + s + "\033[0m" : s;
  };
  for (const auto& f : report.findings) {
    out << paint("\033[1m", Printable(f.file) + ":" + std::to_string(f.line) + ":" +
                                std::to_string(f.column) + ":")
        << " " << paint(SeverityColor(f.severity), std::string(SeverityName(f.severity))) << " ["
        << f.rule << "] " << f.message << "\n";
    if (!sources.count(f.file)) sources[f.file] = read(f.file);
    std::string line = LineOf(sources[f.file], f.line);
    if (!line.empty()) {
      std::string number = std::to_string(f.line);
      std::string gutter(number.size(), ' ');
      size_t start = f.column > 0 ? static_cast<size_t>(f.column - 1) : 0;
      if (start > line.size()) start = line.size();
      size_t length = f.length > 0 ? static_cast<size_t>(f.length) : line.size() - start;
      if (length == 0) length = 1;
      std::string underline = std::string(start, ' ');
      for (size_t i = 0; i < start; ++i) {
        if (line[i] == '\t') underline[i] = '\t';
      }
      out << " " << number << " | " << line << "\n"
          << " " << gutter << " | " << underline
          << paint(SeverityColor(f.severity), std::string(length, '^')) << "\n";
    }
    if (!f.lock.empty() && f.lock.rfind("none", 0) != 0) {
      out << "  lock: " << f.lock << " (blocks " << f.blocks << ")\n";
    }
    out << "  why: " << f.why << "\n";
    out << "  versions: PostgreSQL " << f.versions << "\n";
    if (!f.recipe.empty()) {
      out << "  safe recipe:\n";
      std::istringstream recipe(f.recipe);
      for (std::string r; std::getline(recipe, r);) out << "    " << r << "\n";
    }
    out << "  see " << f.doc << "\n\n";
  }
  int errors = report.Count(Severity::kError), warnings = report.Count(Severity::kWarning),
      infos = report.Count(Severity::kInfo);
  out << errors << (errors == 1 ? " error, " : " errors, ") << warnings
      << (warnings == 1 ? " warning, " : " warnings, ") << infos << " info in " << report.files
      << (report.files == 1 ? " file" : " files") << " (" << report.statements
      << " statements, PostgreSQL " << report.pg_version.ToString() << ")\n";
  return out.str();
}

}  // namespace tandem::lint
