#include "base/status_json.h"

namespace tandem {

nlohmann::json StatusToJson(const Status& status) {
  nlohmann::json j = {{"message", status.message()}};
  if (!status.sqlstate().empty()) j["sqlstate"] = status.sqlstate();
  if (!status.detail().empty()) j["detail"] = status.detail();
  if (!status.hint().empty()) j["hint"] = status.hint();
  if (status.location().known()) {
    j["file"] = status.location().file.str();
    j["line"] = status.location().line;
    j["column"] = status.location().column;
  }
  return j;
}

}  // namespace tandem
