// The lint engine (see engine.h).
#include "lint/engine.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <iterator>
#include <set>
#include <thread>
#include <tuple>

#include "background/placeholders.h"
#include "base/parallel_for.h"
#include "migrate/inline_data.h"
#include "migrate/layouts.h"
#include "sql/ast.h"
#include "sql/parser.h"

namespace tandem::lint {
namespace {

// Background migrations use psql-style :batch_start / :batch_end placeholders, which are not
// SQL; replace them by parameters of the same length so positions stay exact.
std::string MaskPlaceholders(std::string text) {
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != ':' || (i > 0 && text[i - 1] == ':') || text[i + 1] == ':' ||
        !(std::isalpha(static_cast<unsigned char>(text[i + 1])) || text[i + 1] == '_')) {
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
      ++end;
    }
    text[i] = '$';
    text[i + 1] = '1';
    for (size_t j = i + 2; j < end; ++j) text[j] = ' ';
    i = end;
  }
  return text;
}

// Line starts of `text`, for offset -> line/column.
std::vector<size_t> LineStarts(const std::string& text) {
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts.push_back(i + 1);
  }
  return starts;
}

// What the runner makes of a section's transaction control (migrate::UnwrapTransactionControl,
// called here so that lint and `up` refuse exactly the same files).
struct TransactionControl {
  static constexpr size_t kNone = static_cast<size_t>(-1);
  // BEGIN ... COMMIT around the whole section, dropped by the runner: the offsets of the two.
  size_t wrapper_begin = kNone;
  size_t wrapper_end = kNone;
  size_t refused = kNone;  // the offset of the statement the runner refuses, if any
  Status refusal;
};

// The runner's verdict on `parts`: the section's first and last statements and every
// transaction control statement in it, in order (the others cannot change the verdict).
TransactionControl ControlOf(std::vector<sql::SplitStatement> parts) {
  TransactionControl out;
  std::vector<sql::SplitStatement> all = parts;
  Status status = migrate::UnwrapTransactionControl(parts);
  if (parts.size() + 2 == all.size()) {
    out.wrapper_begin = all.front().offset;
    out.wrapper_end = all.back().offset;
  }
  if (status.ok()) return out;
  for (const auto& part : all) {
    if (part.start.line == status.location().line &&
        part.start.column == status.location().column) {
      out.refused = part.offset;
      break;
    }
  }
  out.refusal = std::move(status);
  return out;
}

TransactionControl CheckTransactionControl(const std::string& text,
                                           const std::vector<sql::Statement>& statements) {
  // The common case, decided from the parse alone: no TransactionStmt, nothing to check.
  bool any = false;
  for (const auto& st : statements) any |= st.node == "TransactionStmt";
  if (!any) return TransactionControl();
  auto starts = LineStarts(text);
  std::vector<sql::SplitStatement> parts;
  for (size_t i = 0; i < statements.size(); ++i) {
    const sql::Statement& st = statements[i];
    auto control = sql::ClassifyTransactionControl(st.text);
    if (i != 0 && i + 1 != statements.size() && control == sql::TransactionControl::kNone) continue;
    auto it = std::upper_bound(starts.begin(), starts.end(), st.offset);
    size_t line = static_cast<size_t>(it - starts.begin()) - 1;
    parts.push_back({st.text.substr(0, 80),
                     st.offset,
                     {static_cast<int>(line) + 1, static_cast<int>(st.offset - starts[line]) + 1},
                     control});
  }
  return ControlOf(std::move(parts));
}

// The same from the split parser, for a text linted a piece at a time: decided before its
// first statement is linted. Also the syntax check of the whole text (the two parsers share
// PostgreSQL's grammar), so that a file that does not parse is one finding, as when parsed
// whole, and never half linted.
Result<TransactionControl> CheckTransactionControl(std::string_view text) {
  std::vector<sql::SplitStatement> parts;
  bool any = false;
  sql::SplitStatement last;
  size_t count = 0;
  TANDEM_RETURN_IF_ERROR(sql::ForEachStatement(text, [&](const sql::StatementSpan& span) {
    bool control = span.transaction_control != sql::TransactionControl::kNone;
    any |= control;
    last = {std::string(span.text.substr(0, 80)), span.offset, span.start,
            span.transaction_control};
    if (count++ == 0 || control) parts.push_back(last);
    return Status::Ok();
  }));
  if (!any) return TransactionControl();
  if (count >= 2 && parts.back().offset != last.offset) parts.push_back(std::move(last));
  return ControlOf(std::move(parts));
}

