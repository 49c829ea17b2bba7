// The pointer file `tandem dev` leaves in a project (.tandem/dev.json): which embedded server
// serves this project, so that later commands find its URL and `tandem dev --stop` can stop it.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/status.h"

namespace tandem::config {

struct DevState {
  pid_t pid = 0;
  int port = 0;
  std::string root;  // the server's private directory
  std::string url;
};

std::string DevStatePath(const std::string& project_dir);
Result<DevState> ReadDevState(const std::string& project_dir);
Status WriteDevState(const std::string& project_dir, const DevState& state);
Status RemoveDevState(const std::string& project_dir);
bool DevServerAlive(const DevState& state);

}  // namespace tandem::config
