#include "config/config.h"

#include <toml++/toml.h>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "base/process.h"
#include "config/dev_state.h"
#include "pg/url.h"

namespace tandem::config {
namespace fs = std::filesystem;

namespace {

Status ErrorAt(const std::string& path, const toml::source_region& where, std::string message) {
  return Status::InvalidInput(std::move(message))
      .WithLocation(
          {path, static_cast<int>(where.begin.line), static_cast<int>(where.begin.column)});
}

// Rejects keys this version does not know, so a typo never silently falls back to a default.
Status CheckKeys(const std::string& path, const toml::table& table, const std::string& prefix,
                 const std::set<std::string>& known) {
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    if (known.count(name)) continue;
    std::string list;
    for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
    return ErrorAt(path, node.source(),
                   "unknown key \"" + prefix + name + "\" in configuration file")
        .WithHint("known keys here: " + list);
  }
  return Status::Ok();
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::floating_point:
      return "floating-point number";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    case toml::node_type::string:
      return "string";
    default:
      return "date or time";
  }
}

Result<std::string> GetString(const std::string& path, const toml::table& table,
                              const std::string& key, const std::string& current) {
  const toml::node* node = table.get(key);
  if (!node) return current;
  // as_string, not value<std::string>: toml++ converts other types on request.
  if (const auto* s = node->as_string()) return s->get();
  return ErrorAt(path, node->source(), "\"" + key + "\" must be a string");
}

Status GetDuration(const std::string& path, const toml::table& table, const std::string& key,
                   Duration& out) {
  const toml::node* node = table.get(key);
  if (!node) return Status::Ok();
  std::string text;
  // Only a string or an integer (milliseconds): toml++'s value<int64_t>() would also turn
  // true into 1 ms and 2.5 into 2 ms.
  if (const auto* s = node->as_string()) {
    text = s->get();
  } else if (const auto* n = node->as_integer()) {
    text = std::to_string(n->get());
  } else {
    return ErrorAt(path, node->source(),
                   "\"" + key + "\" must be a duration such as \"500ms\", not a " +
                       std::string(TypeName(*node)))
        .WithHint("write it as a string with a unit, for example " + key + " = \"500ms\"");
  }
  auto d = ParseDuration(text);
  if (!d.ok()) {
    return ErrorAt(path, node->source(),
                   "invalid value for \"" + key + "\": " + d.status().message())
        .WithDetail(d.status().detail())
        .WithHint(d.status().hint());
  }
  out = *d;
  return Status::Ok();
}

// `[[notify]]`: kind, url or url_env (exactly one), events (job states).
Status ParseNotify(const std::string& path, const toml::node& node,
                   std::vector<NotifyChannel>& out) {
  const toml::array* tables = node.as_array();
  if (!tables || !tables->is_array_of_tables()) {
    return ErrorAt(path, node.source(), "\"notify\" must be an array of tables")
        .WithHint("write each channel as a [[notify]] table");
  }
  static const std::set<std::string> kStates = {
      "queued", "awaiting-approval", "running", "retrying",
      "paused", "succeeded",         "failed",  "cancelled"};
  for (const toml::node& entry : *tables) {
    const toml::table& t = *entry.as_table();
    TANDEM_RETURN_IF_ERROR(CheckKeys(path, t, "notify.", {"kind", "url", "url_env", "events"}));
    NotifyChannel channel;
    channel.location = {path, static_cast<int>(t.source().begin.line),
                        static_cast<int>(t.source().begin.column)};
    TANDEM_ASSIGN_OR_RETURN(channel.kind, GetString(path, t, "kind", ""));
    if (channel.kind != "slack" && channel.kind != "webhook") {
      const toml::node* k = t.get("kind");
      return ErrorAt(path, k ? k->source() : t.source(),
                     channel.kind.empty() ? "[[notify]] needs a kind"
                                          : "unknown notify kind \"" + channel.kind + "\"")
          .WithHint("use kind = \"slack\" or kind = \"webhook\"");
    }
    TANDEM_ASSIGN_OR_RETURN(channel.url, GetString(path, t, "url", ""));
    TANDEM_ASSIGN_OR_RETURN(channel.url_env, GetString(path, t, "url_env", ""));
    if (channel.url.empty() == channel.url_env.empty()) {
      // The URL itself is never quoted back: it is a credential.
      return ErrorAt(path, t.source(), "[[notify]] needs exactly one of url and url_env")
          .WithHint("prefer url_env = \"SLACK_WEBHOOK_URL\": keep webhook URLs out of git");
    }
    if (const toml::node* e = t.get("events")) {
      const toml::array* events = e->as_array();
      if (!events) return ErrorAt(path, e->source(), "\"events\" must be an array of states");
      for (const toml::node& item : *events) {
        const auto* name = item.as_string();
        if (!name || !kStates.count(name->get())) {
          std::string list;
          for (const auto& k : kStates) list += (list.empty() ? "" : ", ") + k;
          return ErrorAt(path, item.source(), "unknown job state in \"events\"")
              .WithHint("use any of: " + list);
        }
        channel.events.push_back(name->get());
      }
    }
    out.push_back(std::move(channel));
  }
  return Status::Ok();
}