bool TakesStrongLock(const sql::Statement& st) {
  using K = sql::StatementKind;
  switch (st.kind) {
    case K::kAlterTable:
    case K::kDropTable:
    case K::kRenameTable:
    case K::kRenameColumn:
    case K::kTruncate:
    case K::kCreateTrigger:
    case K::kDropTrigger:
    case K::kCluster:
    case K::kCreatePolicy:
    case K::kAlterPolicy:
    case K::kDropPolicy:
      return true;
    case K::kCreateIndex:
    case K::kDropIndex:
      return !st.concurrent;
    default:
      return false;
  }
}

class SequenceLinter {
 public:
  SequenceLinter(const Schema& initial, const LintOptions& options, LintReport& report)
      : schema_(initial), options_(options), report_(report) {}

  // A unit parsed whole ahead of time.
  void Lint(const LintUnit& unit, const Result<std::vector<sql::Statement>>& parsed) {
    if (!Start(unit, parsed.status())) return;
    TransactionControl control = CheckTransactionControl(unit.text, *parsed);
    auto starts = LineStarts(unit.text);
    Placer place = TextPlacer(unit, starts);
    UnitRun run(unit, control);
    for (const sql::Statement& st : *parsed) LintStatement(run, st, place);
    Finish(unit);
  }

  // A large unit's text, parsed and linted a piece at a time: only the piece's statement
  // models are held, never the whole file's.
  void LintStreamed(const LintUnit& unit, const std::string& text) {
    auto control = CheckTransactionControl(text);
    if (!Start(unit, control.status())) return;
    auto starts = LineStarts(unit.text);
    Placer place = TextPlacer(unit, starts);
    UnitRun run(unit, *control);
    Status parsed = sql::ForEachParsedStatement(text, [&](sql::Statement& st) {
      LintStatement(run, st, place);
      return Status::Ok();
    });
    if (!parsed.ok()) SyntaxError(unit, parsed);  // the split parser accepted it: not expected
    Finish(unit);
  }

  // A unit whose section was split already (release, verify): its statements are parsed
  // again a batch at a time, each batch their texts joined into one input, and every finding
  // is placed through the statement's own location in the file. The split dropped any
  // BEGIN/COMMIT wrapper and refused any other transaction control, so there is none here.
  void LintSplit(const LintUnit& unit) {
    if (!Start(unit, Status::Ok())) return;
    if (unit.report && unit.unwrapped) report_.statements += 2;
    UnitRun run(unit, TransactionControl());
    const auto& statements = *unit.statements;
    bool background = unit.info.phase == migrate::Phase::kBackground;
    std::string batch;
    std::vector<size_t> starts;  // where each statement of the batch starts in it
    for (size_t first = 0; first < statements.size();) {
      batch.clear();
      starts.clear();
      size_t end = first;
      for (; end < statements.size() && (end == first || batch.size() < kSplitBatchBytes); ++end) {
        starts.push_back(batch.size());
        batch += statements[end].sql;
        // On a line of its own: a statement may end in a -- comment.
        batch += "\n;\n";
      }
      if (background) batch = MaskPlaceholders(std::move(batch));
      size_t k = 0;  // the statement of the batch being linted
      Placer place = [&](size_t offset, Finding& f) {
        while (k + 1 < starts.size() && offset >= starts[k + 1]) ++k;
        while (k > 0 && offset < starts[k]) --k;
        const migrate::Statement& statement = statements[first + k];
        size_t within = std::min(offset - starts[k], statement.sql.size());
        sql::LineColumn at = sql::LineColumnAt(statement.sql, within);
        f.line = statement.location.line + at.line - 1;
        f.column = at.line == 1 ? statement.location.column + at.column - 1 : at.column;
      };
      Status parsed = sql::ForEachParsedStatement(batch, [&](sql::Statement& st) {
        LintStatement(run, st, place);
        return Status::Ok();
      });
      if (!parsed.ok()) {  // the split accepted these statements: not expected
        SyntaxError(unit, parsed);
        break;
      }
      first = end;
    }
    Finish(unit);
  }

