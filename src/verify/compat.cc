// Old-app compatibility checks (see compat.h).
#include "verify/compat.h"

#include <cctype>

#include "base/process.h"
#include "pg/quote.h"
#include "sql/parser.h"

namespace tandem::verify {
namespace {

constexpr const char* kStatementName = "tandem_verify_compat";

// Statements that cannot change what an old query means: no need to prepare again after them.
bool ChangesSchema(const std::string& sql) {
  size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i++]))));
  }
  return !(word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "SELECT" ||
           word == "VALUES" || word == "SET" || word == "RESET" || word == "ANALYZE");
}

}  // namespace

std::vector<OldQuery> ShapeQueries(const std::vector<std::string>& texts, const std::string& source,
                                   std::vector<std::string>* skipped) {
  std::vector<OldQuery> out;
  for (const auto& text : texts) {
    auto shapes = sql::ShapeStatements(text);
    if (!shapes.ok() || shapes->size() != 1) {
      if (skipped) skipped->push_back("does not parse as one statement: " + text.substr(0, 80));
      continue;
    }
    out.push_back(OldQuery{text, source, shapes->front()});
  }
  return out;
}

Result<std::vector<OldQuery>> ReadOldQueriesFile(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto split = sql::SplitStatements(text);
  if (!split.ok()) {
    Status status = split.status();
    SourceLocation location = status.location();
    location.file = path;
    return std::move(status.WithLocation(location)).Prefix("reading old-app queries");
  }
  std::vector<OldQuery> out;
  for (const auto& statement : *split) {
    auto shapes = sql::ShapeStatements(statement.text);
    if (!shapes.ok() || shapes->size() != 1) continue;
    out.push_back(OldQuery{statement.text, path + ":" + std::to_string(statement.start.line),
                           shapes->front()});
  }
  return out;
}

Result<std::vector<OldQuery>> ReadPgStatStatements(pg::Connection& target,
                                                   std::vector<std::string>* warnings, int limit) {
  TANDEM_ASSIGN_OR_RETURN(auto ext,
                          target.Query("SELECT n.nspname FROM pg_catalog.pg_extension e JOIN "
                                       "pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
                                       "WHERE e.extname = 'pg_stat_statements'"));
  if (ext.rows() == 0) {
    return Status::InvalidInput("pg_stat_statements is not installed on the target database")
        .WithHint(
            "run CREATE EXTENSION pg_stat_statements there (it must also be in "
            "shared_preload_libraries), or pass the queries with --old-queries FILE");
  }
  // Statements of other roles show no text (and no queryid) unless the session may read all
  // statistics: counted, so that a role that sees nothing does not pass verify silently.
  std::string from = "FROM " + pg::QuoteIdentifier(ext.Get(0, 0)) +
                     ".pg_stat_statements s JOIN pg_catalog.pg_database d ON d.oid = s.dbid "
                     "WHERE d.datname = pg_catalog.current_database() AND ";
  auto rows = target.Query(
      "SELECT s.query " + from + "s.queryid IS NOT NULL ORDER BY s.calls DESC LIMIT $1",
      {std::to_string(limit)});
  if (!rows.ok()) {
    Status status = rows.status();
    // The extension is created, but its library was not preloaded when the server started.
    if (status.sqlstate() == "55000") {
      return Status::InvalidInput(
                 "pg_stat_statements is installed on the target database but not loaded")
          .WithDetail(status.message())
          .WithHint(
              "add pg_stat_statements to shared_preload_libraries on the target's server and "
              "restart it, or pass the queries with --old-queries FILE");
    }
    return std::move(status).Prefix("could not read pg_stat_statements");
  }
  auto hidden = target.Query("SELECT count(*), current_user " + from + "s.queryid IS NULL");
  if (hidden.ok() && hidden->rows() == 1 && hidden->GetInt(0, 0) > 0 && warnings) {
    warnings->push_back(hidden->Get(0, 0) +
                        " statement(s) in pg_stat_statements belong to other roles "
                        "and are hidden from role \"" +
                        hidden->Get(0, 1) +
                        "\": they are not checked; grant it pg_read_all_stats to check them");
  }
  std::vector<std::string> texts;
  for (size_t r = 0; r < rows->rows(); ++r) texts.push_back(rows->Get(r, 0));
  return ShapeQueries(texts, "pg_stat_statements", nullptr);
}

CompatChecker::CompatChecker(std::vector<OldQuery> queries)
    : queries_(std::move(queries)), live_(queries_.size(), false) {
  summary_.queries = static_cast<int>(queries_.size());
}