// Target and group names appear on command lines (--target NAME, group:NAME) and in
// reports: letters, digits, '-', '_' and '.', so that they never need quoting.
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// `[[targets]]`: name, url or url_env (exactly one), groups.
Status ParseTargets(const std::string& path, const toml::node& node,
                    std::vector<TargetEntry>& out) {
  const toml::array* tables = node.as_array();
  if (!tables || !tables->is_array_of_tables()) {
    return ErrorAt(path, node.source(), "\"targets\" must be an array of tables")
        .WithHint("write each database as a [[targets]] table");
  }
  std::set<std::string> names;
  for (const toml::node& entry : *tables) {
    const toml::table& t = *entry.as_table();
    TANDEM_RETURN_IF_ERROR(CheckKeys(path, t, "targets.", {"name", "url", "url_env", "groups"}));
    TargetEntry target;
    target.location = {path, static_cast<int>(t.source().begin.line),
                       static_cast<int>(t.source().begin.column)};
    TANDEM_ASSIGN_OR_RETURN(target.name, GetString(path, t, "name", ""));
    const toml::node* name_node = t.get("name");
    const toml::source_region& name_at = name_node ? name_node->source() : t.source();
    if (target.name.empty()) return ErrorAt(path, name_at, "[[targets]] needs a name");
    if (!ValidName(target.name) || target.name == "all") {
      return ErrorAt(path, name_at, "invalid target name \"" + target.name + "\"")
          .WithHint(target.name == "all"
                        ? "\"all\" is reserved for --target all"
                        : "use letters, digits, '-', '_' and '.' (at most 100 characters)");
    }
    if (!names.insert(target.name).second) {
      return ErrorAt(path, name_at, "duplicate target name \"" + target.name + "\"");
    }
    TANDEM_ASSIGN_OR_RETURN(target.url, GetString(path, t, "url", ""));
    TANDEM_ASSIGN_OR_RETURN(target.url_env, GetString(path, t, "url_env", ""));
    if (target.url.empty() == target.url_env.empty()) {
      // The URL itself is never quoted back: it may hold a password.
      return ErrorAt(path, t.source(),
                     "target \"" + target.name + "\" needs exactly one of url and url_env")
          .WithHint("prefer url_env = \"SHARD_URL\": keep database passwords out of git");
    }
    if (const toml::node* g = t.get("groups")) {
      const toml::array* groups = g->as_array();
      if (!groups) return ErrorAt(path, g->source(), "\"groups\" must be an array of names");
      for (const toml::node& item : *groups) {
        const auto* group = item.as_string();
        if (!group || !ValidName(group->get())) {
          return ErrorAt(path, item.source(), "invalid group name in \"groups\"")
              .WithHint("use letters, digits, '-', '_' and '.'");
        }
        target.groups.push_back(group->get());
      }
    }
    out.push_back(std::move(target));
  }
  return Status::Ok();
}

Status GetCount(const std::string& path, const toml::table& table, const std::string& key, int low,
                int high, int& out) {
  const toml::node* v = table.get(key);
  if (!v) return Status::Ok();
  const auto* n = v->as_integer();
  if (!n || n->get() < low || n->get() > high) {
    return ErrorAt(path, v->source(),
                   "\"" + key + "\" must be an integer from " + std::to_string(low) + " to " +
                       std::to_string(high));
  }
  out = static_cast<int>(n->get());
  return Status::Ok();
}

