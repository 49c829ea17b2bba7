#include "fleet/targets.h"

#include <cctype>
#include <cstdlib>
#include <set>

#include "pg/url.h"

namespace tandem::fleet {
namespace {

std::vector<std::string> SplitGroups(const std::string& text) {
  std::vector<std::string> groups;
  std::string current;
  auto flush = [&] {
    size_t b = current.find_first_not_of(" \t");
    size_t e = current.find_last_not_of(" \t");
    if (b != std::string::npos) groups.push_back(current.substr(b, e - b + 1));
    current.clear();
  };
  for (char c : text) {
    if (c == ',') {
      flush();
    } else {
      current += c;
    }
  }
  flush();
  return groups;
}

std::string EnvOrEmpty(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

Result<std::vector<Target>> CatalogTargets(const config::Config& config) {
  const config::FleetSettings& fleet = config.fleet;
  std::string url = fleet.catalog_url;
  if (url.empty()) {
    url = EnvOrEmpty(fleet.catalog_url_env);
    if (url.empty()) {
      return Status::InvalidInput("environment variable " + fleet.catalog_url_env +
                                  " (the fleet catalog's URL) is not set")
          .WithHint("set it, or list the databases as [[targets]] in tandem.toml");
    }
  }
  TANDEM_ASSIGN_OR_RETURN(pg::DatabaseUrl parsed, pg::ParseDatabaseUrl(url));
  auto catalog = pg::Connection::Open(parsed);
  if (!catalog.ok()) {
    Status status = catalog.status();
    return std::move(status).Prefix("fleet catalog");
  }
  auto rows = (*catalog)->Query(fleet.targets_query);
  if (!rows.ok()) {
    Status status = rows.status();
    return std::move(status).Prefix("[fleet] targets_query");
  }
  if (rows->columns() < 2) {
    return Status::InvalidInput("[fleet] targets_query must return name and url columns")
        .WithDetail("it returned " + std::to_string(rows->columns()) + " column(s)")
        .WithHint("SELECT name, url[, groups] FROM ...; groups as a comma-separated text");
  }
  std::vector<Target> out;
  for (size_t r = 0; r < rows->rows(); ++r) {
    Target t;
    t.name = rows->Get(r, 0);
    t.url = rows->Get(r, 1);
    if (rows->columns() >= 3) t.groups = SplitGroups(rows->Get(r, 2));
    if (t.url.empty()) {
      t.problem = Status::InvalidInput("the fleet catalog gives target \"" + t.name + "\" no URL");
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 100 || name == "all") return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool Target::InGroup(const std::string& group) const {
  for (const auto& g : groups) {
    if (g == group) return true;
  }
  return false;
}

Result<std::vector<Target>> ListTargets(const config::Config& config) {
  std::vector<Target> out;
  for (const config::TargetEntry& entry : config.targets) {
    Target t;
    t.name = entry.name;
    t.groups = entry.groups;
    t.url = entry.url;
    if (t.url.empty()) {
      t.url = EnvOrEmpty(entry.url_env);
      if (t.url.empty()) {
        t.problem = Status::InvalidInput("environment variable " + entry.url_env +
                                         " (the URL of target \"" + entry.name + "\") is not set")
                        .WithLocation(entry.location);
      }
    }
    out.push_back(std::move(t));
  }
  if (!config.fleet.targets_query.empty()) {
    TANDEM_ASSIGN_OR_RETURN(std::vector<Target> catalog, CatalogTargets(config));
    for (auto& t : catalog) out.push_back(std::move(t));
  }
  std::set<std::string> seen;
  for (const Target& t : out) {
    if (!ValidName(t.name)) {
      return Status::InvalidInput("invalid target name \"" + t.name + "\" from the fleet catalog")
          .WithHint("names are letters, digits, '-', '_' and '.'; \"all\" is reserved");
    }
    if (!seen.insert(t.name).second) {
      return Status::InvalidInput("target \"" + t.name + "\" is configured twice")
          .WithDetail("[[targets]] and the fleet catalog must not name the same database");
    }
  }
  return out;
}

Result<std::vector<Target>> SelectTargets(const std::vector<Target>& all,
                                          const std::string& selector) {
  if (selector == "all") {
    if (all.empty()) return Status::InvalidInput("--target all: no targets are configured");
    return all;
  }
  std::vector<Target> out;
  const std::string kGroup = "group:";
  if (selector.rfind(kGroup, 0) == 0) {
    std::string group = selector.substr(kGroup.size());
    std::set<std::string> known;
    for (const Target& t : all) {
      if (t.InGroup(group)) out.push_back(t);
      known.insert(t.groups.begin(), t.groups.end());
    }
    if (out.empty()) {
      std::string list;
      for (const auto& g : known) list += (list.empty() ? "" : ", ") + g;
      return Status::InvalidInput("no target is in group \"" + group + "\"")
          .WithHint(list.empty() ? "no groups are configured" : "known groups: " + list);
    }
    return out;
  }
  for (const Target& t : all) {
    if (t.name == selector) return std::vector<Target>{t};
  }
  std::string list;
  size_t shown = 0;
  for (const Target& t : all) {
    if (shown++ == 10) {
      list += ", ...";
      break;
    }
    list += (list.empty() ? "" : ", ") + t.name;
  }
  return Status::InvalidInput("unknown target \"" + selector + "\"")
      .WithHint("use a target's name, group:NAME or all" +
                (list.empty() ? std::string() : "; targets: " + list));
}

bool IsUnreachable(const Status& status) { return status.sqlstate() == kUnreachableSqlState; }

Result<pg::DatabaseUrl> TargetUrl(const Target& target) {
  if (!target.problem.ok()) {
    Status status = target.problem;
    return std::move(status).WithSqlState(kUnreachableSqlState);
  }
  auto url = pg::ParseDatabaseUrl(target.url);
  if (!url.ok()) {
    Status status = url.status();
    return std::move(status)
        .Prefix("target \"" + target.name + "\"")
        .WithSqlState(kUnreachableSqlState);
  }
  return url;
}

Result<std::unique_ptr<pg::Connection>> ConnectTarget(const Target& target,
                                                      const config::Config& config,
                                                      int connect_timeout_seconds) {
  auto url = TargetUrl(target);
  if (!url.ok()) return url.status();
  pg::ConnectOptions options;
  options.search_path = config.search_path;
  options.connect_timeout_seconds = connect_timeout_seconds;
  auto connection = pg::Connection::Open(*url, options);
  if (!connection.ok()) {
    Status status = connection.status();
    return std::move(status).WithSqlState(kUnreachableSqlState);
  }
  return connection;
}

}  // namespace tandem::fleet
