// Type-change classification (see helpers.h). The facts come from the PostgreSQL 15 probe in
// research/B_linters.md §2 and appendix B: varchar widening, varchar to text or unbounded
// varchar, numeric precision widening at the same scale, numeric to unconstrained numeric and
// cidr to inet keep the relfilenode; text to varchar(n), varchar narrowing, numeric scale
// changes, int to bigint and json to jsonb rewrite the table and every index.
#include "lint/rules/helpers.h"

namespace tandem::lint::rules {
namespace {

bool IsVarchar(const sql::TypeName& t) { return t.name == "varchar"; }
bool IsText(const sql::TypeName& t) { return t.name == "text"; }

}  // namespace

TypeChange ClassifyTypeChange(const sql::TypeName* from, const sql::TypeName& to, int pg_major) {
  if (!from) return TypeChange::kUnknown;
  if (from->is_array != to.is_array) return TypeChange::kRewrite;
  if (from->name == to.name && from->modifiers == to.modifiers) return TypeChange::kSame;
  if (IsVarchar(*from) && IsVarchar(to)) {
    if (to.modifiers.empty()) return TypeChange::kNoRewrite;
    if (from->modifiers.empty()) return TypeChange::kRewrite;  // unbounded -> bounded checks
    return to.modifiers[0] >= from->modifiers[0] ? TypeChange::kNoRewrite : TypeChange::kRewrite;
  }
  if (IsVarchar(*from) && IsText(to)) return TypeChange::kNoRewrite;
  if (IsText(*from) && IsVarchar(to) && to.modifiers.empty()) return TypeChange::kNoRewrite;
  if (from->name == "numeric" && to.name == "numeric") {
    if (to.modifiers.empty()) return TypeChange::kNoRewrite;
    if (from->modifiers.empty()) return TypeChange::kRewrite;
    int from_scale = from->modifiers.size() > 1 ? from->modifiers[1] : 0;
    int to_scale = to.modifiers.size() > 1 ? to.modifiers[1] : 0;
    return (to_scale == from_scale && to.modifiers[0] >= from->modifiers[0])
               ? TypeChange::kNoRewrite
               : TypeChange::kRewrite;
  }
  if (from->name == "cidr" && to.name == "inet") return TypeChange::kNoRewrite;
  if ((from->name == "varbit" && to.name == "varbit") ||
      (from->name == "bpchar" && to.name == "bpchar")) {
    // bit varying widening is coercible; char(n) always pads, so a length change rewrites.
    if (from->name == "varbit" &&
        (to.modifiers.empty() ||
         (!from->modifiers.empty() && to.modifiers[0] >= from->modifiers[0]))) {
      return TypeChange::kNoRewrite;
    }
    return TypeChange::kRewrite;
  }
  if (from->name == "timestamp" && to.name == "timestamptz") {
    return pg_major >= 12 ? TypeChange::kRewriteUnlessUtc : TypeChange::kRewrite;
  }
  return TypeChange::kRewrite;
}

bool IsNarrowing(const sql::TypeName& from, const sql::TypeName& to) {
  auto rank = [](const std::string& n) {
    if (n == "int2") return 1;
    if (n == "int4") return 2;
    if (n == "int8") return 3;
    return 0;
  };
  if (rank(from.name) && rank(to.name)) return rank(to.name) < rank(from.name);
  bool from_string = from.name == "varchar" || from.name == "text" || from.name == "bpchar";
  if (from_string && (to.name == "varchar" || to.name == "bpchar") && !to.modifiers.empty()) {
    return from.modifiers.empty() || to.modifiers[0] < from.modifiers[0];
  }
  if (from.name == "numeric" && to.name == "numeric" && !to.modifiers.empty()) {
    if (from.modifiers.empty()) return true;
    int from_int = from.modifiers[0] - (from.modifiers.size() > 1 ? from.modifiers[1] : 0);
    int to_int = to.modifiers[0] - (to.modifiers.size() > 1 ? to.modifiers[1] : 0);
    int from_scale = from.modifiers.size() > 1 ? from.modifiers[1] : 0;
    int to_scale = to.modifiers.size() > 1 ? to.modifiers[1] : 0;
    return to_int < from_int || to_scale < from_scale;
  }
  return false;
}

}  // namespace tandem::lint::rules
