// Parsing of `-- tandem:` directive lines: the directive word, its value, and the hints for
// typos.
#include "migrate/directives.h"

#include <algorithm>
#include <cctype>

#include "migrate/line_blanks.h"

namespace tandem::migrate {
namespace {

constexpr std::string_view kPrefix = "tandem:";

struct KnownDirective {
  std::string_view name;
  Directive::Kind kind;
};
constexpr KnownDirective kDirectives[] = {
    {"phase", Directive::Kind::kPhase},
    {"transaction", Directive::Kind::kTransaction},
    {"lock-timeout", Directive::Kind::kLockTimeout},
    {"statement-timeout", Directive::Kind::kStatementTimeout},
    {"allow", Directive::Kind::kAllow},
    {"batch", Directive::Kind::kBatch},
    {"requires", Directive::Kind::kRequires},
    {"online", Directive::Kind::kOnline},
    {"down-expression", Directive::Kind::kDownExpression},
};

// The closest of `candidates` to `word`, if close enough to be a plausible typo.
std::string_view Closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  int best_distance = std::max<int>(2, static_cast<int>(word.size()) / 3) + 1;
  for (std::string_view c : candidates) {
    int d = EditDistance(word, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Rule ids are kebab-case: lowercase words of letters and digits joined by single dashes.
bool IsRuleId(std::string_view id) {
  if (id.empty() || id.front() == '-' || id.back() == '-') return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && id[i - 1] != '-');
    if (!ok) return false;
  }
  return true;
}

// Table and key names: SQL identifiers, optionally schema-qualified or double-quoted. Only
// what cannot be a name is refused here; whether the table exists is the worker's concern.
bool IsSqlName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.' ||
          c == '"' || static_cast<unsigned char>(c) >= 0x80)) {
      return false;
    }
  }
  return true;
}

// `a,b`: the columns of a composite batch key.
bool IsKeyList(std::string_view names) {
  for (size_t at = 0;;) {
    size_t comma = names.find(',', at);
    if (!IsSqlName(names.substr(at, comma == std::string_view::npos ? comma : comma - at))) {
      return false;
    }
    if (comma == std::string_view::npos) return true;
    at = comma + 1;
  }
}

// Parses the value parts of one directive line; `v` is where the value starts.
class LineParser {
 public:
  LineParser(std::string_view line, const std::string& file, int line_number, Directive& d)
      : line_(line), file_(file), line_number_(line_number), d_(d) {}

  Status Error(size_t at, std::string message, std::string hint) const {
    return Status::InvalidInput(std::move(message))
        .WithLocation({file_, line_number_, static_cast<int>(at) + 1})
        .WithHint(std::move(hint));
  }

  // Exactly one value token, returned with its position.
  Result<std::string_view> OneValue(size_t v, size_t& at, std::string_view hint) const {
    at = SkipBlanks(line_, v);
    if (at >= line_.size()) {
      return Error(d_.location.column - 1, "directive " + Quoted(d_.word) + " needs a value",
                   std::string(hint));
    }
    size_t end = TokenEnd(line_, at);
    size_t extra = SkipBlanks(line_, end);
    if (extra < line_.size()) {
      return Error(
          extra,
          "unexpected " + Quoted(line_.substr(extra)) + " after the value of " + Quoted(d_.word),
          "a directive takes one value; put comments on a line of their own");
    }
    return line_.substr(at, end - at);
  }

  Status Phase(size_t v) {
    size_t at;
    constexpr std::string_view kHint = "use pre-deploy, post-deploy or background";
    TANDEM_ASSIGN_OR_RETURN(std::string_view value, OneValue(v, at, kHint));
    if (auto phase = ParsePhase(value)) {
      d_.phase = *phase;
      return Status::Ok();
    }
    std::string_view close = Closest(value, {"pre-deploy", "post-deploy", "background"});
    return Error(at, "unknown phase " + Quoted(value),
                 close.empty() ? std::string(kHint) : "did you mean " + Quoted(close) + "?");
  }

  Status Transaction(size_t v) {
    size_t at;
    constexpr std::string_view kHint = "use on (the default) or off";
    TANDEM_ASSIGN_OR_RETURN(std::string_view value, OneValue(v, at, kHint));
    if (value == "on" || value == "off") {
      d_.transactional = value == "on";
      return Status::Ok();
    }
    return Error(at, "invalid value " + Quoted(value) + " for " + Quoted(d_.word),
                 std::string(kHint));
  }