 private:
  // A batch's parse tree and statement models are the gate's working memory above the
  // statements themselves (about 14 and 5 times the batch): kept small beside a large file.
  static constexpr size_t kSplitBatchBytes = 64 * 1024;

  // Where an offset of the parsed input is in the unit's file.
  using Placer = std::function<void(size_t offset, Finding& f)>;

  static Placer TextPlacer(const LintUnit& unit, const std::vector<size_t>& starts) {
    return [&unit, &starts](size_t offset, Finding& f) {
      auto it = std::upper_bound(starts.begin(), starts.end(), offset);
      size_t line_index = static_cast<size_t>(it - starts.begin()) - 1;
      f.line = unit.text_line + static_cast<int>(line_index);
      f.column = static_cast<int>(offset - starts[line_index]) + 1;
    };
  }

  // What the linter tracks through one unit.
  struct UnitRun {
    UnitRun(const LintUnit& unit, TransactionControl control)
        : unit(unit), control(std::move(control)) {
      tx.active = unit.info.transactional;
    }
    const LintUnit& unit;
    TransactionControl control;
    std::set<std::string> created;
    TransactionState tx;
    bool utc = false;
  };

  // Counts the unit and checks its allows; false (after a syntax-error finding) when it does
  // not parse.
  bool Start(const LintUnit& unit, const Status& parsed) {
    if (unit.report) ++report_.files;
    file_allow_used_.assign(unit.file_allows.size(), false);
    statement_allow_used_.assign(unit.statement_allows.size(), false);
    if (!parsed.ok()) {
      SyntaxError(unit, parsed);
      return false;
    }
    if (unit.report) CheckAllows(unit);
    if (unit.report) CheckBatchable(unit);
    return true;
  }

  // A background migration: the checks the worker makes before its first batch, on the text
  // (the key's type, and so half-open or closed ranges, is known only at run time). A unit
  // split already is one `tandem release` checked itself.
  void CheckBatchable(const LintUnit& unit) {
    if (unit.info.phase != migrate::Phase::kBackground) return;
    // A split unit: its statements joined, each from a line of its own, and a place in the
    // joined text mapped back to the statement's place in the file.
    std::string joined;
    std::vector<std::pair<int, const migrate::Statement*>> starts;  // joined line, statement
    if (unit.statements) {
      int line = 1;
      for (const auto& st : *unit.statements) {
        starts.emplace_back(line, &st);
        joined += st.sql + "\n;\n";
        line += 2 + static_cast<int>(std::count(st.sql.begin(), st.sql.end(), '\n'));
      }
    }
    const std::string& text = unit.statements ? joined : unit.text;
    Finding f = Base(kBackgroundNotBatchableRule, unit);
    f.recipe = kBackgroundNotBatchableRule.recipe;
    f.line = unit.text_line;
    f.column = 1;
    auto place = [&](int line, int column) {
      if (!unit.statements) {
        f.line = unit.text_line + line - 1;
        f.column = std::max(1, column);
        return;
      }
      for (const auto& [first, st] : starts) {
        if (first > line) break;
        f.line = st->location.line + line - first;
        f.column = line == first ? st->location.column + column - 1 : std::max(1, column);
      }
    };
    if (unit.info.batch_key_columns == 0) {
      auto split = sql::SplitStatements(text);
      if (split.ok() && !split->empty()) {
        place(split->front().start.line, split->front().start.column);
      }
      f.message =
          "a background migration needs a -- tandem:batch directive (the table and key the "
          "worker batches by)";
      Add(std::move(f), unit, -1);
      return;
    }
    auto bound = background::BindPlaceholders(text, unit.info.batch_key_columns);
    Status s = bound.status();
    // A composite key is always batched in closed ranges; one column's range depends on its
    // type, which only the worker knows.
    if (bound.ok() && unit.info.batch_key_columns > 1) {
      s = background::CheckRangeOperators(text, *bound, /*closed=*/true);
    }
    if (s.ok()) return;
    // The binder's message names the line within the section; the finding has it in the file.
    std::string message = s.message();
    if (size_t at = message.rfind(" (line "); at != std::string::npos && message.back() == ')') {
      message.erase(at);
    }
    f.message = message + (s.hint().empty() ? "" : "; " + s.hint());
    if (s.location().line > 0) place(s.location().line, s.location().column);
    Add(std::move(f), unit, -1);
  }

