// Status and Result<T>: the one error model of tandem.
//
// Expected failures (bad input, a database that cannot be reached, a lock that cannot be taken,
// a migration that fails) are values, not exceptions. A Status carries what PostgreSQL's client
// programs print: a primary message (lowercase, no trailing period), an optional DETAIL and
// HINT, the SQLSTATE when the failure came from the server, and where in a migration file it
// happened. The code decides the process exit code (see ExitCodeFor).
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tandem {

enum class StatusCode {
  kOk,
  kInvalidInput,  // bad usage, configuration or input; nothing was changed (exit 2)
  kFailed,        // the work failed: a migration, a lint gate, a check (exit 1)
  kUnavailable,   // could not reach or lock the database (exit 3)
  kInternal,      // a bug in tandem (exit 1)
  // stopped by SIGINT or SIGTERM, after recording how far it got (exit 128 + the signal, as a
  // shell reports a process killed by it: 130 for SIGINT, 143 for SIGTERM)
  kInterrupted,
};

// A file name that copies share instead of duplicating: every statement of a file carries
// its location, and half a million copies of one path were a tenth of the memory `up` needed
// for a large seed file. Reads as a `const std::string&`.
class FilePath {
 public:
  FilePath() = default;
  FilePath(std::string path)  // NOLINT: implicit by design (a path is a string)
      : path_(path.empty() ? nullptr : std::make_shared<const std::string>(std::move(path))) {}
  FilePath(const char* path) : FilePath(std::string(path)) {}       // NOLINT: implicit by design
  FilePath(std::string_view path) : FilePath(std::string(path)) {}  // NOLINT: implicit by design

  const std::string& str() const;
  operator const std::string&() const { return str(); }  // NOLINT: implicit by design
  bool empty() const { return !path_; }
  size_t size() const { return str().size(); }
  const char* c_str() const { return str().c_str(); }

  friend bool operator==(const FilePath& a, const FilePath& b) { return a.str() == b.str(); }
  friend bool operator==(const FilePath& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const FilePath& a, const char* b) { return a.str() == b; }
  friend std::string operator+(const FilePath& a, const std::string& b) { return a.str() + b; }
  friend std::string operator+(const std::string& a, const FilePath& b) { return a + b.str(); }
  friend std::string operator+(const FilePath& a, const char* b) { return a.str() + b; }
  friend std::string operator+(const char* a, const FilePath& b) { return a + b.str(); }
  friend std::ostream& operator<<(std::ostream& out, const FilePath& path);

 private:
  std::shared_ptr<const std::string> path_;  // null: no file
};

struct SourceLocation {
  FilePath file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown

  bool known() const { return !file.empty(); }
  // "file:line:column", leaving out the parts that are unknown.
  std::string ToString() const;
};

class Status {
 public:
  Status() = default;  // ok

  static Status Ok() { return Status(); }
  static Status InvalidInput(std::string message) {
    return Status(StatusCode::kInvalidInput, std::move(message));
  }
  static Status Failed(std::string message) {
    return Status(StatusCode::kFailed, std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(StatusCode::kUnavailable, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(StatusCode::kInternal, std::move(message));
  }
  static Status Interrupted(std::string message, int signal) {
    Status status(StatusCode::kInterrupted, std::move(message));
    status.signal_ = signal;
    return status;
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& detail() const { return detail_; }
  const std::string& hint() const { return hint_; }
  const std::string& sqlstate() const { return sqlstate_; }
  const SourceLocation& location() const { return location_; }
  // 1-based character offset of a server error inside the statement text, 0 when unknown.
  int statement_position() const { return statement_position_; }
  // kInterrupted: the signal that stopped the work.
  int signal() const { return signal_; }

  // Builders; each returns *this so that errors read as one expression.
  Status& WithDetail(std::string detail) & {
    detail_ = std::move(detail);
    return *this;
  }
  Status&& WithDetail(std::string detail) && { return std::move(WithDetail(std::move(detail))); }
  Status& WithHint(std::string hint) & {
    hint_ = std::move(hint);
    return *this;
  }
  Status&& WithHint(std::string hint) && { return std::move(WithHint(std::move(hint))); }
  Status& WithSqlState(std::string sqlstate) & {
    sqlstate_ = std::move(sqlstate);
    return *this;
  }
  Status&& WithSqlState(std::string sqlstate) && {
    return std::move(WithSqlState(std::move(sqlstate)));
  }
  Status& WithLocation(SourceLocation location) & {
    location_ = std::move(location);
    return *this;
  }
  Status&& WithLocation(SourceLocation location) && {
    return std::move(WithLocation(std::move(location)));
  }
  Status& WithStatementPosition(int position) & {
    statement_position_ = position;
    return *this;
  }
  Status&& WithStatementPosition(int position) && {
    return std::move(WithStatementPosition(position));
  }
  // Prefixes the message with what was being done: "loading 'x': <message>".
  Status& Prefix(const std::string& context) & {
    message_ = context + ": " + message_;
    return *this;
  }
  Status&& Prefix(const std::string& context) && { return std::move(Prefix(context)); }

  // Renders in PostgreSQL's style:
  //   db/migrations/1_x.sql:3:5: error: column "a" does not exist (SQLSTATE 42703)
  //   DETAIL: ...
  //   HINT: ...
  std::string ToString() const;

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string detail_;
  std::string hint_;
  std::string sqlstate_;
  SourceLocation location_;
  int statement_position_ = 0;
  int signal_ = 0;
};

// 0 ok, 1 the work failed, 2 bad usage or input, 3 could not reach or lock the database,
// 128 + signal when interrupted.
int ExitCodeFor(const Status& status);

// A value or the Status explaining why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace tandem

#define TANDEM_CONCAT_INNER_(a, b) a##b
#define TANDEM_CONCAT_(a, b) TANDEM_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not ok.
#define TANDEM_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::tandem::Status tandem_status_ = (expr);        \
    if (!tandem_status_.ok()) return tandem_status_; \
  } while (0)

// `TANDEM_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or returns its Status.
#define TANDEM_ASSIGN_OR_RETURN(lhs, rexpr) \
  TANDEM_ASSIGN_OR_RETURN_IMPL_(TANDEM_CONCAT_(tandem_result_, __LINE__), lhs, rexpr)
#define TANDEM_ASSIGN_OR_RETURN_IMPL_(result, lhs, rexpr) \
  auto result = (rexpr);                                  \
  if (!result.ok()) return result.status();               \
  lhs = std::move(result).value()
