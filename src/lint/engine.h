// The lint engine: runs every rule over each statement of a sequence of migrations, replaying
// the schema model as it goes, tracking the transaction each statement runs in, applying
// `-- tandem:allow` suppressions and tandem.toml's severity settings. Parsing, the expensive
// part, runs on all cores; the replay is sequential per sequence (it depends on order).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lint/finding.h"
#include "lint/rule.h"
#include "lint/schema.h"
#include "migrate/migration.h"

namespace tandem::lint {

// One migration's up section, as the engine needs it.
struct LintUnit {
  MigrationInfo info;
  std::string text;   // the section's SQL
  int text_line = 1;  // the line of the file on which `text` starts
  std::vector<migrate::Allow> file_allows;
  std::vector<migrate::StatementAllow> statement_allows;
  // Set when the section was split already (release and verify split before they lint): its
  // statements, linted instead of `text` (left empty). Points into the migration, which must
  // outlive the lint. `unwrapped`: the BEGIN/COMMIT wrapper the split
  // dropped (counted as statements, as when linted from the text).
  const std::vector<migrate::Statement>* statements = nullptr;
  bool unwrapped = false;
  // false: replayed into the schema model only (earlier migrations), no findings.
  bool report = true;
  // The down section, checked for syntax only (the rules judge what applying runs): a down
  // section that does not parse is a syntax-error finding in its own file. Empty: none.
  std::string down_text;
  std::string down_file;
  int down_text_line = 1;
};

// Migrations in apply order; the schema model carries from one to the next.
using LintSequence = std::vector<LintUnit>;

struct LintOptions {
  PgVersion version;
  std::string version_source = "default";
  // tandem.toml [lint.rules]: rule id -> "off" | "error" | "warning" | "info".
  std::map<std::string, std::string> rule_settings;
  int threads = 0;  // 0: all cores
  // A unit's text above this many bytes is parsed and linted a piece at a time by its
  // sequence's thread, instead of parsed whole ahead of time: the statement model of a 50 MB
  // seed file would take gigabytes. (Tests set it to 0 to lint everything that way.)
  size_t stream_above_bytes = 4 << 20;
};

// Builds a LintUnit from a loaded migration (its up section and directives).
LintUnit UnitFromMigration(const migrate::Migration& migration, bool report);

// Lints every sequence; sequences are independent (separate directories). `initial` is the
// schema before the first migration of every sequence (empty, or read from a live catalog).
// Never fails: a file that does not parse becomes a syntax-error finding.
LintReport LintSequences(const std::vector<LintSequence>& sequences, const Schema& initial,
                         const LintOptions& options);

// Checks tandem.toml's [lint.rules]: known ids and values. kInvalidInput otherwise.
Status ValidateRuleSettings(const std::map<std::string, std::string>& settings);

}  // namespace tandem::lint
