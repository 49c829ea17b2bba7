// Opening and seeding the shadow database (see shadow.h).
#include "verify/shadow.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "base/process.h"
#include "migrate/execute_statement.h"
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
    Status s = migrate::ExecuteStatement(shadow, statement);
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
  char typtype = 'b';   // b base, d domain, e enum, r range, c composite, m multirange
  std::string typname;  // the base type's name (a domain's base), for the named generators
  bool not_null = false;
  bool skip = false;  // has a default, identity or generated: the server fills it
};

// A foreign key a table must satisfy: the referencing columns, filled together from one row
// of the parent. Only keys with a NOT NULL column are filled; the others stay NULL.
struct ForeignKey {
  std::vector<std::string> columns;
  std::string parent;  // quoted, qualified
  std::vector<std::string> parent_columns;
  bool required = false;
};

struct Table {
  std::string qualified;
  std::vector<Column> columns;
  std::vector<ForeignKey> foreign_keys;
};

// Expressions of the series number g (1..rows) that yield a value of the column's type, most
// specific first; distinct for every g where the type allows it, so that unique columns fill.
// The first one the server accepts for the type (probed once per type) is used.
std::vector<std::string> Candidates(const Column& c) {
  const std::string cast = "::" + c.type;
  const std::string& t = c.typname;
  std::vector<std::string> out;
  if (t == "uuid") out.push_back("pg_catalog.gen_random_uuid()" + cast);
  if (t == "jsonb" || t == "json") out.push_back("pg_catalog.jsonb_build_object('n', g)" + cast);
  if (t == "bytea") out.push_back("pg_catalog.int8send(g::bigint)" + cast);
  if (t == "int2") out.push_back("(g % 32000)" + cast);
  if (t == "date") out.push_back("(DATE '2000-01-01' + g)" + cast);
  if (t == "tsvector") out.push_back("pg_catalog.to_tsvector('simple', 'w' || g)" + cast);
  if (t == "bool") out.push_back("(g % 2 = 0)" + cast);
  if (t == "inet" || t == "cidr") out.push_back("('10.0.0.0'::inet + g)" + cast);
  switch (c.typtype == 'e' ? 'E' : c.category) {
    case 'N':
      out.push_back("g" + cast);
      break;
    case 'S':
      out.push_back("('s' || g)" + cast);
      break;
    case 'D':
      out.push_back("(TIMESTAMPTZ '2020-01-01 00:00:00+00' + g * interval '1 second')" + cast);
      break;
    case 'T':
      out.push_back("(g * interval '1 second')" + cast);
      break;
    case 'E':
      out.push_back("(pg_catalog.enum_range(NULL" + cast + "))[1 + g % pg_catalog.cardinality(" +
                    "pg_catalog.enum_range(NULL" + cast + "))]");
      break;
    case 'A':
      out.push_back("'{}'" + cast);
      break;
    case 'R':
      out.push_back("('[' || g || ',' || (g + 1) || ')')" + cast);
      out.push_back("'empty'" + cast);
      break;
    default:
      break;
  }
  // Extension and other types by their text input: ltree ('s1'), citext, hstore (''), xml,
  // macaddr (12 hex digits), point, numeric-like types, domains over any of these.
  for (const char* text :
       {"('s' || g)", "g::text", "pg_catalog.lpad(pg_catalog.to_hex(g), 12, '0')",
        "('(' || g || ',' || g || ')')", "''", "'{}'", "'0'"}) {
    out.push_back(std::string(text) + cast);
  }
  return out;
}

// Column names aggregated one per line (a name may hold any character but a newline, in
// practice; a text[] literal would need unquoting).
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

