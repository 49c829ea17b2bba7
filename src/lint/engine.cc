// The lint engine (see engine.h).
#include "lint/engine.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <iterator>
#include <set>
#include <thread>
#include <tuple>

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
  bool wrapped = false;  // BEGIN ... COMMIT around the whole section: dropped by the runner
  size_t refused = static_cast<size_t>(-1);  // the statement the runner refuses, if any
  Status refusal;
};

TransactionControl CheckTransactionControl(const std::string& text,
                                           const std::vector<sql::Statement>& statements) {
  TransactionControl out;
  // The common case, decided from the parse alone: no TransactionStmt, nothing to check.
  bool any = false;
  for (const auto& st : statements) any |= st.node == "TransactionStmt";
  if (!any) return out;
  std::vector<sql::SplitStatement> parts(statements.size());
  for (size_t i = 0; i < statements.size(); ++i) {
    parts[i].offset = statements[i].offset;
    parts[i].transaction_control = sql::ClassifyTransactionControl(statements[i].text);
  }
  auto starts = LineStarts(text);
  for (size_t i = 0; i < parts.size(); ++i) {
    parts[i].text = statements[i].text;
    auto it = std::upper_bound(starts.begin(), starts.end(), parts[i].offset);
    size_t line = static_cast<size_t>(it - starts.begin()) - 1;
    parts[i].start = {static_cast<int>(line) + 1,
                      static_cast<int>(parts[i].offset - starts[line]) + 1};
  }
  std::vector<sql::LineColumn> at;
  at.reserve(parts.size());
  for (const auto& part : parts) at.push_back(part.start);
  Status status = migrate::UnwrapTransactionControl(parts);
  out.wrapped = parts.size() + 2 == statements.size();
  if (status.ok()) return out;
  for (size_t i = 0; i < at.size(); ++i) {
    if (at[i].line == status.location().line && at[i].column == status.location().column) {
      out.refused = i;
      break;
    }
  }
  out.refusal = std::move(status);
  return out;
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

  void Lint(const LintUnit& unit, const Result<std::vector<sql::Statement>>& parsed) {
    if (unit.report) ++report_.files;
    file_allow_used_.assign(unit.file_allows.size(), false);
    statement_allow_used_.assign(unit.statement_allows.size(), false);
    auto starts = LineStarts(unit.text);
    auto place = [&](size_t offset, Finding& f) {
      auto it = std::upper_bound(starts.begin(), starts.end(), offset);
      size_t line_index = static_cast<size_t>(it - starts.begin()) - 1;
      f.line = unit.text_line + static_cast<int>(line_index);
      f.column = static_cast<int>(offset - starts[line_index]) + 1;
    };
    if (!parsed.ok()) {
      if (!unit.report) return;
      Finding f = Base(kSyntaxErrorRule, unit);
      const Status& s = parsed.status();
      f.message = s.message();
      f.line = unit.text_line + std::max(0, s.location().line - 1);
      f.column = std::max(1, s.location().column);
      f.recipe = kSyntaxErrorRule.recipe;
      Add(std::move(f), unit, -1);
      return;
    }
    if (unit.report) CheckAllows(unit);
    std::set<std::string> created;
    TransactionState tx;
    tx.active = unit.info.transactional;
    bool utc = false;
    TransactionControl control = CheckTransactionControl(unit.text, *parsed);
    for (size_t i = 0; i < parsed->size(); ++i) {
      const sql::Statement& st = (*parsed)[i];
      if (unit.report) ++report_.statements;
      // The runner drops a BEGIN ... COMMIT wrapper around the whole section: it neither ends
      // tandem's transaction nor opens one of its own.
      if (control.wrapped && (i == 0 || i + 1 == parsed->size())) continue;
      if (st.kind == sql::StatementKind::kBegin && !tx.active) {
        tx = TransactionState();
        tx.active = true;
      }
      std::vector<RawFinding> raw;
      if (unit.report) {
        RuleContext context(st, schema_, unit.info, tx, created, utc, options_.version, raw);
        if (control.refused == i) context.refusal = &control.refusal;
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
      Track(st, tx, created, utc);
      schema_.Apply(st);
    }
    if (unit.report) CheckDownSection(unit);
    if (unit.report) CheckUnusedAllows(unit);
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

ParsedUnit ParseUnit(const LintUnit& unit) {
  // COPY ... FROM STDIN rows written inline are data, not SQL: blanked in place.
  std::string text = migrate::BlankInlineData(unit.text);
  return sql::ParseStatements(
      unit.info.phase == migrate::Phase::kBackground ? MaskPlaceholders(text) : text);
}

// Every unit parsed exactly once, by whichever thread needs it first. A sequence's linter
// parses its next unit itself unless another thread has; a thread with no sequence left to
// lint parses ahead, from the last unit back, so that it meets the linters (which go first
// to last) rather than racing them. Parsing and linting overlap, and one long sequence (a
// project of 700 migrations next to small ones) no longer leaves a core idle.
class UnitParses {
 public:
  explicit UnitParses(const std::vector<const LintUnit*>& units)
      : units_(units), parsed_(units.size()), state_(units.size()) {}

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
  unit.info.transactional = migration.transactional;
  unit.text = migration.up.text;
  unit.text_line = migration.up.text_line;
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
  UnitParses parses(units);
  std::vector<LintReport> partial(sequences.size());
  std::atomic<size_t> next_sequence{0};
  auto lint_sequence = [&](size_t s) {
    SequenceLinter linter(initial, options, partial[s]);
    std::vector<Finding>& findings = partial[s].findings;
    size_t index = first_unit[s];
    for (const auto& unit : sequences[s]) {
      size_t first_finding = findings.size();
      linter.Lint(unit, parses.Get(index));
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
