// FindInlineData: a lexical scan of a section for inline COPY rows and psql meta-commands. It
// only needs to know what is inside quotes and comments, so it does not parse.
#include "migrate/inline_data.h"

#include <cctype>

namespace tandem::migrate {
namespace {

bool IsIdentChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}
bool IsIdentStart(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || u >= 0x80;
}

std::string Lower(std::string_view word) {
  std::string out(word);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  Result<std::vector<InlineData>> Run() {
    std::vector<InlineData> found;
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (c == '\n') {
        ++i;
        continue;
      }
      if (c == '-' && At(i + 1) == '-') {
        i = LineEnd(i);
        continue;
      }
      if (c == '/' && At(i + 1) == '*') {
        i = BlockCommentEnd(i);
        continue;
      }
      if (c == '\'') {
        // E'...' (and e'...') reads backslash escapes; other strings do not.
        bool escapes = i > 0 && (text_[i - 1] == 'E' || text_[i - 1] == 'e') &&
                       (i < 2 || !IsIdentChar(text_[i - 2]));
        i = QuotedEnd(i, '\'', escapes);
        continue;
      }
      if (c == '"') {
        i = QuotedEnd(i, '"', false);
        continue;
      }
      if (c == '$' && (i == 0 || !IsIdentChar(text_[i - 1]))) {
        size_t end = DollarQuoteEnd(i);
        if (end != 0) {
          i = end;
          continue;
        }
      }
      if (c == '\\') return MetaCommand(i);
      if (IsIdentStart(c)) {
        size_t end = i;
        while (end < text_.size() && IsIdentChar(text_[end])) ++end;
        Word(text_.substr(i, end - i), i);
        i = end;
        continue;
      }
      if (c == ';') {
        bool copy_in = words_ > 0 && first_word_ == "copy" && from_stdin_;
        int copy_line = copy_line_;
        ResetStatement();
        if (copy_in) {
          TANDEM_ASSIGN_OR_RETURN(InlineData data, Rows(i + 1, copy_line));
          i = data.resume;
          found.push_back(data);
          continue;
        }
      }
      ++i;
    }
    return found;
  }

 private:
  char At(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }

  size_t LineEnd(size_t i) const {
    size_t nl = text_.find('\n', i);
    return nl == std::string_view::npos ? text_.size() : nl;
  }

  // PostgreSQL's block comments nest.
  size_t BlockCommentEnd(size_t i) const {
    int depth = 0;
    while (i < text_.size()) {
      if (text_[i] == '/' && At(i + 1) == '*') {
        ++depth;
        i += 2;
      } else if (text_[i] == '*' && At(i + 1) == '/') {
        i += 2;
        if (--depth == 0) return i;
      } else {
        ++i;
      }
    }
    return text_.size();
  }

  size_t QuotedEnd(size_t i, char quote, bool escapes) const {
    for (++i; i < text_.size(); ++i) {
      if (escapes && text_[i] == '\\') {
        ++i;
      } else if (text_[i] == quote) {
        if (At(i + 1) != quote) return i + 1;
        ++i;  // a doubled quote stands for itself
      }
    }
    return text_.size();
  }

  // One past the closing tag of the dollar quote opening at `i`, or 0 when `i` opens none
  // ($1 is a parameter, not a quote).
  size_t DollarQuoteEnd(size_t i) const {
    size_t j = i + 1;
    if (j < text_.size() && IsIdentStart(text_[j])) {
      while (j < text_.size() && IsIdentChar(text_[j]) && text_[j] != '$') ++j;
    }
    if (j >= text_.size() || text_[j] != '$') return 0;
    std::string_view tag = text_.substr(i, j - i + 1);
    size_t close = text_.find(tag, j + 1);
    return close == std::string_view::npos ? text_.size() : close + tag.size();
  }

  void Word(std::string_view word, size_t at) {
    // Only short words can matter (copy, from, stdin); the rest need no copy.
    std::string lower = word.size() <= 5 ? Lower(word) : std::string();
    if (words_ == 0) {
      first_word_ = lower;
      copy_line_ = LineOf(at);
    }
    if (lower == "stdin" && previous_word_ == "from") from_stdin_ = true;
    previous_word_ = lower;
    ++words_;
  }