Status FillSampleRows(pg::Connection& shadow, int rows, std::vector<std::string>* warnings) {
  if (rows <= 0) return Status::Ok();
  auto warn = [&](const std::string& message) {
    if (warnings) warnings->push_back("--sample-rows: " + message);
  };
  TANDEM_ASSIGN_OR_RETURN(
      auto cols,
      shadow.Query(
          "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname), "
          "a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), t.typcategory, "
          "a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', "
          "t.typtype, coalesce(b.typname, t.typname) "
          "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
          "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
          "AND NOT a.attisdropped JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
          "LEFT JOIN pg_catalog.pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype "
          "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
          "AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' "
          "AND n.nspname !~ '^pg_(toast|temp_)' "
          "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = "
          "'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e') "
          "ORDER BY 1, a.attnum"));
  std::map<std::string, Table> tables;
  for (size_t r = 0; r < cols.rows(); ++r) {
    Table& t = tables[cols.Get(r, 0)];
    t.qualified = cols.Get(r, 0);
    Column c;
    c.name = cols.Get(r, 1);
    c.type = cols.Get(r, 2);
    c.category = cols.Get(r, 3)[0];
    c.not_null = cols.GetBool(r, 4);
    c.skip = cols.GetBool(r, 5);
    c.typtype = cols.Get(r, 6)[0];
    c.typname = cols.Get(r, 7);
    t.columns.push_back(std::move(c));
  }
  TANDEM_ASSIGN_OR_RETURN(
      auto fks,
      shadow.Query(
          "SELECT pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(cc.relname), "
          "pg_catalog.quote_ident(pn.nspname) || '.' || pg_catalog.quote_ident(pc.relname), "
          "(SELECT pg_catalog.string_agg(a.attname, E'\\n' ORDER BY k.i) FROM pg_catalog.unnest("
          "co.conkey) WITH ORDINALITY k(n, i) JOIN pg_catalog.pg_attribute a "
          "ON a.attrelid = co.conrelid AND a.attnum = k.n), "
          "(SELECT pg_catalog.string_agg(a.attname, E'\\n' ORDER BY k.i) FROM pg_catalog.unnest("
          "co.confkey) WITH ORDINALITY k(n, i) JOIN pg_catalog.pg_attribute a "
          "ON a.attrelid = co.confrelid AND a.attnum = k.n) "
          "FROM pg_catalog.pg_constraint co "
          "JOIN pg_catalog.pg_class cc ON cc.oid = co.conrelid "
          "JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace "
          "JOIN pg_catalog.pg_class pc ON pc.oid = co.confrelid "
          "JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace "
          "WHERE co.contype = 'f' ORDER BY co.conname"));
  for (size_t r = 0; r < fks.rows(); ++r) {
    auto child = tables.find(fks.Get(r, 0));
    if (child == tables.end()) continue;
    ForeignKey fk;
    fk.columns = Lines(fks.Get(r, 2));
    fk.parent = fks.Get(r, 1);
    fk.parent_columns = Lines(fks.Get(r, 3));
    for (const auto& c : child->second.columns) {
      if (c.not_null && std::find(fk.columns.begin(), fk.columns.end(), c.name) != fk.columns.end())
        fk.required = true;
    }
    if (fk.columns.size() == fk.parent_columns.size() && !fk.columns.empty())
      child->second.foreign_keys.push_back(std::move(fk));
  }

  // The first candidate expression the server accepts, per type (a probe of two rows).
  std::map<std::string, std::string> generator;
  auto value_for = [&](const Column& c) -> std::string {
    auto it = generator.find(c.type);
    if (it != generator.end()) return it->second;
    std::string found;
    for (const auto& candidate : Candidates(c)) {
      if (shadow.Query("SELECT " + candidate + " FROM pg_catalog.generate_series(1, 2) g").ok()) {
        found = candidate;
        break;
      }
    }
    generator[c.type] = found;
    return found;
  };

  // The INSERT for `table`, with the columns of its required foreign keys (and of optional
  // key `also`, -1 for none) from parent rows; nullopt with `impossible` set when a NOT NULL
  // column has no generator.
  auto build = [&](const std::string& name, const Table& table, int also,
                   std::vector<std::string>& impossible) -> std::string {
    std::string ctes, from = "pg_catalog.generate_series(1, " + std::to_string(rows) + ") g";
    std::vector<std::string> names, values;
    std::set<std::string> from_parent;
    for (size_t k = 0; k < table.foreign_keys.size(); ++k) {
      const ForeignKey& fk = table.foreign_keys[k];
      bool taken = false;
      for (const auto& c : fk.columns) taken |= from_parent.count(c) > 0;
      if ((!fk.required && static_cast<int>(k) != also) || taken) continue;
      if (fk.parent == name) {
        impossible.push_back("foreign key to itself on (" + fk.columns.front() + ")");
        continue;
      }
      // Row g of the child takes row (g - 1) % count of the parent: distinct parents while
      // there are enough, so one-to-one keys (unique referencing columns) fill too.
      std::string cte = "fk" + std::to_string(k), list;
      for (size_t i = 0; i < fk.parent_columns.size(); ++i) {
        list += pg::QuoteIdentifier(fk.parent_columns[i]) + " AS c" + std::to_string(i) + ", ";
      }
      ctes += (ctes.empty() ? "WITH " : ", ") + cte + " AS (SELECT " + list +
              "pg_catalog.row_number() OVER () - 1 AS rn FROM " + fk.parent + ")";
      from += " JOIN " + cte + " ON " + cte + ".rn = (g - 1) % (SELECT pg_catalog.count(*) FROM " +
              fk.parent + ")";
      for (size_t i = 0; i < fk.columns.size(); ++i) {
        names.push_back(pg::QuoteIdentifier(fk.columns[i]));
        values.push_back(cte + ".c" + std::to_string(i));
        from_parent.insert(fk.columns[i]);
      }
    }
    std::set<std::string> optional_fk;  // nullable foreign key columns: left NULL
    for (const auto& fk : table.foreign_keys) {
      if (!fk.required) optional_fk.insert(fk.columns.begin(), fk.columns.end());
    }
    for (const auto& c : table.columns) {
      if (c.skip || from_parent.count(c.name) || optional_fk.count(c.name)) continue;
      std::string value = value_for(c);
      if (value.empty()) {
        if (c.not_null) impossible.push_back(c.name + " (" + c.type + ")");
        continue;
      }
      names.push_back(pg::QuoteIdentifier(c.name));
      values.push_back(value);
    }
    if (names.empty()) {
      return "DO $tandem$ BEGIN FOR i IN 1.." + std::to_string(rows) + " LOOP INSERT INTO " + name +
             " DEFAULT VALUES; END LOOP; END $tandem$";
    }
    std::string list, exprs;
    for (size_t i = 0; i < names.size(); ++i) {
      list += (i ? ", " : "") + names[i];
      exprs += (i ? ", " : "") + values[i];
    }
    return ctes + (ctes.empty() ? "" : " ") + "INSERT INTO " + name + " (" + list + ") SELECT " +
           exprs + " FROM " + from;
  };

  // Parents before children: a table is filled once every parent of its required foreign
  // keys has rows (and, while that leaves something to do, of its optional ones too). A parent
  // that could not be filled leaves its children empty, named.
  std::set<std::string> filled, failed;
  bool progress = true, wait_for_optional = true;
  while (progress && filled.size() + failed.size() < tables.size()) {
    progress = false;
    for (auto& [name, table] : tables) {
      if (filled.count(name) || failed.count(name)) continue;
      bool ready = true;
      std::string missing_parent;
      for (const auto& fk : table.foreign_keys) {
        if (fk.parent == name || filled.count(fk.parent)) continue;
        if (!fk.required && (!wait_for_optional || failed.count(fk.parent))) continue;
        ready = false;
        if (fk.required && failed.count(fk.parent)) missing_parent = fk.parent;
      }
      if (!missing_parent.empty()) {
        failed.insert(name);
        progress = true;
        warn("could not fill " + name + ": its parent " + missing_parent + " has no rows");
        continue;
      }
      if (!ready) continue;
      progress = true;
      std::vector<std::string> impossible;
      std::string sql = build(name, table, -1, impossible);
      if (!impossible.empty()) {
        std::string list;
        for (const auto& i : impossible) list += (list.empty() ? "" : ", ") + i;
        warn("no value generator for " + name + ": " + list + "; the table stays empty");
        failed.insert(name);
        continue;
      }
      Status s = shadow.Exec(sql);
      // A CHECK such as num_nonnulls(a_id, b_id) = 1 wants one of the nullable foreign keys
      // filled: try each in turn.
      for (size_t k = 0; !s.ok() && s.sqlstate() == "23514" && k < table.foreign_keys.size(); ++k) {
        const ForeignKey& fk = table.foreign_keys[k];
        if (fk.required || fk.parent == name || !filled.count(fk.parent)) continue;
        std::vector<std::string> ignored;
        if (shadow.Exec(build(name, table, static_cast<int>(k), ignored)).ok()) s = Status::Ok();
      }
      if (s.ok()) {
        filled.insert(name);
      } else {
        failed.insert(name);
        warn("could not fill " + name + ": " + s.message());
      }
    }
    if (!progress && wait_for_optional) {
      wait_for_optional = false;  // optional keys in a cycle: stay NULL
      progress = true;
    }
  }
  for (const auto& [name, table] : tables) {
    if (!filled.count(name) && !failed.count(name)) {
      warn("could not fill " + name + ": its required foreign keys form a cycle");
    }
  }
  return shadow.Exec("ANALYZE");
}

}  // namespace tandem::verify
