// The migration model: what a migration file says, independent of its layout on disk.
//
// Loading (layouts.h) fills these from tandem/dbmate single files, golang-migrate, Diesel,
// Flyway or goose layouts. The runner, lint and release read only this model.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/status.h"

namespace tandem::migrate {

enum class Phase { kPreDeploy, kPostDeploy, kBackground };
std::string_view PhaseName(Phase phase);  // "pre-deploy", "post-deploy", "background"
std::optional<Phase> ParsePhase(std::string_view name);

enum class Layout { kTandem, kGolangMigrate, kDiesel, kFlyway, kGoose };
std::string_view LayoutName(Layout layout);  // "tandem", "golang-migrate", "diesel", ...
// Accepts the names above and "dbmate" (same as tandem).
std::optional<Layout> ParseLayout(std::string_view name);

// `-- tandem:allow <rule-id> "reason"`: a lint rule accepted, with the reason why.
struct Allow {
  std::string rule;
  std::string reason;
  SourceLocation location;
};

// One SQL statement of a section, where it stands in its file.
struct Statement {
  std::string sql;          // without the trailing semicolon
  SourceLocation location;  // file, line and column of the statement's first character
  // A `-- tandem:allow <rule> "reason"` on the line right before the statement.
  std::vector<Allow> allows;
  // `COPY ... FROM STDIN` followed by its rows in the file (as pg_dump writes seed data): the
  // rows, each ending in a newline, without the terminating `\.` line. Sent through libpq's
  // COPY protocol (ExecuteStatement). A pointer, not an optional string: most statements have
  // none, and half a million of them each paid 40 bytes for it.
  std::shared_ptr<const std::string> copy_data;
};

// An allow found right above a line of SQL by the loader's line scan; SplitSections attaches it
// to the statement that starts on `line`, or makes it file-level if none does.
struct StatementAllow {
  int line = 0;
  Allow allow;
};

// `-- tandem:batch table=users key=id size=auto` (background migrations).
struct BatchSpec {
  std::string table;
  std::string key;
  std::optional<long long> size;  // nullopt: auto
  SourceLocation location;
};

struct Section {
  bool present = false;
  SourceLocation location;   // the marker line (or the file start for layouts without markers)
  std::string path;          // the file the section is in
  std::string text;          // the section's SQL text as written, line endings normalised to LF
  size_t text_offset = 0;    // where text starts in its (normalised) file, in bytes
  size_t marker_offset = 0;  // where its marker line starts (text_offset when it has none)
  int text_line = 1;         // the line of the file on which `text` starts (always at column 1)
  // Allows waiting for SplitSections to attach them to their statements.
  std::vector<StatementAllow> statement_allows;
  // Filled by SplitSections (statement splitting is lazy: `status` never parses SQL).
  std::vector<Statement> statements;
  bool split = false;
  // Split, and the section wrapped itself in BEGIN; ... COMMIT;, which was dropped.
  bool unwrapped = false;
};

struct Migration {
  std::string version;             // digits (and dots for Flyway), as in the file name
  std::string name;                // the descriptive part of the file name
  std::vector<std::string> paths;  // every file of the migration, up first
  Phase phase = Phase::kPreDeploy;
  bool transactional = true;             // `-- tandem:transaction off` / dbmate `transaction:false`
  std::optional<Duration> lock_timeout;  // `-- tandem:lock-timeout 500ms`
  std::optional<Duration> statement_timeout;  // `-- tandem:statement-timeout 15min`
  std::vector<Allow> file_allows;             // file-level `-- tandem:allow`
  std::optional<BatchSpec> batch;
  // `-- tandem:requires`: background migrations that must have succeeded before this one.
  std::vector<std::string> required_versions;
  // `-- tandem:online`: planned as expand/contract (src/expand/), not applied as written.
  bool online = false;
  // `-- tandem:down-expression`: for an online type change, the old column from the new one.
  std::string down_expression;
  Section up;
  Section down;
  // Checksums (SHA-256, hex, of the normalised text; see docs/migrations.md "Checksums"). Drift
  // is judged on the up part alone: fixing a down section does not make an applied migration
  // drifted. All empty when loaded without checksums.
  std::string up_checksum;    // everything but the down section (or down file)
  std::string down_checksum;  // the down section or file; empty when there is none
  // What is recorded in the history: up_checksum, then "/" and down_checksum when there is a
  // down part. Without a down part it equals the whole-file checksum tandem recorded before
  // the two were separated.
  std::string checksum;
  // The checksum over every file as tandem computed it before up and down were separated, to
  // recognise history rows recorded that way.
  std::string legacy_checksum;
};

// Orders versions numerically, component by component ("2" < "10", "1.2" < "1.10"): the
// order of tandem, golang-migrate, goose and Flyway.
int CompareVersions(std::string_view a, std::string_view b);
// The order of `layout`'s own tool: Diesel compares versions as strings, the others as above.
int CompareVersions(std::string_view a, std::string_view b, Layout layout);

struct MigrationSet {
  Layout layout = Layout::kTandem;
  std::string directory;
  std::vector<Migration> migrations;  // sorted by version (the layout's order), versions unique

  const Migration* Find(std::string_view version) const;
  // CompareVersions in this set's layout.
  int Compare(std::string_view a, std::string_view b) const {
    return CompareVersions(a, b, layout);
  }
};

}  // namespace tandem::migrate
