// The release gate (see gate.h).
#include "lint/gate.h"

#include <algorithm>

#include "lint/engine.h"
#include "lint/source.h"

namespace tandem::lint {

Result<LintReport> LintPendingPreDeploy(const migrate::MigrationSet& set,
                                        const std::vector<std::string>& pending_versions,
                                        const config::Config& config, const GateOptions& gate) {
  TANDEM_RETURN_IF_ERROR(ValidateRuleSettings(config.lint_rules));
  LintOptions options;
  options.rule_settings = config.lint_rules;
  if (gate.server_version) {
    options.version = *gate.server_version;
    options.version_source = "server";
  } else if (config.lint_pg_version) {
    options.version.major = *config.lint_pg_version;
    options.version_source = "tandem.toml";
  }
  std::vector<std::string> only;
  for (const auto& m : set.migrations) {
    bool pending = std::find(pending_versions.begin(), pending_versions.end(), m.version) !=
                   pending_versions.end();
    if (pending && m.phase == migrate::Phase::kPreDeploy) only.push_back(m.version);
  }
  LintSequence seq = SequenceFromSet(set, &only);
  // Release never runs a down section: one that does not parse must not block it (`tandem
  // lint` and `tandem down` report it).
  for (LintUnit& unit : seq) unit.down_text.clear();
  return LintSequences({seq}, Schema(), options);
}

}  // namespace tandem::lint