  void ResetStatement() {
    words_ = 0;
    first_word_.clear();
    previous_word_.clear();
    from_stdin_ = false;
  }

  int LineOf(size_t offset) {
    // Offsets only grow during the scan: count newlines since the last call.
    for (; counted_to_ < offset && counted_to_ < text_.size(); ++counted_to_) {
      if (text_[counted_to_] == '\n') ++line_;
    }
    return line_;
  }

  int ColumnOf(size_t offset) const {
    size_t start = offset == 0 ? std::string_view::npos : text_.rfind('\n', offset - 1);
    return static_cast<int>(offset - (start == std::string_view::npos ? 0 : start + 1)) + 1;
  }

  Status Located(Status status, size_t offset) {
    return std::move(status).WithLocation({"", LineOf(offset), ColumnOf(offset)});
  }

  Status MetaCommand(size_t i) {
    size_t end = i + 1;
    while (end < text_.size() && !std::isspace(static_cast<unsigned char>(text_[end]))) ++end;
    std::string command(text_.substr(i, end - i));
    return Located(
        Status::InvalidInput("psql meta-command \"" + command +
                             "\" is not SQL: tandem runs SQL only")
            .WithHint(command == "\\."
                          ? "a \\. line ends the rows of a COPY ... FROM STDIN; remove it "
                            "or add the COPY statement before the rows"
                          : "remove it, or write what it does in SQL (set configuration "
                            "with SET, include files as migrations of their own)"),
        i);
  }

  // The rows of the COPY whose semicolon is just before `after`, up to its `\.` line.
  Result<InlineData> Rows(size_t after, int copy_line) {
    InlineData data;
    data.copy_line = copy_line;
    size_t line_end = LineEnd(after);
    // psql reads the rows from the next line; SQL after the semicolon on the same line would
    // run after them there, and is refused here instead of guessing.
    size_t k = after;
    while (k < line_end && (text_[k] == ' ' || text_[k] == '\t')) ++k;
    if (k < line_end && !(text_[k] == '-' && At(k + 1) == '-')) {
      return Located(Status::InvalidInput("SQL after COPY ... FROM STDIN on the same line")
                         .WithHint("put the COPY rows on the lines after the COPY statement, and "
                                   "other statements after its \\. line"),
                     k);
    }
    data.sql_end = line_end < text_.size() ? line_end + 1 : text_.size();
    data.data_begin = data.sql_end;
    for (size_t pos = data.data_begin; pos < text_.size();) {
      size_t end = LineEnd(pos);
      std::string_view line = text_.substr(pos, end - pos);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      if (line == "\\.") {
        data.data_end = pos;
        data.resume = end < text_.size() ? end + 1 : text_.size();
        return data;
      }
      pos = end + 1;
    }
    return Status::InvalidInput("COPY ... FROM STDIN without a \\. line after its rows")
        .WithLocation({"", copy_line, 1})
        .WithHint("end the rows with a line holding only \\. (as pg_dump writes them)");
  }

  std::string_view text_;
  size_t words_ = 0;
  std::string first_word_;
  std::string previous_word_;
  bool from_stdin_ = false;
  int copy_line_ = 1;
  size_t counted_to_ = 0;
  int line_ = 1;
};

}  // namespace

Result<std::vector<InlineData>> FindInlineData(std::string_view text) {
  return Scanner(text).Run();
}

std::string BlankInlineData(std::string_view text) {
  if (text.find('\\') == std::string_view::npos) return std::string(text);
  auto found = FindInlineData(text);
  std::string out(text);
  if (!found.ok()) return out;  // the parser reports what is wrong where it stands
  for (const InlineData& data : *found) {
    for (size_t i = data.data_begin; i < data.resume; ++i) {
      if (out[i] != '\n') out[i] = ' ';
    }
  }
  return out;
}

}  // namespace tandem::migrate