std::optional<Status> CompatChecker::TryPrepare(pg::Connection& shadow, const std::string& query,
                                                bool in_transaction) {
  // A failed PREPARE aborts the migration's transaction; a savepoint keeps it alive. It is
  // rolled back to after a successful PREPARE too: that releases the locks the PREPARE took
  // (RELEASE would hand them to the migration's transaction, and the tracer would report them
  // on the migration's next statement). Prepared statements are not transactional.
  if (in_transaction) {
    if (Status s = shadow.Exec("SAVEPOINT tandem_verify_compat"); !s.ok()) return s;
  }
  Status prepared = shadow.Exec(std::string("PREPARE ") + kStatementName + " AS " + query);
  if (prepared.ok()) shadow.Exec(std::string("DEALLOCATE ") + kStatementName);
  if (in_transaction) {
    shadow.Exec("ROLLBACK TO SAVEPOINT tandem_verify_compat");
    shadow.Exec("RELEASE SAVEPOINT tandem_verify_compat");
  }
  if (prepared.ok()) return std::nullopt;
  return prepared;
}

std::optional<std::string> CompatChecker::MissingNotNull(pg::Connection& shadow,
                                                         const OldQuery& query) {
  const auto& shape = query.shape;
  if (shape.node != "InsertStmt" || shape.insert_table.name.empty()) return std::nullopt;
  if (shape.insert_columns.empty() && shape.insert_value_count < 0) return std::nullopt;
  std::string table = shape.insert_table.schema.empty()
                          ? pg::QuoteIdentifier(shape.insert_table.name)
                          : pg::QuoteQualified(shape.insert_table.schema, shape.insert_table.name);
  auto rows = shadow.Query(
      "SELECT a.attname, a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' "
      "AND a.attgenerated = '' FROM pg_catalog.pg_attribute a "
      "WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
      "ORDER BY a.attnum",
      {table});
  if (!rows.ok()) return std::nullopt;
  for (size_t r = 0; r < rows->rows(); ++r) {
    if (!rows->GetBool(r, 1)) continue;
    const std::string& column = rows->Get(r, 0);
    bool filled = false;
    if (shape.insert_columns.empty()) {
      filled = static_cast<int>(r) < shape.insert_value_count;
    } else {
      for (const auto& c : shape.insert_columns) filled |= c == column;
    }
    if (!filled) {
      return "column \"" + column + "\" of relation \"" + shape.insert_table.name +
             "\" is NOT NULL without a default, and this INSERT does not set it: every call "
             "fails with a not-null violation";
    }
  }
  return std::nullopt;
}

Status CompatChecker::Baseline(pg::Connection& shadow) {
  for (size_t i = 0; i < queries_.size(); ++i) {
    const OldQuery& q = queries_[i];
    if (!q.shape.preparable) {
      ++summary_.skipped;
      summary_.skipped_reasons.push_back(q.source + ": not a query PREPARE accepts (" +
                                         q.shape.node + ")");
      continue;
    }
    auto error = TryPrepare(shadow, q.sql, shadow.in_transaction());
    if (error) {
      if (!shadow.alive()) return *error;
      ++summary_.skipped;
      summary_.skipped_reasons.push_back(
          q.source + ": does not prepare on the current schema: " + error->message());
      continue;
    }
    live_[i] = true;
    ++summary_.checked;
  }
  return Status::Ok();
}

void CompatChecker::AfterStatement(pg::Connection& shadow, const migrate::Migration& migration,
                                   const StatementTrace& trace, const CatalogSnapshot& before,
                                   const CatalogSnapshot& after, bool in_transaction) {
  if (!ChangesSchema(trace.sql)) return;
  for (size_t i = 0; i < queries_.size(); ++i) {
    if (!live_[i]) continue;
    CompatBreak broken;
    auto error = TryPrepare(shadow, queries_[i].sql, in_transaction);
    if (error) {
      broken.error = error->message();
      broken.sqlstate = error->sqlstate();
    } else if (auto missing = MissingNotNull(shadow, queries_[i])) {
      broken.error = *missing;
    } else {
      continue;
    }
    live_[i] = false;
    broken.query = queries_[i].sql;
    broken.query_source = queries_[i].source;
    broken.version = migration.version;
    broken.statement_index = trace.index;
    broken.file = trace.file;
    broken.line = trace.line;
    broken.statement = trace.sql;
    breaks_.push_back(std::move(broken));
  }
}

}  // namespace tandem::verify
