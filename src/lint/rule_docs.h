// The page docs/rules/<id>.md of a rule, generated from its metadata so the catalog and the
// docs cannot drift apart (LintDocs.EveryRuleHasAnUpToDatePage checks the checked-in pages).
#pragma once

#include <string>

#include "lint/rule.h"

namespace tandem::lint {

std::string RuleMarkdown(const Rule& rule);

}  // namespace tandem::lint
