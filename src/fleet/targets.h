// The databases of a fleet: the [[targets]] list of tandem.toml plus, when [fleet]
// targets_query is set, the rows a catalog database returns; choosing some of them with
// --target NAME, group:NAME or all; and connecting to one.
//
// A target's URL is a secret like any database URL: messages name the target, and at most
// its redacted URL (pg::DatabaseUrl::Redacted).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "pg/connection.h"

namespace tandem::fleet {

struct Target {
  std::string name;
  std::string url;  // resolved (url_env read); a secret
  std::vector<std::string> groups;
  // Not ok when the target cannot even be tried (its url_env is unset, its URL does not
  // parse): the rollout reports it unreachable with this error, and the rest go on.
  Status problem;

  bool InGroup(const std::string& group) const;
};

// Every configured target: [[targets]] in file order, then the catalog's rows in the order
// the query returns them. kInvalidInput for a catalog row without a usable name or for a name
// given twice; kUnavailable when the catalog cannot be read.
Result<std::vector<Target>> ListTargets(const config::Config& config);

// The targets `selector` names: "all", "group:NAME" or a target's name (kInvalidInput when it
// names nothing, with the known names or groups as hint). Keeps the configured order.
Result<std::vector<Target>> SelectTargets(const std::vector<Target>& all,
                                          const std::string& selector);

// The SQLSTATE a failure to connect carries (sqlclient_unable_to_establish_sqlconnection):
// how the rollout tells "unreachable" from "failed".
inline constexpr const char* kUnreachableSqlState = "08001";
bool IsUnreachable(const Status& status);

// The target's parsed URL; a target whose URL could not be resolved or parsed is an error
// marked unreachable (IsUnreachable).
Result<pg::DatabaseUrl> TargetUrl(const Target& target);
// A connection to `target` with tandem's session settings (search_path from the config) and a
// connect timeout; a failure is kUnavailable naming the target, with SQLSTATE 08001.
Result<std::unique_ptr<pg::Connection>> ConnectTarget(const Target& target,
                                                      const config::Config& config,
                                                      int connect_timeout_seconds = 10);

}  // namespace tandem::fleet