  Status Timeout(size_t v) {
    size_t at = SkipBlanks(line_, v);
    std::string_view value = line_.substr(std::min(at, line_.size()));
    while (!value.empty() && IsBlank(value.back())) value.remove_suffix(1);
    if (value.empty()) {
      return Error(d_.location.column - 1, "directive " + Quoted(d_.word) + " needs a value",
                   "write a duration, for example 500ms, 15s or 10min");
    }
    auto duration = ParseDuration(value);
    if (!duration.ok()) {
      // Too large is refused here too, before anything connects: PostgreSQL would refuse the
      // SET only after tandem's schema exists and the migration is recorded as failed.
      return Error(at, duration.status().message() + " for " + Quoted(d_.word),
                   duration.status().hint())
          .WithDetail(duration.status().detail());
    }
    d_.duration = *duration;
    return Status::Ok();
  }

  Status Allow(size_t v) {
    constexpr std::string_view kHint = "write -- tandem:allow <rule-id> \"why it is safe here\"";
    size_t at = SkipBlanks(line_, v);
    if (at >= line_.size()) {
      return Error(d_.location.column - 1, "directive " + Quoted(d_.word) + " needs a rule id",
                   std::string(kHint));
    }
    size_t end = TokenEnd(line_, at);
    std::string_view rule = line_.substr(at, end - at);
    if (!IsRuleId(rule)) {
      return Error(at, "invalid rule id " + Quoted(rule),
                   "rule ids are lowercase words joined by dashes, for example rename-column");
    }
    d_.allow.rule = std::string(rule);
    d_.allow.location = d_.location;
    size_t r = SkipBlanks(line_, end);
    if (r >= line_.size()) return Status::Ok();  // no reason: the linter reports it
    if (line_[r] != '"') {
      // An unquoted reason is taken as written: the intent is unambiguous.
      std::string_view reason = line_.substr(r);
      while (!reason.empty() && IsBlank(reason.back())) reason.remove_suffix(1);
      d_.allow.reason = std::string(reason);
      return Status::Ok();
    }
    std::string reason;
    size_t i = r + 1;
    for (; i < line_.size() && line_[i] != '"'; ++i) {
      if (line_[i] == '\\' && i + 1 < line_.size()) ++i;
      reason.push_back(line_[i]);
    }
    if (i >= line_.size()) {
      return Error(r, "unterminated reason in " + Quoted(d_.word),
                   "close the reason with a double quote (write \\\" for a quote inside it)");
    }
    size_t extra = SkipBlanks(line_, i + 1);
    if (extra < line_.size()) {
      return Error(extra, "unexpected " + Quoted(line_.substr(extra)) + " after the reason",
                   std::string(kHint));
    }
    d_.allow.reason = std::move(reason);
    return Status::Ok();
  }

  // `-- tandem:requires VERSION [VERSION...]`: background migrations that must have finished
  // before this one is applied.
  Status Requires(size_t v) {
    for (size_t at = SkipBlanks(line_, v); at < line_.size(); at = SkipBlanks(line_, at)) {
      size_t end = TokenEnd(line_, at);
      std::string_view version = line_.substr(at, end - at);
      bool ok = !version.empty();
      for (char c : version) {
        ok =
            ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
      }
      if (!ok) {
        return Error(at, "invalid version " + Quoted(version),
                     "write -- tandem:requires <version of a background migration>");
      }
      d_.versions.emplace_back(version);
      at = end;
    }
    if (d_.versions.empty()) {
      return Error(v, "directive \"tandem:requires\" needs a version",
                   "write -- tandem:requires <version of a background migration>");
    }
    return Status::Ok();
  }

  // `-- tandem:online`: no value.
  Status Online(size_t v) {
    size_t extra = SkipBlanks(line_, v);
    if (extra < line_.size()) {
      return Error(extra, "unexpected " + Quoted(line_.substr(extra)) + " after \"tandem:online\"",
                   "the directive takes no value; put comments on a line of their own");
    }
    return Status::Ok();
  }

  // `-- tandem:down-expression <SQL>`: the rest of the line, checked by the planner's parser.
  Status DownExpression(size_t v) {
    size_t at = SkipBlanks(line_, v);
    std::string_view value = line_.substr(std::min(at, line_.size()));
    while (!value.empty() && IsBlank(value.back())) value.remove_suffix(1);
    if (value.empty()) {
      return Error(d_.location.column - 1, "directive \"tandem:down-expression\" needs a value",
                   "write the old column's value in terms of the new one, for example "
                   "-- tandem:down-expression price::text");
    }
    d_.expression = std::string(value);
    return Status::Ok();
  }

