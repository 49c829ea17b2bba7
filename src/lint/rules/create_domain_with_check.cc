// create-domain-with-check: CREATE DOMAIN ... CHECK (squawk's ban-create-domain-with-constraint).
// A domain's condition can only be changed by adding a constraint and validating it, and both
// ALTER DOMAIN ADD CONSTRAINT and ALTER DOMAIN VALIDATE CONSTRAINT scan every column of the
// domain under SHARE on its table (measured on PostgreSQL 15), blocking writes. A table CHECK
// validates under SHARE UPDATE EXCLUSIVE, which lets reads and writes through.
#include <cctype>

#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

// The domain's condition for a table: VALUE (any case, outside quotes) becomes <column>.
std::string ForColumn(const std::string& condition) {
  std::string out;
  char quote = 0;
  for (size_t i = 0; i < condition.size(); ++i) {
    char ch = condition[i];
    if (quote) {
      if (ch == quote) quote = 0;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (condition.size() - i >= 5 &&
               (i == 0 || !(std::isalnum(static_cast<unsigned char>(condition[i - 1])) ||
                            condition[i - 1] == '_'))) {
      std::string word = condition.substr(i, 5);
      for (auto& w : word) w = static_cast<char>(std::toupper(static_cast<unsigned char>(w)));
      size_t after = i + 5;
      bool ends =
          after == condition.size() ||
          !(std::isalnum(static_cast<unsigned char>(condition[after])) || condition[after] == '_');
      if (word == "VALUE" && ends) {
        out += "<column>";
        i += 4;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kCreateDomain) return;
  for (const auto& k : st.table_constraints) {
    if (k.kind != sql::ConstraintKind::kCheck) continue;
    std::string type = st.domain_type.ToSql();
    std::string condition = k.check_sql.empty() ? "(...)" : ForColumn(k.check_sql);
    c.Report(kCreateDomainWithCheck, k.offset ? k.offset : st.offset,
             "domain " + st.relation.ToSql() +
                 " has a CHECK constraint; changing it later scans every column of the domain "
                 "while blocking writes to their tables",
             "-- use " + type +
                 " for the columns, with the condition as a CHECK on each table:\n"
                 "ALTER TABLE <table> ADD CONSTRAINT <table>_<column>_check CHECK " +
                 condition +
                 " NOT VALID;\n-- in a later migration (post-deploy):\n"
                 "ALTER TABLE <table> VALIDATE CONSTRAINT <table>_<column>_check;");
    return;  // one finding per domain
  }
}

}  // namespace

const Rule kCreateDomainWithCheck = {
    "create-domain-with-check",
    Severity::kInfo,
    "CREATE DOMAIN ... CHECK",
    "the condition can only be changed with ALTER DOMAIN ADD or VALIDATE CONSTRAINT, which scan "
    "every column of the domain while blocking writes to their tables; a table CHECK is validated "
    "without blocking them",
    "none (a later ALTER DOMAIN ... ADD or VALIDATE CONSTRAINT takes SHARE on every table using "
    "the domain)",
    "nothing (that later SHARE blocks writes to those tables during the scan)",
    "all",
    "ALTER TABLE t ADD CONSTRAINT t_c_check CHECK (c > 0) NOT VALID;\n"
    "ALTER TABLE t VALIDATE CONSTRAINT t_c_check;  -- a later migration",
    "CREATE DOMAIN positive_amount AS numeric CHECK (VALUE > 0);",
    &Check,
};

}  // namespace tandem::lint::rules