// `[fleet]`, checked against the [[targets]] already read.
Status ParseFleet(const std::string& path, const toml::table& f, Config& config) {
  TANDEM_RETURN_IF_ERROR(CheckKeys(path, f, "fleet.",
                                   {"targets_query", "catalog_url", "catalog_url_env",
                                    "concurrency", "canary", "max_failures"}));
  FleetSettings& s = config.fleet;
  TANDEM_ASSIGN_OR_RETURN(s.targets_query, GetString(path, f, "targets_query", ""));
  TANDEM_ASSIGN_OR_RETURN(s.catalog_url, GetString(path, f, "catalog_url", ""));
  TANDEM_ASSIGN_OR_RETURN(s.catalog_url_env, GetString(path, f, "catalog_url_env", ""));
  TANDEM_RETURN_IF_ERROR(GetCount(path, f, "concurrency", 1, 1000, s.concurrency));
  TANDEM_RETURN_IF_ERROR(GetCount(path, f, "max_failures", 1, 1000000, s.max_failures));
  TANDEM_ASSIGN_OR_RETURN(s.canary, GetString(path, f, "canary", ""));
  bool has_catalog = !s.catalog_url.empty() || !s.catalog_url_env.empty();
  if (!s.catalog_url.empty() && !s.catalog_url_env.empty()) {
    return ErrorAt(path, f.get("catalog_url")->source(),
                   "[fleet] takes one of catalog_url and catalog_url_env, not both");
  }
  if (!s.targets_query.empty() && !has_catalog) {
    return ErrorAt(path, f.get("targets_query")->source(),
                   "\"targets_query\" needs a catalog database")
        .WithHint("set catalog_url_env = \"FLEET_CATALOG_URL\" in [fleet]");
  }
  if (s.targets_query.empty() && has_catalog) {
    const toml::node* n = f.get(s.catalog_url.empty() ? "catalog_url_env" : "catalog_url");
    return ErrorAt(path, n->source(), "a catalog database needs \"targets_query\"")
        .WithHint("targets_query = \"SELECT name, url FROM shards ORDER BY name\"");
  }
  if (const toml::node* c = f.get("canary")) {
    if (!ValidName(s.canary)) {
      return ErrorAt(path, c->source(), "invalid canary group name \"" + s.canary + "\"");
    }
    // With only the static list, a canary group nobody is in is a typo that would skip the
    // canary stage altogether. The catalog's groups are known only when it is queried.
    if (s.targets_query.empty()) {
      bool found = false;
      for (const auto& t : config.targets) {
        for (const auto& g : t.groups) found |= g == s.canary;
      }
      if (!found) {
        return ErrorAt(path, c->source(), "no target is in the canary group \"" + s.canary + "\"")
            .WithHint("add groups = [\"" + s.canary + "\"] to the canary [[targets]]");
      }
    }
  }
  return Status::Ok();
}

