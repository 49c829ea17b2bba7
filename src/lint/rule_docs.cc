// Rule pages from rule metadata (see rule_docs.h).
#include "lint/rule_docs.h"

namespace tandem::lint {

std::string RuleMarkdown(const Rule& rule) {
  std::string out;
  out += std::string("# ") + rule.id + "\n\n";
  out += std::string("**Default severity:** ") + std::string(SeverityName(rule.severity)) + "\n\n";
  out += std::string("## What\n\n") + rule.summary + ".\n\n";
  out += std::string("```sql\n") + rule.example + "\n```\n\n";
  out += std::string("## Why\n\n") + rule.why + ".\n\n";
  std::string lock = rule.lock;
  size_t at = lock.find("{table}");
  if (at != std::string::npos) lock.replace(at, 7, "the table");
  out += "## Lock\n\n" + lock + "; it blocks " + rule.blocks + ".\n\n";
  out += std::string("## Safe recipe\n\n```sql\n") + rule.recipe + "\n```\n\n";
  out += "Findings fill in the real table, column and constraint names of the statement.\n\n";
  out += std::string("## PostgreSQL versions\n\n") + rule.versions + ".\n\n";
  out += std::string("## Suppressing\n\n```sql\n-- tandem:allow ") + rule.id +
         " \"why this is safe here\"\n```\n\non the line before the statement, or anywhere in the "
         "file's header for the whole file. In tandem.toml, `[lint.rules]` `" +
         rule.id +
         " = \"off\"` disables the rule and `\"warning\"` or `\"info\"` changes its severity.\n";
  return out;
}

}  // namespace tandem::lint
