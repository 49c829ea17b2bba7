#include "config/dev_state.h"

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/process.h"

namespace tandem::config {
namespace fs = std::filesystem;

std::string DevStatePath(const std::string& project_dir) {
  return (fs::path(project_dir) / ".tandem" / "dev.json").string();
}

Result<DevState> ReadDevState(const std::string& project_dir) {
  std::string path = DevStatePath(project_dir);
  if (!fs::exists(path)) return Status::Failed("no embedded server is running for this project");
  TANDEM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Status::InvalidInput("malformed " + path).WithHint("delete it and run tandem dev again");
  }
  DevState state;
  state.pid = json.value("pid", 0);
  state.port = json.value("port", 0);
  state.root = json.value("root", "");
  state.url = json.value("url", "");
  return state;
}

Status WriteDevState(const std::string& project_dir, const DevState& state) {
  std::error_code ec;
  fs::create_directories(fs::path(DevStatePath(project_dir)).parent_path(), ec);
  nlohmann::json json = {
      {"pid", state.pid}, {"port", state.port}, {"root", state.root}, {"url", state.url}};
  return WriteFile(DevStatePath(project_dir), json.dump(2) + "\n");
}

Status RemoveDevState(const std::string& project_dir) {
  std::error_code ec;
  fs::remove(DevStatePath(project_dir), ec);
  return Status::Ok();
}

bool DevServerAlive(const DevState& state) {
  if (state.pid <= 0) return false;
  return kill(state.pid, 0) == 0 || errno == EPERM;
}

}  // namespace tandem::config