  Status Batch(size_t v) {
    constexpr std::string_view kHint = "write -- tandem:batch table=<table> key=<column> size=auto";
    d_.batch.location = d_.location;
    bool seen_table = false, seen_key = false, seen_size = false;
    for (size_t at = SkipBlanks(line_, v); at < line_.size(); at = SkipBlanks(line_, at)) {
      size_t end = TokenEnd(line_, at);
      std::string_view token = line_.substr(at, end - at);
      size_t eq = token.find('=');
      std::string_view key = token.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : token.substr(eq + 1);
      size_t value_at = at + (eq == std::string_view::npos ? token.size() : eq + 1);
      bool* seen = key == "table"  ? &seen_table
                   : key == "key"  ? &seen_key
                   : key == "size" ? &seen_size
                                   : nullptr;
      if (!seen) {
        std::string_view close = Closest(key, {"table", "key", "size"});
        return Error(at, "unknown batch setting " + Quoted(key),
                     close.empty() ? std::string(kHint) : "did you mean " + Quoted(close) + "?");
      }
      if (*seen) {
        return Error(at, "batch setting " + Quoted(key) + " is given twice", std::string(kHint));
      }
      *seen = true;
      if (eq == std::string_view::npos || value.empty()) {
        return Error(at, "batch setting " + Quoted(key) + " needs a value", std::string(kHint));
      }
      if (key == "size") {
        if (value != "auto") {
          long long n = 0;
          bool digits = value.size() <= 9;  // at most 999,999,999 rows per batch
          for (char c : value) digits = digits && std::isdigit(static_cast<unsigned char>(c));
          if (digits) {
            for (char c : value) n = n * 10 + (c - '0');
          }
          if (!digits || n <= 0) {
            return Error(value_at, "invalid batch size " + Quoted(value),
                         "use auto (tandem adapts the size to the time each batch takes) or a "
                         "positive number of rows");
          }
          d_.batch.size = n;
        }
      } else if (!IsSqlName(value) && !(key == "key" && IsKeyList(value))) {
        return Error(value_at, "invalid " + std::string(key) + " name " + Quoted(value),
                     std::string(kHint));
      } else {
        (key == "table" ? d_.batch.table : d_.batch.key) = std::string(value);
      }
      at = end;
    }
    if (!seen_table || !seen_key) {
      return Error(d_.location.column - 1,
                   "directive " + Quoted(d_.word) + " needs " +
                       (seen_table ? "key=<column>" : "table=<table>"),
                   std::string(kHint));
    }
    return Status::Ok();
  }

 private:
  std::string_view line_;
  const std::string& file_;
  int line_number_;
  Directive& d_;
};

std::string DirectiveList() {
  std::string out;
  for (const auto& d : kDirectives) {
    if (!out.empty()) out += ", ";
    out += "tandem:" + std::string(d.name);
  }
  return out;
}

}  // namespace

int EditDistance(std::string_view a, std::string_view b) {
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool IsDirectiveLine(std::string_view line) {
  size_t i = SkipBlanks(line, 0);
  if (line.compare(i, 2, "--") != 0) return false;
  i = SkipBlanks(line, i + 2);
  return line.compare(i, kPrefix.size(), kPrefix) == 0;
}

Result<Directive> ParseDirective(std::string_view line, const std::string& file, int line_number) {
  Directive d;
  size_t at = SkipBlanks(line, SkipBlanks(line, 0) + 2);  // the "t" of "tandem:"
  // "-- tandem: phase x" is read as "-- tandem:phase x": the blank is an easy slip.
  size_t name_at = SkipBlanks(line, at + kPrefix.size());
  size_t end = TokenEnd(line, name_at);
  std::string_view name = line.substr(name_at, end - name_at);
  d.word = "tandem:" + std::string(name);
  d.location = {file, line_number, static_cast<int>(at) + 1};
  const KnownDirective* known = nullptr;
  for (const auto& k : kDirectives) {
    if (k.name == name) known = &k;
  }
  if (!known) {
    std::vector<std::string_view> names;
    for (const auto& k : kDirectives) names.push_back(k.name);
    std::string_view close = name.empty() ? std::string_view() : Closest(name, names);
    return Status::InvalidInput(name.empty() ? "empty directive"
                                             : "unknown directive " + Quoted(d.word))
        .WithLocation(d.location)
        .WithHint(close.empty() ? "valid directives: " + DirectiveList()
                                : "did you mean \"tandem:" + std::string(close) + "\"?");
  }
  d.kind = known->kind;
  LineParser parser(line, file, line_number, d);
  Status status;
  switch (d.kind) {
    case Directive::Kind::kPhase:
      status = parser.Phase(end);
      break;
    case Directive::Kind::kTransaction:
      status = parser.Transaction(end);
      break;
    case Directive::Kind::kLockTimeout:
    case Directive::Kind::kStatementTimeout:
      status = parser.Timeout(end);
      break;
    case Directive::Kind::kAllow:
      status = parser.Allow(end);
      break;
    case Directive::Kind::kBatch:
      status = parser.Batch(end);
      break;
    case Directive::Kind::kRequires:
      status = parser.Requires(end);
      break;
    case Directive::Kind::kOnline:
      status = parser.Online(end);
      break;
    case Directive::Kind::kDownExpression:
      status = parser.DownExpression(end);
      break;
  }
  if (!status.ok()) return status;
  return d;
}

}  // namespace tandem::migrate