  void SyntaxError(const LintUnit& unit, const Status& s) {
    if (!unit.report) return;
    Finding f = Base(kSyntaxErrorRule, unit);
    f.message = s.message();
    f.line = unit.text_line + std::max(0, s.location().line - 1);
    f.column = std::max(1, s.location().column);
    f.recipe = kSyntaxErrorRule.recipe;
    Add(std::move(f), unit, -1);
  }

  void Finish(const LintUnit& unit) {
    if (unit.report) CheckDownSection(unit);
    if (unit.report) CheckUnusedAllows(unit);
  }

  void LintStatement(UnitRun& run, const sql::Statement& st, const Placer& place) {
    const LintUnit& unit = run.unit;
    TransactionState& tx = run.tx;
    if (unit.report) ++report_.statements;
    // The runner drops a BEGIN ... COMMIT wrapper around the whole section: it neither ends
    // tandem's transaction nor opens one of its own.
    if (st.offset == run.control.wrapper_begin || st.offset == run.control.wrapper_end) return;
    if (st.kind == sql::StatementKind::kBegin && !tx.active) {
      tx = TransactionState();
      tx.active = true;
    }
    std::vector<RawFinding> raw;
    if (unit.report) {
      RuleContext context(st, schema_, unit.info, tx, run.created, run.utc, options_.version, raw);
      if (run.control.refused == st.offset) context.refusal = &run.control.refusal;
      for (const Rule* rule : AllRules()) {
        if (rule->check) rule->check(context);
      }
    }
    for (auto& r : raw) {
      Finding f = Base(*r.rule, unit);
      place(r.length || r.offset >= st.offset ? r.offset : st.offset, f);
      f.length = static_cast<int>(r.length);
      f.message = std::move(r.message);
      f.recipe = std::move(r.recipe);
      if (r.severity) f.severity = *r.severity;
      if (!r.lock.empty())
        f.lock = std::move(r.lock);
      else
        f.lock = Fill(r.rule->lock, st.relation.empty() ? "the table" : st.relation.ToSql());
      f.statement = st.text;
      Finding statement_start;
      place(st.offset, statement_start);
      Add(std::move(f), unit, statement_start.line);
    }
    Track(st, tx, run.created, run.utc);
    schema_.Apply(st);
  }

 private:
  static std::string Fill(const char* pattern, const std::string& table) {
    std::string out = pattern;
    size_t at = out.find("{table}");
    if (at != std::string::npos) out.replace(at, 7, table);
    return out;
  }

  void CheckDownSection(const LintUnit& unit) {
    if (unit.down_text.empty()) return;
    auto split = sql::SplitStatements(migrate::BlankInlineData(unit.down_text));
    if (split.ok()) return;
    Finding f = Base(kSyntaxErrorRule, unit);
    const Status& s = split.status();
    f.file = unit.down_file;
    f.message = s.message();
    f.line = unit.down_text_line + std::max(0, s.location().line - 1);
    f.column = std::max(1, s.location().column);
    f.recipe = kSyntaxErrorRule.recipe;
    Add(std::move(f), unit, -1);
  }

  Finding Base(const Rule& rule, const LintUnit& unit) {
    Finding f;
    f.rule = rule.id;
    f.severity = rule.severity;
    f.file = unit.info.file;
    f.why = rule.why;
    f.lock = rule.lock;
    f.blocks = rule.blocks;
    f.versions = rule.versions;
    f.doc = std::string("docs/rules/") + rule.id + ".md";
    f.migration = unit.info.version;
    return f;
  }

  // Applies suppressions and severity settings; `statement_line` is -1 for file findings.
  // Every allow that matches is marked used (for unused-allow), also when the rule is off:
  // the allow would be needed if the rule were turned back on.
  void Add(Finding f, const LintUnit& unit, int statement_line) {
    bool allowed = false;
    for (size_t i = 0; i < unit.file_allows.size(); ++i) {
      if (unit.file_allows[i].rule != f.rule) continue;
      file_allow_used_[i] = true;
      allowed = true;
    }
    for (size_t i = 0; i < unit.statement_allows.size(); ++i) {
      const auto& a = unit.statement_allows[i];
      if (a.allow.rule != f.rule || a.line != statement_line) continue;
      statement_allow_used_[i] = true;
      allowed = true;
    }
    if (allowed) return;
    auto setting = options_.rule_settings.find(f.rule);
    if (setting != options_.rule_settings.end()) {
      if (setting->second == "off") return;
      if (auto s = ParseSeverity(setting->second)) f.severity = *s;
    }
    report_.findings.push_back(std::move(f));
  }

