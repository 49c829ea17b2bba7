// Rendering of Status in PostgreSQL's message style.
#include "base/status.h"

#include <ostream>

#include "base/printable.h"

namespace tandem {

const std::string& FilePath::str() const {
  static const std::string kNone;
  return path_ ? *path_ : kNone;
}

std::ostream& operator<<(std::ostream& out, const FilePath& path) { return out << path.str(); }

std::string SourceLocation::ToString() const {
  if (file.empty()) return "";
  // A file name may hold a newline or an escape sequence: printed escaped, on one line.
  std::string out = Printable(file.str());
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out;
  if (location_.known()) out += location_.ToString() + ": ";
  // Messages are one line (PostgreSQL's style), so any control character in one came from a
  // file name or other outside text and is escaped; details and hints keep their line breaks.
  out += "error: " + Printable(message_);
  if (!sqlstate_.empty()) out += " (SQLSTATE " + sqlstate_ + ")";
  if (!detail_.empty()) out += "\nDETAIL: " + PrintableLines(detail_);
  if (!hint_.empty()) out += "\nHINT: " + PrintableLines(hint_);
  return out;
}

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidInput:
      return 2;
    case StatusCode::kUnavailable:
      return 3;
    case StatusCode::kFailed:
    case StatusCode::kInternal:
      return 1;
    case StatusCode::kInterrupted:
      return 128 + status.signal();
  }
  return 1;
}

}  // namespace tandem
