// `-- tandem:` directive comments and dbmate's marker options: the per-migration settings that
// live inside SQL files as comments, so every migration file stays plain SQL.
//
//   -- tandem:phase pre-deploy|post-deploy|background
//   -- tandem:transaction on|off
//   -- tandem:lock-timeout 500ms
//   -- tandem:statement-timeout 15min
//   -- tandem:allow <rule-id> "reason"
//   -- tandem:batch table=users key=id size=auto|N
//   -- migrate:up transaction:false          (dbmate)
//
// Directives are found by a line scan, without the SQL parser, so that loading stays cheap.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "migrate/migration.h"

namespace tandem::migrate {

struct Directive {
  enum class Kind {
    kPhase,
    kTransaction,
    kLockTimeout,
    kStatementTimeout,
    kAllow,
    kBatch,
    kRequires,
    kOnline,
    kDownExpression
  };
  Kind kind = Kind::kPhase;
  std::string word;         // as written, e.g. "tandem:phase"
  SourceLocation location;  // of the directive word
  // The value, in the member that matches `kind`.
  Phase phase = Phase::kPreDeploy;
  bool transactional = true;
  Duration duration{0};
  Allow allow;
  BatchSpec batch;
  std::vector<std::string> versions;  // tandem:requires
  std::string expression;             // tandem:down-expression, as written
};

// True when `line` is a directive comment: optional blanks, "--", optional blanks, "tandem:".
bool IsDirectiveLine(std::string_view line);

// Parses one line for which IsDirectiveLine holds. kInvalidInput with the column of the
// directive word for an unknown directive (hint: the closest known one), or of the value for a
// bad value (hint: the accepted values). An allow without a reason is not an error here: it
// comes back with an empty reason for the linter to report.
Result<Directive> ParseDirective(std::string_view line, const std::string& file, int line_number);

// The directives of one file.
struct FileDirectives {
  std::vector<Directive> settings;  // every directive but allow, in file order
  std::vector<Allow> file_allows;   // allows not directly above a line of SQL
  // Allows directly above a line of SQL (possibly stacked with other directive lines).
  std::vector<StatementAllow> statement_allows;
};

// Collects a file's directives line by line. The scan is what decides whether an allow is
// file-level or belongs to the statement on the next line, so it needs every line in order.
class DirectiveScanner {
 public:
  explicit DirectiveScanner(std::string file) : file_(std::move(file)) {}

  // `line` without its newline; line numbers are 1-based. Fails on a malformed directive.
  Status AddLine(std::string_view line, int line_number);
  // Ends the file: allows still waiting for a statement are file-level.
  FileDirectives Finish() &&;

 private:
  std::string file_;
  FileDirectives result_;
  std::vector<Allow> waiting_;  // allows of the directive lines just above the current line
};

// Applies a file's settings and file-level allows to `migration` (statement allows are the
// caller's: it knows the sections). kInvalidInput for a setting given twice, a batch outside
// the background phase, or, when `up_file` is false (a down file of a multi-file layout), any
// directive other than allow: settings belong to the up file.
Status ApplyDirectives(const FileDirectives& directives, bool up_file, Migration& migration);

// dbmate's options after a section marker, e.g. `transaction:false` in
// `-- migrate:up transaction:false`. `options` is the text after the marker and `location`
// where it starts. Sets *transactional; kInvalidInput for an unknown option or value.
Status ApplyMarkerOptions(std::string_view options, const SourceLocation& location,
                          bool* transactional);

// Edit distance, for "did you mean" hints.
int EditDistance(std::string_view a, std::string_view b);

}  // namespace tandem::migrate
