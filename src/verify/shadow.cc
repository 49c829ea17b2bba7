// Opening and seeding the shadow database (see shadow.h).
#include "verify/shadow.h"

#include <map>
#include <set>
#include <sstream>

#include "base/process.h"
#include "pg/quote.h"
#include "sql/parser.h"

namespace tandem::verify {

Result<Shadow> OpenShadow(const std::string& shadow_url) {
  Shadow shadow;
  if (!shadow_url.empty()) {
    TANDEM_ASSIGN_OR_RETURN(shadow.url, pg::ParseDatabaseUrl(shadow_url));
    shadow.description = shadow.url.Redacted();
    return shadow;
  }
  auto server = pg::EmbeddedServer::Start();
  if (!server.ok()) {
    Status status = server.status();
    return std::move(status).Prefix("could not start the embedded shadow database");
  }
  shadow.server = std::move(server).value();
  TANDEM_ASSIGN_OR_RETURN(shadow.url, pg::ParseDatabaseUrl(shadow.server->Url("postgres")));
  shadow.description = "embedded PostgreSQL " + shadow.server->version();
  return shadow;
}

Status RestoreSchemaDump(const pg::DatabaseUrl& target, const std::string& state_schema,
                         pg::Connection& shadow, std::vector<std::string>* warnings) {
  std::string pg_dump = "pg_dump";
  if (auto binaries = pg::FindServerBinaries(); binaries.ok()) {
    pg_dump = (binaries->bindir / "pg_dump").string();
  }
  // The password travels in the child's environment, never on its command line.
  pg::ChildConnection child = pg::ForChildProcess(target);
  auto dumped = RunAndCapture({pg_dump, "--schema-only", "--no-owner", "--no-privileges",
                               "--exclude-schema=" + state_schema, "--dbname=" + child.conninfo},
                              child.Environment());
  if (!dumped.ok()) return dumped.status();
  if (dumped->exit_code != 0) {
    return Status::Unavailable("could not dump the schema of " + target.Redacted())
        .WithDetail(pg::RedactSecrets(dumped->err));
  }
  // pg_dump 15.14+ writes psql meta-commands (\restrict); they are not SQL.
  std::stringstream in(dumped->out);
  std::string line, sql;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '\\') continue;
    sql += line + "\n";
  }
  TANDEM_ASSIGN_OR_RETURN(auto statements, sql::SplitStatements(sql));
  int refused = 0;
  for (const auto& statement : statements) {
    Status s = shadow.Exec(statement.text);
    if (!s.ok() && ++refused <= 5 && warnings) {
      warnings->push_back("the shadow refused a statement of the schema dump: " + s.message());
    }
  }
  if (refused > 5 && warnings) {
    warnings->push_back(std::to_string(refused - 5) + " more statements of the dump refused");
  }
  // The dump empties search_path for its own safety; put the session's back.
  return shadow.Exec("SELECT pg_catalog.set_config('search_path', 'public', false)");
}

Status ApplyUntraced(pg::Connection& shadow, const migrate::Migration& migration) {
  if (migration.transactional) TANDEM_RETURN_IF_ERROR(shadow.Exec("BEGIN"));
  for (const auto& statement : migration.up.statements) {
    Status s = shadow.Exec(statement.sql);
    if (!s.ok()) {
      if (shadow.in_transaction()) shadow.Exec("ROLLBACK");
      return std::move(s.WithLocation(statement.location))
          .Prefix("could not apply migration " + migration.version + " on the shadow");
    }
  }
  return migration.transactional ? shadow.Exec("COMMIT") : Status::Ok();
}

namespace {

struct Column {
  std::string name;
  std::string type;  // format_type, usable in a cast
  char category = 'X';
  bool not_null = false;
  bool skip = false;  // has a default, identity or generated: the server fills it
};

struct Table {
  std::string qualified;
  std::vector<Column> columns;
  // attname -> (parent table, parent column) for single-column foreign keys.
  std::map<std::string, std::pair<std::string, std::string>> references;
};

// An expression of the series number g that yields a value of the column's type.
std::string ValueFor(const Column& c) {
  const std::string cast = "::" + c.type;
  if (c.type == "uuid") return "pg_catalog.gen_random_uuid()";
  if (c.type == "json" || c.type == "jsonb") return "'{}'" + cast;
  if (c.type == "bytea") return "'\\x00'::bytea";
  if (c.type == "smallint") return "(g % 32000)::smallint";
  switch (c.category) {
    case 'N':
      return "g" + cast;
    case 'S':
      return "('s' || g)" + cast;
    case 'B':
      return "(g % 2 = 0)";
    case 'D':
      return "(pg_catalog.now() - g * interval '1 minute')" + cast;
    case 'T':
      return "(g * interval '1 second')";
    case 'E':
      return "(pg_catalog.enum_range(NULL" + cast + "))[1]";
    case 'A':
      return "'{}'" + cast;
    case 'I':
      return "'10.0.0.1'" + cast;
    default:
      return "";
  }
}

}  // namespace

