// Test helpers for the lint tests: lint SQL text as one migration, with earlier migrations
// replayed first, and collect the rule ids that fired.
#pragma once

#include <string>
#include <vector>

#include "lint/engine.h"

namespace tandem::lint::testing {

struct Case {
  std::string sql;
  std::string prior = "";  // an earlier migration (schema), may be empty
  migrate::Phase phase = migrate::Phase::kPreDeploy;
  int pg = 15;
  int minor = -1;
  bool transactional = true;
};

inline LintReport LintCase(const Case& c) {
  LintSequence seq;
  if (!c.prior.empty()) {
    LintUnit prior;
    prior.info.file = "1_prior.sql";
    prior.text = c.prior;
    prior.report = false;
    seq.push_back(prior);
  }
  LintUnit unit;
  unit.info.file = "2_test.sql";
  unit.info.phase = c.phase;
  unit.info.transactional = c.transactional;
  unit.text = c.sql;
  seq.push_back(unit);
  LintOptions options;
  options.version.major = c.pg;
  options.version.minor = c.minor;
  options.threads = 1;
  return LintSequences({seq}, Schema(), options);
}

inline bool Fires(const std::string& rule, const Case& c) {
  for (const auto& f : LintCase(c).findings) {
    if (f.rule == rule) return true;
  }
  return false;
}

}  // namespace tandem::lint::testing
