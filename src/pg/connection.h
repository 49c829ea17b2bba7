// A PostgreSQL session on libpq, owned by RAII.
//
// Every value is sent as a bound parameter (Query's params); SQL text never contains user
// values. Every server error keeps its SQLSTATE, detail, hint and statement position in the
// returned Status. application_name is "tandem" and search_path is set explicitly on connect;
// notices are captured instead of printed. Connection failures are kUnavailable (exit 3) and
// name the host and port, never the password.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "pg/url.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef struct pg_cancel PGcancel;

namespace tandem::pg {

using Param = std::optional<std::string>;  // nullopt is SQL NULL

// Rows copied out of a PGresult, so results are plain values that outlive the connection.
class QueryResult {
 public:
  QueryResult() = default;
  QueryResult(std::vector<std::string> columns, std::vector<std::vector<Param>> rows,
              std::string command_tag = "")
      : columns_(std::move(columns)),
        rows_(std::move(rows)),
        command_tag_(std::move(command_tag)) {}

  size_t rows() const { return rows_.size(); }
  size_t columns() const { return columns_.size(); }
  const std::string& column_name(size_t c) const { return columns_[c]; }
  // -1 when there is no such column.
  int ColumnIndex(std::string_view name) const;
  bool IsNull(size_t row, size_t column) const { return !rows_[row][column].has_value(); }
  // Empty string for NULL.
  const std::string& Get(size_t row, size_t column) const;
  const std::string& Get(size_t row, std::string_view column) const;
  const Param& GetParam(size_t row, size_t column) const { return rows_[row][column]; }
  long long GetInt(size_t row, size_t column) const;
  bool GetBool(size_t row, size_t column) const { return Get(row, column) == "t"; }
  // "INSERT 0 1", "CREATE TABLE", ...
  const std::string& command_tag() const { return command_tag_; }

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<Param>> rows_;
  std::string command_tag_;
};

struct Notice {
  std::string severity;  // NOTICE, WARNING, ...
  std::string sqlstate;
  std::string message;
};

// One statement of a pipeline (Connection::ExecPipeline).
struct PipelineStep {
  std::string sql;
  std::vector<Param> params;
  // Prepare the statement once per connection and reuse it: for tandem's own bookkeeping
  // statements, which run once per migration and whose parse and plan would otherwise cost
  // more server time than a small migration itself.
  bool reuse_plan = false;
  // The rows of a `COPY ... FROM STDIN` step, sent with CopyIn (the pipeline falls back to one
  // statement at a time for COPY). Points into the caller's text, which must outlive the call.
  std::optional<std::string_view> copy_data;
  // When set, the statement's text is this string, which must outlive the call (a migration's
  // statement: a file of half a million statements is not copied once more to be sent).
  const std::string* borrowed_sql = nullptr;
  const std::string& text() const { return borrowed_sql ? *borrowed_sql : sql; }
};

struct PipelineOutcome {
  size_t succeeded = 0;  // steps that completed, in order, before the first failure
  Status error;          // the first failure; ok when every step succeeded
  // For each step whose result was read back (every step unless the connection was lost), in
  // order: how many notices the connection held by then (until TakeNotices), and the first
  // value of its first row ("" when it returned none). A caller running several units of work
  // in one pipeline (migrations) gives each its own notices and results from these. (Arrival
  // times would not do: the server sends a chunk's results together, at its sync.)
  std::vector<size_t> notices_after_step;
  std::vector<std::string> first_values;
};

struct ConnectOptions {
  std::string application_name = "tandem";
  // Set explicitly so that a role's or database's search_path cannot redirect tandem's SQL.
  // pg_catalog is always searched first when it is not named (see PostgreSQL's docs on
  // search_path), so built-ins cannot be shadowed by objects in public.
  std::string search_path = "public";
  int connect_timeout_seconds = 10;
  // client_connection_check_interval on PostgreSQL 14+ (0: leave the server's setting).
  int client_check_interval_ms = 1000;
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const DatabaseUrl& url,
                                                  const ConnectOptions& options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement with bound parameters (extended protocol: a string with several
  // statements is refused by the server, which is what we want).
  Result<QueryResult> Query(std::string_view sql, const std::vector<Param>& params = {});
  // Query, discarding rows.
  Status Exec(std::string_view sql, const std::vector<Param>& params = {});
  // Runs a `COPY ... FROM STDIN` statement and sends `data` as its rows through libpq's COPY
  // protocol (text or CSV as the statement says; no `\.` line needed). The server's error
  // (a bad row names its line of `data` in its CONTEXT) ends it as any statement's does.
  Result<QueryResult> CopyIn(std::string_view sql, std::string_view data);

  // Runs the steps in order, stopping at the first failure, with one round trip per chunk of
  // steps instead of one per step (libpq's pipeline mode). The server skips every step after a
  // failure, so steps between BEGIN and COMMIT stay all or nothing. A COPY step, which pipeline
  // mode cannot carry, makes the whole run fall back to one Exec per step.
  PipelineOutcome ExecPipeline(const std::vector<PipelineStep>& steps);

  int backend_pid() const { return backend_pid_; }
  int server_version_num() const;  // e.g. 150020
  bool in_transaction() const;     // inside BEGIN ... COMMIT (or a failed one)
  bool alive() const;
  const DatabaseUrl& url() const { return url_; }

  // Asks the server to cancel the statement running on this connection (thread-safe: may be
  // called from another thread while this one waits for a result).
  void RequestCancel();

  // Returns the session to the state Open left it in: what a migration SET (search_path,
  // timeouts, role, ...) does not leak into the next one.
  Status ResetSession();
  // The same as steps, for a caller that sends them in a pipeline of its own.
  std::vector<PipelineStep> ResetSessionSteps() const;

  std::vector<Notice> TakeNotices();

  // After `LISTEN channel`: waits up to `timeout` for notifications and returns their payloads
  // (empty when none came). kUnavailable when the connection is lost.
  Result<std::vector<std::string>> WaitForNotifications(Duration timeout);

 private:
  Connection(PGconn* conn, DatabaseUrl url);
  static void OnNotice(void* self, const PGresult* result);
  Status ApplySessionSettings();
  PipelineStep SessionSettingsStep() const;

  PGconn* conn_;
  PGcancel* cancel_ = nullptr;
  ConnectOptions options_;
  DatabaseUrl url_;
  int backend_pid_ = 0;
  std::vector<Notice> notices_;
  std::set<std::string> prepared_;  // names of statements prepared by ExecPipeline
};

}  // namespace tandem::pg
