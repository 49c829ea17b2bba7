// The rule API. A rule is a small unit (one file in src/lint/rules/) made of fixed metadata,
// which also generates its page in docs/rules/, and a check that looks at one statement with
// everything known around it: the schema before the statement, the migration's phase and
// transaction mode, what the current transaction already did, and the target PostgreSQL.
#pragma once

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lint/finding.h"
#include "lint/schema.h"
#include "migrate/migration.h"
#include "sql/ast.h"

namespace tandem::lint {

class RuleContext;

struct Rule {
  const char* id;        // stable kebab-case id; never changes once released
  Severity severity;     // default severity (tandem.toml [lint.rules] may change it)
  const char* summary;   // what the rule finds, one line
  const char* why;       // one sentence: what goes wrong in production
  const char* lock;      // the lock taken; "{table}" is replaced by the statement's table
  const char* blocks;    // what the lock blocks: "reads, writes and schema changes"
  const char* versions;  // the PostgreSQL versions the rule applies to
  const char* recipe;    // the safe alternative, generic form (docs); findings fill in names
  const char* example;   // a statement the rule fires on (docs and tests)
  void (*check)(const RuleContext& context);
};

struct MigrationInfo {
  std::string file;
  std::string version;
  migrate::Phase phase = migrate::Phase::kPreDeploy;
  bool transactional = true;
  // Background migrations: the columns of the -- tandem:batch key (0: no batch directive).
  int batch_key_columns = 0;
};

// The columns of a batch directive's key (`key=tenant,id`: 2).
inline int BatchKeyColumns(std::string_view key) {
  return 1 + static_cast<int>(std::count(key.begin(), key.end(), ','));
}

// What the open transaction has done so far (only meaningful while `active`).
struct TransactionState {
  bool active = false;
  // The first statement in this transaction that took a strong lock on an existing table.
  std::optional<sql::QualifiedName> locked_table;
  bool data_changed = false;
  std::vector<std::pair<std::string, std::string>> not_valid;    // (table key, constraint)
  std::vector<std::pair<std::string, std::string>> enum_values;  // (type, value) added
};

// A finding before the engine has placed it: the byte offset in the section text.
struct RawFinding {
  const Rule* rule = nullptr;
  size_t offset = 0;
  size_t length = 0;
  std::string message;
  std::string recipe;
  std::string lock;  // empty: the rule's lock with {table} filled in
  std::optional<Severity> severity;
};

class RuleContext {
 public:
  RuleContext(const sql::Statement& statement, const Schema& schema, const MigrationInfo& migration,
              const TransactionState& transaction, const std::set<std::string>& created_tables,
              bool utc_session, PgVersion version, std::vector<RawFinding>& sink)
      : statement(statement),
        schema(schema),
        migration(migration),
        transaction(transaction),
        utc_session(utc_session),
        version(version),
        created_tables_(created_tables),
        sink_(sink) {}

  const sql::Statement& statement;
  const Schema& schema;  // before this statement
  const MigrationInfo& migration;
  const TransactionState& transaction;
  bool utc_session;  // SET TIME ZONE 'UTC' seen earlier in the migration
  PgVersion version;
  // Set on the statement `up` refuses as transaction control (migrate::UnwrapTransactionControl):
  // the runner's error, which lint reports word for word.
  const Status* refusal = nullptr;

  // Created earlier in this migration: exempt from lock rules (nobody else can see it yet).
  bool IsNewTable(const sql::QualifiedName& table) const;
  bool IsPreDeploy() const { return migration.phase == migrate::Phase::kPreDeploy; }
  bool InTransaction() const { return transaction.active; }

  void Report(const Rule& rule, size_t offset, std::string message, std::string recipe,
              size_t length = 0) const;
  void Report(RawFinding finding) const { sink_.push_back(std::move(finding)); }

 private:
  const std::set<std::string>& created_tables_;
  std::vector<RawFinding>& sink_;
};

// Every rule, in documentation order.
const std::vector<const Rule*>& AllRules();
const Rule* FindRule(std::string_view id);

// Rules the engine reports itself (they need no statement check).
extern const Rule kSyntaxErrorRule;
extern const Rule kBackgroundNotBatchableRule;
extern const Rule kAllowWithoutReasonRule;
extern const Rule kUnknownAllowRule;
extern const Rule kUnusedAllowRule;

}  // namespace tandem::lint
