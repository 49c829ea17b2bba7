#include "sql/column_refs.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include "pg/quote.h"
#include "sql/ast_expr.h"
#include "sql/parser.h"

namespace tandem::sql {
namespace {

using internal::Json;

// (offset, new name) of every reference to rename, from the tree.
void Collect(const Json& node, const std::map<std::string, std::string>& renames,
             std::vector<std::pair<size_t, std::string>>& out) {
  if (node.IsArray()) {
    for (const Json& child : internal::Elements(node)) Collect(child, renames, out);
    return;
  }
  if (!node.IsObject()) return;
  if (internal::Has(node, "ColumnRef")) {
    const Json& ref = internal::Child(node, "ColumnRef");
    std::vector<std::string> fields = internal::NameList(internal::Child(ref, "fields"));
    int location = internal::IntField(ref, "location", -1);
    if (fields.size() == 1 && location >= 0) {
      auto it = renames.find(fields[0]);
      if (it != renames.end()) out.emplace_back(static_cast<size_t>(location), it->second);
    }
    return;
  }
  for (auto it = node.MemberBegin(); it != node.MemberEnd(); ++it) Collect(it->value, renames, out);
}

// Where the identifier token at `i` ends: a quoted one at its closing quote ("" inside), a
// bare one at the first character that cannot continue it.
size_t TokenEnd(const std::string& text, size_t i) {
  if (i < text.size() && text[i] == '"') {
    size_t j = i + 1;
    while (j < text.size()) {
      if (text[j] == '"' && j + 1 < text.size() && text[j + 1] == '"') {
        j += 2;
        continue;
      }
      if (text[j] == '"') return j + 1;
      ++j;
    }
    return j;
  }
  size_t j = i;
  while (j < text.size() && (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_' ||
                             text[j] == '$' || static_cast<unsigned char>(text[j]) >= 0x80))
    ++j;
  return j;
}

}  // namespace

Result<std::string> RenameColumnRefs(std::string_view expression,
                                     const std::map<std::string, std::string>& renames) {
  const std::string prefix = "SELECT ";
  std::string text = prefix + std::string(expression);
  TANDEM_ASSIGN_OR_RETURN(std::string json, ParseToJson(text));
  rapidjson::Document doc;
  if (!internal::ParseTree(json, doc)) {
    return Status::InvalidInput("could not read the parse tree of expression " +
                                std::string(expression));
  }
  std::vector<std::pair<size_t, std::string>> refs;
  Collect(doc, renames, refs);
  // Replace from the end, so earlier offsets stay valid.
  std::sort(refs.begin(), refs.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [offset, name] : refs) {
    if (offset < prefix.size() || offset >= text.size()) continue;
    size_t end = TokenEnd(text, offset);
    text.replace(offset, end - offset, pg::QuoteIdentifier(name));
  }
  return text.substr(prefix.size());
}

}  // namespace tandem::sql