Status ApplyText(const std::string& text, const std::string& path, Config& config) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return ErrorAt(path, e.source(),
                   "malformed configuration file: " + std::string(e.description()))
        .WithHint("see docs/configuration.md for the format");
  }
  TANDEM_RETURN_IF_ERROR(CheckKeys(path, root, "",
                                   {"database", "migrations", "runner", "release", "lint", "worker",
                                    "background", "notify", "targets", "fleet", "dashboard"}));
  for (const auto& [key, node] : root) {
    // Arrays of tables, checked below.
    if (key.str() == "notify" || key.str() == "targets") continue;
    if (!node.is_table()) {
      return ErrorAt(path, node.source(), "\"" + std::string(key.str()) + "\" must be a table")
          .WithHint("write it as [" + std::string(key.str()) + "]");
    }
  }
  if (const toml::table* db = root["database"].as_table()) {
    TANDEM_RETURN_IF_ERROR(CheckKeys(path, *db, "database.", {"url", "schema", "search_path"}));
    TANDEM_ASSIGN_OR_RETURN(config.database_url, GetString(path, *db, "url", config.database_url));
    if (db->get("url")) config.database_url_source = "tandem.toml";
    TANDEM_ASSIGN_OR_RETURN(config.schema, GetString(path, *db, "schema", config.schema));
    TANDEM_ASSIGN_OR_RETURN(config.search_path,
                            GetString(path, *db, "search_path", config.search_path));
  }
  if (const toml::table* m = root["migrations"].as_table()) {
    TANDEM_RETURN_IF_ERROR(CheckKeys(path, *m, "migrations.", {"dir", "layout"}));
    TANDEM_ASSIGN_OR_RETURN(config.migrations_dir,
                            GetString(path, *m, "dir", config.migrations_dir));
    if (const toml::node* layout = m->get("layout")) {
      TANDEM_ASSIGN_OR_RETURN(std::string name, GetString(path, *m, "layout", ""));
      if (name != "auto") {
        auto parsed = migrate::ParseLayout(name);
        if (!parsed) {
          return ErrorAt(path, layout->source(), "unknown layout \"" + name + "\"")
              .WithHint("use auto, tandem, dbmate, golang-migrate, diesel, flyway or goose");
        }
        config.layout = parsed;
      }
    }
  }
  if (const toml::table* r = root["runner"].as_table()) {
    TANDEM_RETURN_IF_ERROR(CheckKeys(path, *r, "runner.", {"lock_wait"}));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *r, "lock_wait", config.lock_wait));
  }
  if (const toml::table* r = root["release"].as_table()) {
    TANDEM_RETURN_IF_ERROR(
        CheckKeys(path, *r, "release.",
                  {"lock_timeout", "statement_timeout", "idle_in_transaction_timeout",
                   "retry_budget", "backoff_initial", "backoff_max"}));
    ReleaseSettings& s = config.release;
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *r, "lock_timeout", s.lock_timeout));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *r, "statement_timeout", s.statement_timeout));
    TANDEM_RETURN_IF_ERROR(
        GetDuration(path, *r, "idle_in_transaction_timeout", s.idle_in_transaction_timeout));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *r, "retry_budget", s.retry_budget));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *r, "backoff_initial", s.backoff_initial));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *r, "backoff_max", s.backoff_max));
  }
  if (const toml::table* w = root["worker"].as_table()) {
    TANDEM_RETURN_IF_ERROR(
        CheckKeys(path, *w, "worker.",
                  {"require_approval", "max_attempts", "statement_timeout", "poll_interval"}));
    WorkerSettings& s = config.worker;
    if (const toml::node* v = w->get("require_approval")) {
      const auto* b = v->as_boolean();
      if (!b) return ErrorAt(path, v->source(), "\"require_approval\" must be true or false");
      s.require_approval = b->get();
    }
    if (const toml::node* v = w->get("max_attempts")) {
      const auto* n = v->as_integer();
      if (!n || n->get() < 1 || n->get() > 1000) {
        return ErrorAt(path, v->source(), "\"max_attempts\" must be an integer from 1 to 1000");
      }
      s.max_attempts = static_cast<int>(n->get());
    }
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *w, "statement_timeout", s.statement_timeout));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *w, "poll_interval", s.poll_interval));
    if (s.poll_interval < Duration(100)) {
      return ErrorAt(path, w->get("poll_interval")->source(),
                     "\"poll_interval\" must be at least 100ms");
    }
  }
  if (const toml::table* b = root["background"].as_table()) {
    TANDEM_RETURN_IF_ERROR(
        CheckKeys(path, *b, "background.",
                  {"target_batch_duration", "min_batch_size", "max_batch_size", "lock_timeout",
                   "statement_timeout", "max_parallel", "max_replication_lag",
                   "max_replication_lag_bytes", "max_lock_wait", "throttle_query"}));
    BackgroundSettings& s = config.background;
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *b, "target_batch_duration", s.target_batch_duration));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *b, "lock_timeout", s.lock_timeout));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *b, "statement_timeout", s.statement_timeout));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *b, "max_replication_lag", s.max_replication_lag));
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *b, "max_lock_wait", s.max_lock_wait));
    auto integer = [&](const char* key, long long low, long long high, long long& out) -> Status {
      const toml::node* v = b->get(key);
      if (!v) return Status::Ok();
      const auto* n = v->as_integer();
      if (!n || n->get() < low || n->get() > high) {
        return ErrorAt(path, v->source(),
                       "\"" + std::string(key) + "\" must be an integer from " +
                           std::to_string(low) + " to " + std::to_string(high));
      }
      out = n->get();
      return Status::Ok();
    };
    TANDEM_RETURN_IF_ERROR(integer("min_batch_size", 1, 1'000'000'000, s.min_batch_size));
    TANDEM_RETURN_IF_ERROR(integer("max_batch_size", 1, 1'000'000'000, s.max_batch_size));
    TANDEM_RETURN_IF_ERROR(
        integer("max_replication_lag_bytes", 0, 1LL << 50, s.max_replication_lag_bytes));
    long long parallel = s.max_parallel;
    TANDEM_RETURN_IF_ERROR(integer("max_parallel", 1, 64, parallel));
    s.max_parallel = static_cast<int>(parallel);
    if (s.min_batch_size > s.max_batch_size) {
      return ErrorAt(path, b->get("min_batch_size")->source(),
                     "\"min_batch_size\" must not be above \"max_batch_size\"");
    }
    if (const toml::node* v = b->get("throttle_query")) {
      const auto* q = v->as_string();
      if (!q) return ErrorAt(path, v->source(), "\"throttle_query\" must be a string of SQL");
      s.throttle_query = q->get();
    }
  }
  if (const toml::node* n = root.get("notify")) {
    TANDEM_RETURN_IF_ERROR(ParseNotify(path, *n, config.notify));
  }
  if (const toml::node* n = root.get("targets")) {
    TANDEM_RETURN_IF_ERROR(ParseTargets(path, *n, config.targets));
  }
  if (const toml::table* f = root["fleet"].as_table()) {
    TANDEM_RETURN_IF_ERROR(ParseFleet(path, *f, config));
  }
  if (const toml::table* d = root["dashboard"].as_table()) {
    TANDEM_RETURN_IF_ERROR(
        CheckKeys(path, *d, "dashboard.", {"token_env", "max_listen", "refresh_interval"}));
    DashboardSettings& s = config.dashboard;
    TANDEM_ASSIGN_OR_RETURN(s.token_env, GetString(path, *d, "token_env", s.token_env));
    if (s.token_env.empty()) {
      return ErrorAt(path, d->get("token_env")->source(), "\"token_env\" must not be empty");
    }
    if (const toml::node* v = d->get("max_listen")) {
      const auto* n = v->as_integer();
      if (!n || n->get() < 0 || n->get() > 1000) {
        return ErrorAt(path, v->source(), "\"max_listen\" must be an integer from 0 to 1000");
      }
      s.max_listen = static_cast<int>(n->get());
    }
    TANDEM_RETURN_IF_ERROR(GetDuration(path, *d, "refresh_interval", s.refresh_interval));
    if (s.refresh_interval < Duration(1000)) {
      return ErrorAt(path, d->get("refresh_interval")->source(),
                     "\"refresh_interval\" must be at least 1s");
    }
  }
  if (const toml::table* l = root["lint"].as_table()) {
    TANDEM_RETURN_IF_ERROR(CheckKeys(path, *l, "lint.", {"pg_version", "rules"}));
    if (const toml::node* v = l->get("pg_version")) {
      const auto* n = v->as_integer();
      if (!n || n->get() < 9 || n->get() > 99) {
        return ErrorAt(path, v->source(), "\"pg_version\" must be a major version such as 15");
      }
      config.lint_pg_version = static_cast<int>(n->get());
    }
    if (const toml::node* rules_node = l->get("rules")) {
      const toml::table* rules = rules_node->as_table();
      if (!rules) return ErrorAt(path, rules_node->source(), "\"lint.rules\" must be a table");
      for (const auto& [rule, level] : *rules) {
        const auto* value = level.as_string();
        static const std::set<std::string> kLevels = {"off", "error", "warning", "info"};
        if (!value || !kLevels.count(value->get())) {
          return ErrorAt(path, level.source(),
                         "invalid level for rule \"" + std::string(rule.str()) + "\"")
              .WithHint("use \"off\", \"error\", \"warning\" or \"info\"");
        }
        config.lint_rules[std::string(rule.str())] = value->get();
      }
    }
  }
  return Status::Ok();
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string Config::MigrationsPath() const {
  fs::path dir = migrations_dir;
  if (dir.is_absolute() || project_dir.empty()) return dir.string();
  return (fs::path(project_dir) / dir).lexically_normal().string();
}

Result<Config> ParseConfigText(const std::string& text, const std::string& path) {
  Config config;
  config.config_path = path;
  TANDEM_RETURN_IF_ERROR(ApplyText(text, path, config));
  return config;
}

Result<Config> LoadConfig(const std::string& working_directory, const Overrides& overrides) {
  Config config;
  config.project_dir = working_directory;
  std::string path = overrides.config_path;
  if (path.empty()) {
    fs::path candidate = fs::path(working_directory) / "tandem.toml";
    if (fs::exists(candidate)) path = candidate.string();
  } else if (!fs::exists(path)) {
    return Status::InvalidInput("configuration file \"" + path + "\" does not exist")
        .WithHint("run \"tandem init\" to write one, or drop --config");
  }
  if (!path.empty()) {
    TANDEM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    config.config_path = path;
    config.project_dir = fs::absolute(path).parent_path().string();
    TANDEM_RETURN_IF_ERROR(ApplyText(text, path, config));
  }
  // The environment overrides the file; TANDEM_DATABASE_URL wins over the conventional one.
  if (std::string v = Env("DATABASE_URL"); !v.empty()) {
    config.database_url = v;
    config.database_url_source = "DATABASE_URL";
  }
  if (std::string v = Env("TANDEM_DATABASE_URL"); !v.empty()) {
    config.database_url = v;
    config.database_url_source = "TANDEM_DATABASE_URL";
  }
  if (std::string v = Env("TANDEM_DIR"); !v.empty()) config.migrations_dir = v;
  if (std::string v = Env("TANDEM_SCHEMA"); !v.empty()) config.schema = v;
  std::string layout = Env("TANDEM_LAYOUT");
  // Flags override everything.
  if (!overrides.database_url.empty()) {
    config.database_url = overrides.database_url;
    config.database_url_source = "flag";
  }
  if (!overrides.dir.empty()) {
    config.migrations_dir = fs::absolute(overrides.dir).string();
  }
  if (!overrides.schema.empty()) config.schema = overrides.schema;
  if (!overrides.layout.empty()) layout = overrides.layout;
  if (overrides.lock_wait) config.lock_wait = *overrides.lock_wait;
  if (!layout.empty() && layout != "auto") {
    auto parsed = migrate::ParseLayout(layout);
    if (!parsed) {
      return Status::InvalidInput("unknown layout \"" + layout + "\"")
          .WithHint("use auto, tandem, dbmate, golang-migrate, diesel, flyway or goose");
    }
    config.layout = parsed;
  } else if (layout == "auto") {
    config.layout.reset();
  }
  if (config.database_url.empty()) {
    if (auto dev = ReadDevState(config.project_dir); dev.ok() && DevServerAlive(*dev)) {
      config.database_url = dev->url;
      config.database_url_source = "tandem dev";
    }
  }
  return config;
}

std::string DefaultConfigText() {
  return R"(# tandem configuration. Every setting can be overridden by the environment
# (DATABASE_URL or TANDEM_DATABASE_URL, TANDEM_DIR, TANDEM_LAYOUT, TANDEM_SCHEMA) and by flags.

[database]
# url = "postgresql://app@localhost:5432/app"   # prefer DATABASE_URL: keep passwords out of git
schema = "tandem"         # where tandem keeps its state (migrations, events)
search_path = "public"

[migrations]
dir = "db/migrations"
layout = "auto"           # auto, tandem, dbmate, golang-migrate, diesel, flyway, goose

[runner]
lock_wait = "60s"         # how long to wait for another runner before giving up (exit 3)

[release]
lock_timeout = "500ms"
statement_timeout = "15min"
retry_budget = "10min"
)";
}

}  // namespace tandem::config