  // Allows that suppressed nothing in a file that parsed. An allow naming an unknown rule is
  // unknown-allow-rule's alone. Allows of unused-allow itself are judged last, once the
  // findings they may suppress have been added.
  void CheckUnusedAllows(const LintUnit& unit) {
    auto report = [&](const migrate::Allow& a, const std::string& where) {
      Finding f = Base(kUnusedAllowRule, unit);
      f.line = a.location.line;
      f.column = a.location.column;
      f.message = "-- tandem:allow " + a.rule + " suppressed nothing: no " + a.rule +
                  " finding in " + where;
      f.recipe =
          "-- remove the directive, or put it on the line right before the statement it "
          "is for";
      Add(std::move(f), unit, -1);
    };
    for (bool self : {false, true}) {
      for (size_t i = 0; i < unit.file_allows.size(); ++i) {
        const auto& a = unit.file_allows[i];
        if (file_allow_used_[i] || (a.rule == kUnusedAllowRule.id) != self || !FindRule(a.rule))
          continue;
        report(a, "this file");
      }
      for (size_t i = 0; i < unit.statement_allows.size(); ++i) {
        const auto& a = unit.statement_allows[i];
        if (statement_allow_used_[i] || (a.allow.rule == kUnusedAllowRule.id) != self ||
            !FindRule(a.allow.rule)) {
          continue;
        }
        report(a.allow, "the statement on line " + std::to_string(a.line));
      }
    }
  }

  void CheckAllows(const LintUnit& unit) {
    auto check = [&](const migrate::Allow& a) {
      if (!FindRule(a.rule)) {
        Finding f = Base(kUnknownAllowRule, unit);
        f.line = a.location.line;
        f.column = a.location.column;
        f.message = "-- tandem:allow names unknown rule \"" + a.rule + "\"";
        f.recipe = "-- see docs/rules/ for the rule ids";
        Add(std::move(f), unit, -1);
      }
      if (a.reason.empty()) {
        Finding f = Base(kAllowWithoutReasonRule, unit);
        f.line = a.location.line;
        f.column = a.location.column;
        f.message = "-- tandem:allow " + a.rule + " has no reason";
        f.recipe = "-- tandem:allow " + a.rule + " \"why this is safe here\"";
        Add(std::move(f), unit, -1);
      }
    };
    for (const auto& a : unit.file_allows) check(a);
    for (const auto& a : unit.statement_allows) check(a.allow);
  }

  void Track(const sql::Statement& st, TransactionState& tx, std::set<std::string>& created,
             bool& utc) {
    using K = sql::StatementKind;
    // CREATE TABLE IF NOT EXISTS of a table the model already holds (read from the live
    // catalog or created by an earlier migration) creates nothing: the table stays the one
    // everybody uses, and the lock rules still apply to it.
    bool already_there = st.if_not_exists && schema_.FindTable(st.relation);
    if ((st.kind == K::kCreateTable || st.kind == K::kCreateTableAs) && !already_there) {
      created.insert(TableKey(st.relation));
    }
    // An enum type created here: nobody uses its labels yet (types and tables share one
    // namespace in PostgreSQL, so one set serves both).
    if (st.kind == K::kCreateEnum) created.insert(TableKey(st.relation));
    if (st.kind == K::kSet && st.setting == "timezone")
      utc = st.value == "utc" || st.value == "etc/utc";
    // After COMMIT or ROLLBACK the statements run outside any transaction block until the
    // next BEGIN, also in a transactional migration (which the runner refuses for it).
    if (st.kind == K::kCommit || st.kind == K::kRollback) {
      tx = TransactionState();
      return;
    }
    if (!tx.active) return;
    if (TakesStrongLock(st) && !tx.locked_table && !created.count(TableKey(st.relation))) {
      tx.locked_table = st.relation;
    }
    if (st.kind == K::kUpdate || st.kind == K::kDelete || st.kind == K::kInsert)
      tx.data_changed = true;
    for (const auto& cmd : st.cmds) {
      if (cmd.action == sql::AlterAction::kAddConstraint && cmd.constraint.not_valid &&
          !cmd.constraint.name.empty()) {
        tx.not_valid.emplace_back(TableKey(st.relation), cmd.constraint.name);
      }
    }
    if (st.kind == K::kAlterEnumAddValue)
      tx.enum_values.emplace_back(st.relation.name, st.enum_value);
  }