Status FillSampleRows(pg::Connection& shadow, int rows, std::vector<std::string>* warnings) {
  if (rows <= 0) return Status::Ok();
  TANDEM_ASSIGN_OR_RETURN(
      auto cols,
      shadow.Query(
          "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
          "a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), t.typcategory, "
          "a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' "
          "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
          "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
          "AND NOT a.attisdropped JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
          "WHERE c.relkind = 'r' AND NOT c.relispartition AND n.nspname <> 'pg_catalog' "
          "AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_(toast|temp_)' "
          "ORDER BY 1, a.attnum"));
  std::map<std::string, Table> tables;
  for (size_t r = 0; r < cols.rows(); ++r) {
    Table& t = tables[cols.Get(r, 0)];
    t.qualified = cols.Get(r, 0);
    t.columns.push_back({cols.Get(r, 1), cols.Get(r, 2), cols.Get(r, 3)[0], cols.GetBool(r, 4),
                         cols.GetBool(r, 5)});
  }
  TANDEM_ASSIGN_OR_RETURN(
      auto fks,
      shadow.Query("SELECT co.conrelid::regclass::text, a.attname, co.confrelid::regclass::text, "
                   "fa.attname FROM pg_catalog.pg_constraint co "
                   "JOIN pg_catalog.pg_attribute a ON a.attrelid = co.conrelid "
                   "AND a.attnum = co.conkey[1] JOIN pg_catalog.pg_attribute fa "
                   "ON fa.attrelid = co.confrelid AND fa.attnum = co.confkey[1] "
                   "WHERE co.contype = 'f' AND pg_catalog.cardinality(co.conkey) = 1"));
  // regclass::text omits the schema on the search path; match both spellings.
  auto find_table = [&](const std::string& name) -> Table* {
    for (auto& [key, table] : tables) {
      if (key == name || key == "public." + name) return &table;
    }
    return nullptr;
  };
  for (size_t r = 0; r < fks.rows(); ++r) {
    Table* child = find_table(fks.Get(r, 0));
    Table* parent = find_table(fks.Get(r, 2));
    if (child && parent) child->references[fks.Get(r, 1)] = {parent->qualified, fks.Get(r, 3)};
  }

  std::set<std::string> filled;
  bool progress = true;
  while (progress && filled.size() < tables.size()) {
    progress = false;
    for (auto& [name, table] : tables) {
      if (filled.count(name)) continue;
      bool ready = true;
      for (const auto& c : table.columns) {
        auto ref = table.references.find(c.name);
        if (ref != table.references.end() && c.not_null && ref->second.first != name &&
            !filled.count(ref->second.first)) {
          ready = false;
        }
      }
      if (!ready) continue;
      filled.insert(name);
      progress = true;
      std::string ctes, from = "pg_catalog.generate_series(1, " + std::to_string(rows) + ") g";
      std::vector<std::string> names, values;
      bool impossible = false;
      for (const auto& c : table.columns) {
        auto ref = table.references.find(c.name);
        if (c.skip || (ref != table.references.end() && !c.not_null)) continue;
        std::string value;
        if (ref != table.references.end()) {
          std::string cte = "fk" + std::to_string(names.size());
          ctes += (ctes.empty() ? "WITH " : ", ") + cte + " AS (SELECT pg_catalog.array_agg(" +
                  pg::QuoteIdentifier(ref->second.second) + ") a FROM " + ref->second.first + ")";
          from += ", " + cte;
          value = cte + ".a[1 + g % pg_catalog.cardinality(" + cte + ".a)]";
        } else {
          value = ValueFor(c);
        }
        if (value.empty()) {
          if (c.not_null) impossible = true;
          continue;
        }
        names.push_back(pg::QuoteIdentifier(c.name));
        values.push_back(value);
      }
      if (impossible) {
        if (warnings)
          warnings->push_back("--sample-rows: no value generator for a column of " + name);
        continue;
      }
      std::string sql;
      if (names.empty()) {
        sql = "DO $tandem$ BEGIN FOR i IN 1.." + std::to_string(rows) + " LOOP INSERT INTO " +
              name + " DEFAULT VALUES; END LOOP; END $tandem$";
      } else {
        std::string list, exprs;
        for (size_t i = 0; i < names.size(); ++i) {
          list += (i ? ", " : "") + names[i];
          exprs += (i ? ", " : "") + values[i];
        }
        sql = ctes + (ctes.empty() ? "" : " ") + "INSERT INTO " + name + " (" + list + ") SELECT " +
              exprs + " FROM " + from;
      }
      Status s = shadow.Exec(sql);
      if (!s.ok() && warnings) {
        warnings->push_back("--sample-rows: could not fill " + name + ": " + s.message());
      }
    }
  }
  return shadow.Exec("ANALYZE");
}

}  // namespace tandem::verify
