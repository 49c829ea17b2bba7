// Collecting a file's directives line by line, and applying them (and dbmate's marker options)
// to a Migration.

#include "migrate/directives.h"
#include "migrate/line_blanks.h"

namespace tandem::migrate {
namespace {

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

Status DirectiveScanner::AddLine(std::string_view line, int line_number) {
  if (IsDirectiveLine(line)) {
    TANDEM_ASSIGN_OR_RETURN(Directive d, ParseDirective(line, file_, line_number));
    if (d.kind == Directive::Kind::kAllow) {
      waiting_.push_back(std::move(d.allow));
    } else {
      result_.settings.push_back(std::move(d));
    }
    return Status::Ok();
  }
  if (waiting_.empty()) return Status::Ok();
  // The line after a run of directive lines: SQL there means the allows are the statement's
  // (SplitSections checks that a statement really starts on it); anything else, a blank line
  // or a comment, makes them file-level.
  size_t i = SkipBlanks(line, 0);
  bool sql = i < line.size() && line.compare(i, 2, "--") != 0 && line.compare(i, 2, "/*") != 0;
  for (Allow& allow : waiting_) {
    if (sql) {
      result_.statement_allows.push_back({line_number, std::move(allow)});
    } else {
      result_.file_allows.push_back(std::move(allow));
    }
  }
  waiting_.clear();
  return Status::Ok();
}

FileDirectives DirectiveScanner::Finish() && {
  for (Allow& allow : waiting_) result_.file_allows.push_back(std::move(allow));
  waiting_.clear();
  return std::move(result_);
}

Status ApplyDirectives(const FileDirectives& directives, bool up_file, Migration& migration) {
  const Directive* seen[9] = {};
  for (const Directive& d : directives.settings) {
    if (!up_file) {
      return Status::InvalidInput("directive " + Quoted(d.word) + " is not allowed in a down file")
          .WithLocation(d.location)
          .WithHint("move it to the migration's up file" +
                    (migration.paths.empty() ? std::string() : " " + migration.paths.front()));
    }
    const Directive*& first = seen[static_cast<int>(d.kind)];
    if (first) {
      return Status::InvalidInput("directive " + Quoted(d.word) + " is given twice")
          .WithLocation(d.location)
          .WithDetail("it is first given on line " + std::to_string(first->location.line))
          .WithHint("keep one of them");
    }
    first = &d;
    switch (d.kind) {
      case Directive::Kind::kPhase:
        migration.phase = d.phase;
        break;
      case Directive::Kind::kTransaction:
        migration.transactional = migration.transactional && d.transactional;
        break;
      case Directive::Kind::kLockTimeout:
        migration.lock_timeout = d.duration;
        break;
      case Directive::Kind::kStatementTimeout:
        migration.statement_timeout = d.duration;
        break;
      case Directive::Kind::kBatch:
        migration.batch = d.batch;
        break;
      case Directive::Kind::kRequires:
        migration.required_versions = d.versions;
        break;
      case Directive::Kind::kOnline:
        migration.online = true;
        break;
      case Directive::Kind::kDownExpression:
        migration.down_expression = d.expression;
        break;
      case Directive::Kind::kAllow:
        break;
    }
  }
  if (migration.batch && migration.phase != Phase::kBackground) {
    return Status::InvalidInput("directive \"tandem:batch\" needs the background phase")
        .WithLocation(migration.batch->location)
        .WithHint("add \"-- tandem:phase background\", or remove the batch directive");
  }
  if (migration.online && migration.phase != Phase::kPreDeploy) {
    return Status::InvalidInput("directive \"tandem:online\" needs the pre-deploy phase")
        .WithHint("tandem release runs the expand; remove the phase directive");
  }
  if (!migration.down_expression.empty() && !migration.online) {
    return Status::InvalidInput("directive \"tandem:down-expression\" needs \"tandem:online\"")
        .WithHint("add \"-- tandem:online\" to plan the change as expand/contract");
  }
  migration.file_allows.insert(migration.file_allows.end(), directives.file_allows.begin(),
                               directives.file_allows.end());
  return Status::Ok();
}

Status ApplyMarkerOptions(std::string_view options, const SourceLocation& location,
                          bool* transactional) {
  constexpr std::string_view kHint = "the only option is transaction:false (or transaction:true)";
  for (size_t at = SkipBlanks(options, 0); at < options.size(); at = SkipBlanks(options, at)) {
    size_t end = TokenEnd(options, at);
    std::string_view token = options.substr(at, end - at);
    SourceLocation here = location;
    here.column += static_cast<int>(at);
    if (token == "transaction:false") {
      *transactional = false;
    } else if (token != "transaction:true") {
      return Status::InvalidInput("unknown migrate marker option " + Quoted(token))
          .WithLocation(here)
          .WithHint(std::string(kHint));
    }
    at = end;
  }
  return Status::Ok();
}

}  // namespace tandem::migrate
