// Rendering of Status in PostgreSQL's message style.
#include "base/status.h"

namespace tandem {

std::string SourceLocation::ToString() const {
  if (file.empty()) return "";
  std::string out = file;
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
  out += "error: " + message_;
  if (!sqlstate_.empty()) out += " (SQLSTATE " + sqlstate_ + ")";
  if (!detail_.empty()) out += "\nDETAIL: " + detail_;
  if (!hint_.empty()) out += "\nHINT: " + hint_;
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