  Schema schema_;
  const LintOptions& options_;
  LintReport& report_;
  // Per unit: which of its allows suppressed a finding (file_allows, statement_allows).
  std::vector<bool> file_allow_used_;
  std::vector<bool> statement_allow_used_;
};

using ParsedUnit = Result<std::vector<sql::Statement>>;
struct Parsed {  // Result has no default state
  ParsedUnit statements = std::vector<sql::Statement>{};
};

// The text the parser sees: COPY ... FROM STDIN rows written inline are data, not SQL, so
// they are blanked in place; background placeholders are masked.
std::string ParserText(const LintUnit& unit) {
  std::string text = migrate::BlankInlineData(unit.text);
  return unit.info.phase == migrate::Phase::kBackground ? MaskPlaceholders(std::move(text)) : text;
}

ParsedUnit ParseUnit(const LintUnit& unit) { return sql::ParseStatements(ParserText(unit)); }

// Units linted a piece at a time by their sequence's thread rather than parsed whole ahead.
bool Streamed(const LintUnit& unit, const LintOptions& options) {
  return unit.statements || unit.text.size() > options.stream_above_bytes;
}

// Every unit parsed exactly once, by whichever thread needs it first. A sequence's linter
// parses its next unit itself unless another thread has; a thread with no sequence left to
// lint parses ahead, from the last unit back, so that it meets the linters (which go first
// to last) rather than racing them. Parsing and linting overlap, and one long sequence (a
// project of 700 migrations next to small ones) no longer leaves a core idle.
class UnitParses {
 public:
  UnitParses(const std::vector<const LintUnit*>& units, const LintOptions& options)
      : units_(units), parsed_(units.size()), state_(units.size()) {
    // A streamed unit is never parsed whole, here or ahead.
    for (size_t i = 0; i < units.size(); ++i) {
      if (Streamed(*units[i], options)) state_[i].store(kParsed, std::memory_order_relaxed);
    }
  }

  // Unit i's statements: parsed here, or waited for when another thread is parsing them.
  const ParsedUnit& Get(size_t i) {
    if (!TryParse(i)) {
      while (state_[i].load(std::memory_order_acquire) != kParsed) std::this_thread::yield();
    }
    return parsed_[i].statements;
  }
  // Frees unit i's statements once its linter is done with them.
  void Release(size_t i) { parsed_[i].statements = std::vector<sql::Statement>{}; }

  void ParseAhead() {
    for (size_t i = units_.size(); i-- > 0;) TryParse(i);
  }

 private:
  enum : int { kUnparsed = 0, kParsing = 1, kParsed = 2 };

  bool TryParse(size_t i) {
    int expected = kUnparsed;
    if (!state_[i].compare_exchange_strong(expected, kParsing, std::memory_order_acq_rel)) {
      return false;
    }
    parsed_[i].statements = ParseUnit(*units_[i]);
    state_[i].store(kParsed, std::memory_order_release);
    return true;
  }

  const std::vector<const LintUnit*>& units_;
  std::vector<Parsed> parsed_;
  std::vector<std::atomic<int>> state_;  // value-initialised: kUnparsed
};

}  // namespace

LintUnit UnitFromMigration(const migrate::Migration& migration, bool report) {
  LintUnit unit;
  unit.info.file = migration.up.path.empty() && !migration.paths.empty() ? migration.paths[0]
                                                                         : migration.up.path;
  unit.info.version = migration.version;
  unit.info.phase = migration.phase;
  if (migration.batch) unit.info.batch_key_columns = BatchKeyColumns(migration.batch->key);
  unit.info.transactional = migration.transactional;
  unit.text_line = migration.up.text_line;
  if (migration.up.split) {
    // Linted from its statements: a second copy of a large file's text is not needed.
    unit.statements = &migration.up.statements;
    unit.unwrapped = migration.up.unwrapped;
  } else {
    unit.text = migration.up.text;
  }
  unit.file_allows = migration.file_allows;
  unit.statement_allows = migration.up.statement_allows;
  // Once the up section has been split (release splits before its gate), SplitSections has
  // moved each statement's allows onto the statement: gather them back by line.
  if (migration.up.split) {
    for (const auto& statement : migration.up.statements) {
      for (const auto& allow : statement.allows)
        unit.statement_allows.push_back({statement.location.line, allow});
    }
  }
  unit.report = report;
  if (migration.down.present) {
    unit.down_text = migration.down.text;
    unit.down_file = migration.down.path;
    unit.down_text_line = migration.down.text_line;
  }
  return unit;
}

