#include "expand/dual_write.h"

#include <set>
#include <string_view>

#include "pg/quote.h"

namespace tandem::expand {
namespace {

using pg::QuoteIdentifier;
using pg::QuoteQualified;

// Dollar-quotes `text` with a tag that does not occur in it, so neither the user's expressions
// nor column names can end the quoted body early; `taken` holds tags used around it.
std::string DollarQuote(std::string_view text, std::set<std::string>* taken) {
  for (int n = 0;; ++n) {
    std::string tag = n == 0 ? "$tandem$" : "$tandem" + std::to_string(n) + "$";
    if (text.find(tag) != std::string_view::npos || taken->count(tag)) continue;
    taken->insert(tag);
    return tag + std::string(text) + tag;
  }
}

std::string Paren(const std::string& sql) { return "(" + sql + ")"; }

// The statement that refuses a write needing backward_sql when the pair has none.
std::string Refusal(const DualWriteSpec& spec, const ColumnPair& pair,
                    std::set<std::string>* tags) {
  std::string message = "column " + QuoteIdentifier(pair.old_column) + " of table " +
                        QuoteQualified(spec.schema, spec.table) + " cannot be derived from " +
                        QuoteIdentifier(pair.new_column);
  std::string detail =
      "the migration gives no expression computing the old column from the new one, so only "
      "writes to the old column are kept in step while both apps run";
  std::string hint =
      "write the old column until the migration is completed, or give the migration a "
      "-- tandem:down-expression";
  return "RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', MESSAGE = " +
         DollarQuote(message, tags) + ", DETAIL = " + DollarQuote(detail, tags) +
         ", HINT = " + DollarQuote(hint, tags) + ";";
}

// old := backward(new), or the refusal when there is no backward expression.
std::string Backward(const DualWriteSpec& spec, const ColumnPair& pair,
                     std::set<std::string>* tags) {
  if (pair.backward_sql.empty()) return Refusal(spec, pair, tags);
  return "NEW." + QuoteIdentifier(pair.old_column) + " := " + Paren(pair.backward_sql) + ";";
}

// The statements for one pair; see the table in dual_write.h.
std::string PairBlock(const DualWriteSpec& spec, const ColumnPair& pair,
                      std::set<std::string>* tags) {
  const std::string old_col = "NEW." + QuoteIdentifier(pair.old_column);
  const std::string new_col = "NEW." + QuoteIdentifier(pair.new_column);
  const std::string was_old = "OLD." + QuoteIdentifier(pair.old_column);
  const std::string was_new = "OLD." + QuoteIdentifier(pair.new_column);
  const std::string forward = Paren(pair.forward_sql);
  const std::string backward = Backward(spec, pair, tags);
  std::string out;
  out +=
      "  -- " + QuoteIdentifier(pair.old_column) + " -> " + QuoteIdentifier(pair.new_column) + "\n";
  out += "  IF TG_OP = 'INSERT' THEN\n";
  out += "    IF " + new_col + " IS NULL THEN\n";
  out += "      " + new_col + " := " + forward + ";\n";
  out += "    ELSIF " + old_col + " IS NULL OR " + new_col + " IS DISTINCT FROM " + forward +
         " THEN\n";
  out += "      " + backward + "\n";
  out += "    END IF;\n";
  out += "  ELSIF " + old_col + " IS DISTINCT FROM " + was_old + " THEN\n";
  out += "    IF " + new_col + " IS NOT DISTINCT FROM " + was_new + " THEN\n";
  out += "      " + new_col + " := " + forward + ";\n";
  out += "    ELSIF " + new_col + " IS DISTINCT FROM " + forward + " THEN\n";
  out += "      " + backward + "\n";
  out += "    END IF;\n";
  out += "  ELSIF " + new_col + " IS DISTINCT FROM " + was_new + " AND " + new_col +
         " IS DISTINCT FROM " + forward + " THEN\n";
  out += "    " + backward + "\n";
  out += "  END IF;\n";
  return out;
}

std::string FunctionName(const DualWriteSpec& spec) {
  return QuoteQualified(spec.schema, spec.function_name);
}

std::string TriggerDefinition(const DualWriteSpec& spec, bool or_replace) {
  std::string columns;
  std::set<std::string> seen;
  for (const ColumnPair& pair : spec.columns) {
    for (const std::string* name : {&pair.old_column, &pair.new_column}) {
      if (!seen.insert(*name).second) continue;
      if (!columns.empty()) columns += ", ";
      columns += QuoteIdentifier(*name);
    }
  }
  // EXECUTE PROCEDURE rather than FUNCTION: the same text works on every supported version.
  return std::string(or_replace ? "CREATE OR REPLACE TRIGGER " : "CREATE TRIGGER ") +
         QuoteIdentifier(spec.trigger_name) + " BEFORE INSERT OR UPDATE OF " + columns + " ON " +
         QuoteQualified(spec.schema, spec.table) + " FOR EACH ROW EXECUTE PROCEDURE " +
         FunctionName(spec) + "()";
}

}  // namespace

Status CheckDualWriteSpec(const DualWriteSpec& spec) {
  if (spec.schema.empty() || spec.table.empty() || spec.trigger_name.empty() ||
      spec.function_name.empty()) {
    return Status::InvalidInput(
        "dual-write trigger needs a schema, table, trigger and function "
        "name");
  }
  if (spec.columns.empty()) {
    return Status::InvalidInput("dual-write trigger on " + QuoteQualified(spec.schema, spec.table) +
                                " has no column pairs");
  }
  std::set<std::string> seen;
  for (const ColumnPair& pair : spec.columns) {
    if (pair.old_column.empty() || pair.new_column.empty()) {
      return Status::InvalidInput("dual-write pair on " + QuoteQualified(spec.schema, spec.table) +
                                  " has an empty column name");
    }
    if (pair.old_column == pair.new_column) {
      return Status::InvalidInput("dual-write pair " + QuoteIdentifier(pair.old_column) +
                                  " names the same column on both sides");
    }
    if (pair.forward_sql.empty()) {
      return Status::InvalidInput("dual-write pair " + QuoteIdentifier(pair.old_column) + " -> " +
                                  QuoteIdentifier(pair.new_column) + " has no forward expression");
    }
    for (const std::string* name : {&pair.old_column, &pair.new_column}) {
      if (!seen.insert(*name).second) {
        return Status::InvalidInput("column " + QuoteIdentifier(*name) +
                                    " appears in two dual-write pairs of " +
                                    QuoteQualified(spec.schema, spec.table));
      }
    }
  }
  return Status::Ok();
}

std::string DualWriteFunctionBody(const DualWriteSpec& spec) {
  std::set<std::string> tags;
  std::string body =
      "\n-- written by tandem: keeps the old and new columns of an expand/contract migration in "
      "step\nBEGIN\n";
  for (const ColumnPair& pair : spec.columns) body += PairBlock(spec, pair, &tags);
  body += "  RETURN NEW;\nEND\n";
  return body;
}

std::vector<std::string> CreateDualWriteSql(const DualWriteSpec& spec) {
  if (!CheckDualWriteSpec(spec).ok()) return {};
  // DollarQuote skips every tag found in the body, the refusal texts' own tags included.
  std::set<std::string> tags;
  std::string body = DualWriteFunctionBody(spec);
  std::vector<std::string> sql;
  sql.push_back("CREATE OR REPLACE FUNCTION " + FunctionName(spec) +
                "() RETURNS trigger LANGUAGE plpgsql AS " + DollarQuote(body, &tags));
  if (spec.server_version_num >= 140000) {
    sql.push_back(TriggerDefinition(spec, /*or_replace=*/true));
  } else {
    // One statement, so the table is never without its trigger between the drop and the create.
    std::string block = "\nBEGIN\n  DROP TRIGGER IF EXISTS " + QuoteIdentifier(spec.trigger_name) +
                        " ON " + QuoteQualified(spec.schema, spec.table) + ";\n  " +
                        TriggerDefinition(spec, /*or_replace=*/false) + ";\nEND\n";
    sql.push_back("DO " + DollarQuote(block, &tags));
  }
  return sql;
}

std::vector<std::string> DropDualWriteSql(const DualWriteSpec& spec) {
  return {"DROP TRIGGER IF EXISTS " + QuoteIdentifier(spec.trigger_name) + " ON " +
              QuoteQualified(spec.schema, spec.table),
          "DROP FUNCTION IF EXISTS " + FunctionName(spec) + "()"};
}

}  // namespace tandem::expand
