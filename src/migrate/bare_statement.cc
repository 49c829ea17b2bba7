#include "migrate/bare_statement.h"

#include <algorithm>
#include <cctype>

#include "sql/ast.h"

namespace tandem::migrate {
namespace {

Result<std::string> RegClass(pg::Connection& connection, const std::string& sql_name) {
  TANDEM_ASSIGN_OR_RETURN(auto result,
                          connection.Query("SELECT pg_catalog.to_regclass($1)::oid", {sql_name}));
  return result.rows() == 0 || result.IsNull(0, 0) ? std::string() : result.Get(0, 0);
}

// INVALID indexes on `table_oid` whose name ends as a concurrent reindex names its copies.
Result<std::vector<std::string>> ReindexLeftovers(pg::Connection& connection,
                                                  const std::string& table_oid) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query("SELECT 'DROP INDEX CONCURRENTLY IF EXISTS ' || "
                       "pg_catalog.quote_ident(n.nspname) || '.' || "
                       "pg_catalog.quote_ident(c.relname) "
                       "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = "
                       "i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE NOT i.indisvalid AND i.indrelid = $1::oid "
                       "AND c.relname ~ '_cc(new|old)[0-9]*$' ORDER BY c.relname",
                       {table_oid}));
  std::vector<std::string> out;
  for (size_t r = 0; r < result.rows(); ++r) out.push_back(result.Get(r, 0));
  return out;
}

Status CannotTell(const Statement& statement, const std::string& why) {
  return Status::Failed("cannot tell whether the interrupted statement completed")
      .WithLocation(statement.location)
      .WithDetail(why +
                  "; it runs outside a transaction, so its progress could not be recorded "
                  "together with it, and running it again might apply it twice")
      .WithHint(
          "check the database: if the statement completed, remove it from the file; if not, "
          "leave it; then run again");
}

}  // namespace

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

BareStatement ClassifyBare(const Statement& statement) {
  BareStatement bare;
  // Every statement of a transaction-off migration comes through here; only one naming one of
  // these words can be refused inside a transaction block, so the rest skip a second parse.
  static constexpr std::string_view kWords[] = {"CONCURRENTLY", "VACUUM",   "REINDEX",
                                                "CLUSTER",      "DATABASE", "TABLESPACE",
                                                "SUBSCRIPTION", "SYSTEM"};
  if (std::none_of(std::begin(kWords), std::end(kWords),
                   [&](std::string_view w) { return ContainsIgnoreCase(statement.sql, w); })) {
    return bare;
  }
  auto parsed = sql::ParseStatements(statement.sql);
  if (!parsed.ok() || parsed->size() != 1) return bare;
  const sql::Statement& st = parsed->front();
  using sql::StatementKind;
  switch (st.kind) {
    case StatementKind::kCreateIndex:
      if (st.concurrent) {
        bare.kind = BareKind::kCreateIndexConcurrently;
        if (!st.index_name.empty()) {
          // The index lives in its table's schema.
          bare.index = sql::QualifiedName{st.relation.schema, st.index_name}.ToSql();
        }
        bare.table = st.relation.ToSql();
      }
      break;
    case StatementKind::kDropIndex:
      if (st.concurrent) {
        bare.kind = BareKind::kDropIndexConcurrently;
        bare.index = st.relation.ToSql();
      }
      break;
    case StatementKind::kReindex:
      if (st.concurrent && (st.reindex_target == "INDEX" || st.reindex_target == "TABLE")) {
        bare.kind = BareKind::kReindexConcurrently;
        (st.reindex_target == "INDEX" ? bare.index : bare.table) = st.relation.ToSql();
      } else if (st.concurrent || st.reindex_target == "SYSTEM" ||
                 st.reindex_target == "DATABASE") {
        bare.kind = BareKind::kMaintenance;
      }
      break;
    case StatementKind::kVacuum:
      bare.kind = BareKind::kMaintenance;
      break;
    case StatementKind::kCluster:
      if (st.relation.empty()) bare.kind = BareKind::kMaintenance;
      break;
    case StatementKind::kAlterTable:
      for (const sql::AlterCmd& cmd : st.cmds) {
        if (cmd.action == sql::AlterAction::kDetachPartition && cmd.concurrent) {
          bare.kind = BareKind::kDetachPartitionConcurrently;
          bare.table = st.relation.ToSql();
          bare.partition = cmd.partition.ToSql();
        }
      }
      break;
    case StatementKind::kDropDatabase:
      bare.kind = BareKind::kUnknown;
      break;
    default:
      if (st.node == "CreatedbStmt" || st.node == "CreateTableSpaceStmt" ||
          st.node == "DropTableSpaceStmt" || st.node == "AlterSystemStmt" ||
          st.node == "CreateSubscriptionStmt" || st.node == "DropSubscriptionStmt") {
        bare.kind = BareKind::kUnknown;
      }
      break;
  }
  return bare;
}