LintReport LintSequences(const std::vector<LintSequence>& sequences, const Schema& initial,
                         const LintOptions& options) {
  std::vector<const LintUnit*> units;
  std::vector<size_t> first_unit;  // per sequence, its first index in `units`
  for (const auto& seq : sequences) {
    first_unit.push_back(units.size());
    for (const auto& unit : seq) units.push_back(&unit);
  }
  // Each sequence replays its own schema, so sequences are linted independently; the biggest
  // start first. Parsing is most of the work and has no order: a thread with no sequence left
  // to lint parses ahead for the others (see UnitParses).
  std::vector<size_t> order(sequences.size());
  std::vector<size_t> text_size(sequences.size(), 0);
  for (size_t s = 0; s < sequences.size(); ++s) {
    order[s] = s;
    for (const auto& unit : sequences[s]) text_size[s] += unit.text.size();
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return text_size[a] > text_size[b]; });
  UnitParses parses(units, options);
  std::vector<LintReport> partial(sequences.size());
  std::atomic<size_t> next_sequence{0};
  auto lint_sequence = [&](size_t s) {
    SequenceLinter linter(initial, options, partial[s]);
    std::vector<Finding>& findings = partial[s].findings;
    size_t index = first_unit[s];
    for (const auto& unit : sequences[s]) {
      size_t first_finding = findings.size();
      if (unit.statements) {
        linter.LintSplit(unit);
      } else if (Streamed(unit, options)) {
        linter.LintStreamed(unit, ParserText(unit));
      } else {
        linter.Lint(unit, parses.Get(index));
      }
      parses.Release(index++);  // freed here, on this core, rather than serially later
      // A unit's findings share its file: order them by position within it. Sorting the whole
      // sequence instead moved every finding a dozen times and compared long paths.
      std::stable_sort(findings.begin() + static_cast<std::ptrdiff_t>(first_finding),
                       findings.end(), [](const Finding& a, const Finding& b) {
                         return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                       });
    }
  };
  size_t workers = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  ParallelFor(workers, static_cast<int>(workers), [&](size_t) {
    for (size_t k = next_sequence++; k < order.size(); k = next_sequence++) {
      lint_sequence(order[k]);
    }
    parses.ParseAhead();
  });

  LintReport report;
  report.pg_version = options.version;
  report.pg_version_source = options.version_source;
  size_t total = 0;
  for (const auto& p : partial) total += p.findings.size();
  report.findings.reserve(total);
  for (auto& p : partial) {
    report.files += p.files;
    report.statements += p.statements;
    std::move(p.findings.begin(), p.findings.end(), std::back_inserter(report.findings));
  }
  // Units come in version order and sequences in directory order, which is file name order
  // for every layout on the corpus, so the findings are usually in order already; when they
  // are not (versions 9 and 10, paths given out of order), the full sort puts them there.
  auto by_position = [](const Finding& a, const Finding& b) {
    return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
  };
  if (!std::is_sorted(report.findings.begin(), report.findings.end(), by_position))
    std::stable_sort(report.findings.begin(), report.findings.end(), by_position);
  return report;
}

Status ValidateRuleSettings(const std::map<std::string, std::string>& settings) {
  for (const auto& [id, value] : settings) {
    if (!FindRule(id)) {
      return Status::InvalidInput("unknown lint rule \"" + id + "\" in [lint.rules]")
          .WithHint("the rule ids are listed in docs/rules/ and by \"tandem lint --list-rules\"");
    }
    if (value != "off" && !ParseSeverity(value)) {
      return Status::InvalidInput("invalid setting \"" + value + "\" for lint rule \"" + id + "\"")
          .WithHint("use \"off\", \"error\", \"warning\" or \"info\"");
    }
  }
  return Status::Ok();
}

}  // namespace tandem::lint
