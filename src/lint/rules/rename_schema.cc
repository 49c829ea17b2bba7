// rename-schema: ALTER SCHEMA ... RENAME TO breaks every query of the running app that names
// the old schema, or finds its tables through a search_path that lists it ("relation does not
// exist"). The same trick as rename-table keeps the old names working: a schema with the old
// name whose views point at the renamed tables (simple views are updatable).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kRenameSchema) return;
  std::string from = Ident(st.old_name), to = Ident(st.new_name);
  RawFinding f;
  f.rule = &kRenameSchema;
  f.offset = st.offset;
  f.lock = "none on tables (a catalog change on schema " + from + ")";
  f.message = "renaming schema " + from + " to " + to +
              " breaks the app version that still names " + from +
              ": its queries fail with \"relation does not exist\"";
  f.recipe = "BEGIN;\nALTER SCHEMA " + from + " RENAME TO " + to + ";\nCREATE SCHEMA " + from +
             ";\nCREATE VIEW " + from + ".<table> AS SELECT * FROM " + to +
             ".<table>;  -- one per table the old app uses\nCOMMIT;\n"
             "-- post-deploy, once no code uses the old name:\nDROP SCHEMA " +
             from + " CASCADE;";
  c.Report(std::move(f));
}

}  // namespace

const Rule kRenameSchema = {
    "rename-schema",
    Severity::kError,
    "ALTER SCHEMA ... RENAME TO",
    "during a rolling deploy the app version that still uses the old schema name fails every "
    "query on its tables",
    "none on tables (a catalog change on the schema)",
    "nothing, but every query naming the old schema fails",
    "all",
    "BEGIN; ALTER SCHEMA old RENAME TO new; CREATE SCHEMA old;\n"
    "CREATE VIEW old.t AS SELECT * FROM new.t;  -- per table; COMMIT;\n"
    "-- post-deploy: DROP SCHEMA old CASCADE;",
    "ALTER SCHEMA billing RENAME TO invoicing;",
    &Check,
};

}  // namespace tandem::lint::rules