Result<BareResume> PlanBareResume(pg::Connection& connection, const BareStatement& bare,
                                  const Statement& statement) {
  BareResume plan;
  switch (bare.kind) {
    case BareKind::kNone:
      return plan;
    case BareKind::kCreateIndexConcurrently: {
      if (bare.index.empty()) {
        return CannotTell(statement, "the index has no name, so it cannot be found")
            .WithHint(
                "name the index in the statement (it has not been recorded as applied, so it may "
                "be edited) and run again: tandem then checks it by name; or check pg_indexes, "
                "and remove the statement if the index exists and is valid");
      }
      TANDEM_ASSIGN_OR_RETURN(auto result,
                              connection.Query("SELECT i.indisvalid FROM pg_catalog.pg_index i "
                                               "WHERE i.indexrelid = pg_catalog.to_regclass($1)",
                                               {bare.index}));
      if (result.rows() == 0) {
        plan.explanation = "index " + bare.index + " does not exist: building it";
      } else if (result.GetBool(0, 0)) {
        plan.done = true;
        plan.explanation = "index " + bare.index + " exists and is valid: the build completed";
      } else {
        plan.cleanup.push_back("DROP INDEX CONCURRENTLY IF EXISTS " + bare.index);
        plan.explanation = "index " + bare.index +
                           " exists but is INVALID (the build was interrupted): "
                           "dropping it concurrently and building it again";
      }
      return plan;
    }
    case BareKind::kDropIndexConcurrently: {
      TANDEM_ASSIGN_OR_RETURN(std::string oid, RegClass(connection, bare.index));
      if (oid.empty()) {
        plan.done = true;
        plan.explanation = "index " + bare.index + " no longer exists: the drop completed";
      } else {
        plan.explanation = "index " + bare.index + " still exists: dropping it";
      }
      return plan;
    }
    case BareKind::kReindexConcurrently: {
      std::string table_oid;
      if (!bare.table.empty()) {
        TANDEM_ASSIGN_OR_RETURN(table_oid, RegClass(connection, bare.table));
      } else {
        TANDEM_ASSIGN_OR_RETURN(auto result,
                                connection.Query("SELECT indrelid FROM pg_catalog.pg_index "
                                                 "WHERE indexrelid = pg_catalog.to_regclass($1)",
                                                 {bare.index}));
        if (result.rows() > 0) table_oid = result.Get(0, 0);
      }
      if (!table_oid.empty()) {
        TANDEM_ASSIGN_OR_RETURN(plan.cleanup, ReindexLeftovers(connection, table_oid));
      }
      plan.explanation =
          "a concurrent reindex has the same effect when repeated: running it again" +
          std::string(plan.cleanup.empty() ? "" : ", after dropping the copies it left");
      return plan;
    }
    case BareKind::kDetachPartitionConcurrently: {
      TANDEM_ASSIGN_OR_RETURN(
          auto result, connection.Query("SELECT inhdetachpending FROM pg_catalog.pg_inherits "
                                        "WHERE inhrelid = pg_catalog.to_regclass($1) "
                                        "AND inhparent = pg_catalog.to_regclass($2)",
                                        {bare.partition, bare.table}));
      if (result.rows() == 0) {
        plan.done = true;
        plan.explanation = bare.partition + " is no longer a partition of " + bare.table +
                           ": the detach completed";
      } else if (result.GetBool(0, 0)) {
        plan.replacement =
            "ALTER TABLE " + bare.table + " DETACH PARTITION " + bare.partition + " FINALIZE";
        plan.explanation = "the detach of " + bare.partition +
                           " was interrupted and is pending: finishing it with FINALIZE";
      } else {
        plan.explanation = bare.partition + " is still attached: detaching it";
      }
      return plan;
    }
    case BareKind::kMaintenance:
      plan.explanation = "maintenance has the same effect when repeated: running it again";
      return plan;
    case BareKind::kUnknown:
      return CannotTell(statement, "tandem has no way to read its effect from the catalog");
  }
  return plan;
}

}  // namespace tandem::migrate
