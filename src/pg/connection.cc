#include "pg/connection.h"

#include <poll.h>

#include <libpq-fe.h>

#include <strings.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "base/interrupt.h"
#include "base/sha256.h"

namespace tandem::pg {
namespace {

std::string Field(const PGresult* result, int code) {
  const char* value = PQresultErrorField(result, code);
  return value ? value : "";
}

std::string TrimNewlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Converts a failed PGresult (or a lost connection) into a Status that keeps the SQLSTATE.
Status ErrorStatus(PGconn* conn, const PGresult* result) {
  std::string sqlstate = result ? Field(result, PG_DIAG_SQLSTATE) : "";
  std::string message = result ? Field(result, PG_DIAG_MESSAGE_PRIMARY) : "";
  if (message.empty()) message = TrimNewlines(PQerrorMessage(conn));
  message = RedactSecrets(message);
  // A FATAL error ends the session (the server closes the connection right after sending it,
  // e.g. 57P01 when an administrator terminates the backend), even if libpq has not yet
  // noticed the closed socket.
  std::string severity = result ? Field(result, PG_DIAG_SEVERITY_NONLOCALIZED) : "";
  bool connection_lost = PQstatus(conn) == CONNECTION_BAD || sqlstate.rfind("08", 0) == 0 ||
                         severity == "FATAL" || severity == "PANIC";
  Status status = connection_lost ? Status::Unavailable(message) : Status::Failed(message);
  if (!sqlstate.empty()) status.WithSqlState(sqlstate);
  if (result) {
    if (auto detail = Field(result, PG_DIAG_MESSAGE_DETAIL); !detail.empty())
      status.WithDetail(RedactSecrets(detail));
    if (auto hint = Field(result, PG_DIAG_MESSAGE_HINT); !hint.empty()) status.WithHint(hint);
    if (auto position = Field(result, PG_DIAG_STATEMENT_POSITION); !position.empty())
      status.WithStatementPosition(std::atoi(position.c_str()));
  }
  return status;
}

// COPY's sub-protocol cannot run inside a pipeline.
bool IsCopy(const std::string& sql) {
  return sql.size() >= 4 && strncasecmp(sql.c_str(), "COPY", 4) == 0 &&
         (sql.size() == 4 || !(std::isalnum(static_cast<unsigned char>(sql[4])) || sql[4] == '_'));
}

// Named after the text, so that two statements never share a name and a statement is prepared
// once per connection however many times it runs.
std::string PreparedName(const std::string& sql) {
  return "tandem_" + Sha256Hex(sql).substr(0, 16);
}

// Steps sent before each sync. Bounded so that neither side's socket buffer can fill while the
// other is still writing (a blocking connection would deadlock); a sync inside an explicit
// transaction block does not end it.
constexpr size_t kStepsPerSync = 64;

}  // namespace

int QueryResult::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i] == name) return static_cast<int>(i);
  return -1;
}

const std::string& QueryResult::Get(size_t row, size_t column) const {
  static const std::string kEmpty;
  const Param& p = rows_[row][column];
  return p ? *p : kEmpty;
}

const std::string& QueryResult::Get(size_t row, std::string_view column) const {
  int index = ColumnIndex(column);
  static const std::string kEmpty;
  return index < 0 ? kEmpty : Get(row, static_cast<size_t>(index));
}

long long QueryResult::GetInt(size_t row, size_t column) const {
  return std::atoll(Get(row, column).c_str());
}

Connection::Connection(PGconn* conn, DatabaseUrl url) : conn_(conn), url_(std::move(url)) {
  backend_pid_ = PQbackendPID(conn_);
  PQsetNoticeReceiver(conn_, &Connection::OnNotice, this);
  // Made now, while nothing else uses the connection: RequestCancel runs on another thread
  // (the signal handler's) while this one waits for a statement, and PQcancel on a ready
  // PGcancel is safe there, unlike PQgetCancel.
  cancel_ = PQgetCancel(conn_);
}

Connection::~Connection() {
  if (cancel_) PQfreeCancel(cancel_);
  if (conn_) PQfinish(conn_);
}

Result<std::unique_ptr<Connection>> Connection::Open(const DatabaseUrl& url,
                                                     const ConnectOptions& options) {
  std::string timeout = std::to_string(options.connect_timeout_seconds);
  // dbname carries the whole URL (expand_dbname = 1); keywords after it override its values,
  // so application_name is always ours.
  const char* keywords[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const char* values[] = {url.conninfo.c_str(), options.application_name.c_str(), timeout.c_str(),
                          nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Internal("out of memory while connecting");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason = RedactSecrets(TrimNewlines(PQerrorMessage(conn)));
    PQfinish(conn);
    return Status::Unavailable("could not connect to database at " + url.HostAndPort())
        .WithDetail(reason)
        .WithHint("check that the server is running and the URL (" + url.Redacted() + ") is right");
  }
  std::unique_ptr<Connection> connection(new Connection(conn, url));
  connection->options_ = options;
  TANDEM_RETURN_IF_ERROR(connection->ApplySessionSettings());
  return connection;
}

PipelineStep Connection::SessionSettingsStep() const {
  // client_connection_check_interval (PostgreSQL 14+): a statement whose client died (kill -9,
  // a lost network) is cancelled within the interval instead of running to its end with no
  // one to record it.
  if (server_version_num() >= 140000 && options_.client_check_interval_ms > 0) {
    return {
        "SELECT pg_catalog.set_config('search_path', $1, false), "
        "pg_catalog.set_config('client_connection_check_interval', $2, false)",
        {options_.search_path, std::to_string(options_.client_check_interval_ms)},
        /*reuse_plan=*/true};
  }
  return {"SELECT pg_catalog.set_config('search_path', $1, false)", {options_.search_path}, true};
}

Status Connection::ApplySessionSettings() {
  PipelineStep step = SessionSettingsStep();
  Status set = Exec(step.sql, step.params);
  if (!set.ok()) return set.Prefix("could not set up the session");
  return Status::Ok();
}

std::vector<PipelineStep> Connection::ResetSessionSteps() const {
  // RESET ALL leaves out the role and the session authorization; a migration may have changed
  // either. RESET ALL also undoes what Open set, so that is set again.
  return {{"RESET SESSION AUTHORIZATION", {}},
          {"RESET ROLE", {}},
          {"RESET ALL", {}},
          SessionSettingsStep()};
}

Status Connection::ResetSession() {
  // One by one, not as a pipeline: a pipeline sends nothing once the process is interrupted,
  // and the reset belongs to the work that already ran.
  for (const PipelineStep& step : ResetSessionSteps()) {
    Status status = Exec(step.sql, step.params);
    if (!status.ok()) return std::move(status).Prefix("could not reset the session");
  }
  return Status::Ok();
}

Result<QueryResult> Connection::Query(std::string_view sql, const std::vector<Param>& params) {
  std::string text(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
  PGresult* result = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Status error = ErrorStatus(conn_, result);
    if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      error = Status::InvalidInput("COPY to or from the client is not supported in migrations")
                  .WithHint("load data with INSERT, or COPY from a server-side file");
      // Leave COPY mode so the connection stays usable.
      PQputCopyEnd(conn_, "tandem does not stream COPY data");
      while (PGresult* r = PQgetResult(conn_)) PQclear(r);
    }
    if (result) PQclear(result);
    return error;
  }
  int nrows = PQntuples(result), ncols = PQnfields(result);
  std::vector<std::string> columns;
  columns.reserve(ncols);
  for (int c = 0; c < ncols; ++c) columns.emplace_back(PQfname(result, c));
  std::vector<std::vector<Param>> rows(nrows);
  for (int r = 0; r < nrows; ++r) {
    rows[r].reserve(ncols);
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(result, r, c)) {
        rows[r].emplace_back(std::nullopt);
      } else {
        rows[r].emplace_back(std::string(PQgetvalue(result, r, c), PQgetlength(result, r, c)));
      }
    }
  }
  std::string tag = PQcmdStatus(result);
  PQclear(result);
  return QueryResult(std::move(columns), std::move(rows), std::move(tag));
}

Result<QueryResult> Connection::CopyIn(std::string_view sql, std::string_view data) {
  std::string text(sql);
  PGresult* result = PQexecParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0);
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COPY_IN) {
    // Not a COPY from the client after all: Query's handling (errors, or refusing COPY TO
    // STDOUT) applies. Leave any COPY OUT mode first.
    Status error =
        status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
            ? Status::InvalidInput("statement given COPY rows is not COPY ... FROM STDIN")
            : ErrorStatus(conn_, result);
    if (status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
      error = Status::InvalidInput("COPY to the client is not supported in migrations")
                  .WithHint("load data with COPY ... FROM STDIN or INSERT");
      PQputCopyEnd(conn_, "tandem does not read COPY data");
    }
    if (result) PQclear(result);
    while (PGresult* r = PQgetResult(conn_)) PQclear(r);
    return error;
  }
  PQclear(result);
  // Sent in pieces: PQputCopyData takes an int length, and a blocking connection flushes as
  // it goes, so memory stays bounded by the caller's text.
  constexpr size_t kPiece = 1 << 20;
  bool sent = true;
  for (size_t at = 0; at < data.size() && sent; at += kPiece) {
    size_t n = std::min(kPiece, data.size() - at);
    sent = PQputCopyData(conn_, data.data() + at, static_cast<int>(n)) == 1;
  }
  if (PQputCopyEnd(conn_, sent ? nullptr : "tandem could not send the COPY rows") != 1)
    sent = false;
  result = PQgetResult(conn_);
  status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  Status error = status == PGRES_COMMAND_OK ? Status::Ok() : ErrorStatus(conn_, result);
  std::string tag = result ? PQcmdStatus(result) : "";
  if (result) PQclear(result);
  while (PGresult* r = PQgetResult(conn_)) PQclear(r);
  if (!error.ok()) return error;
  if (!sent) return ErrorStatus(conn_, nullptr);
  return QueryResult({}, {}, std::move(tag));
}

Status Connection::Exec(std::string_view sql, const std::vector<Param>& params) {
  auto result = Query(sql, params);
  return result.ok() ? Status::Ok() : result.status();
}

int Connection::server_version_num() const { return PQserverVersion(conn_); }

bool Connection::in_transaction() const {
  PGTransactionStatusType s = PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool Connection::alive() const { return PQstatus(conn_) == CONNECTION_OK; }

void Connection::RequestCancel() {
  if (!cancel_) return;
  char buf[256];
  PQcancel(cancel_, buf, sizeof buf);
}

std::vector<Notice> Connection::TakeNotices() {
  std::vector<Notice> out;
  out.swap(notices_);
  return out;
}

void Connection::OnNotice(void* self, const PGresult* result) {
  auto* connection = static_cast<Connection*>(self);
  connection->notices_.push_back(Notice{Field(result, PG_DIAG_SEVERITY),
                                        Field(result, PG_DIAG_SQLSTATE),
                                        Field(result, PG_DIAG_MESSAGE_PRIMARY)});
}

}  // namespace tandem::pg

namespace tandem::pg {

PipelineOutcome Connection::ExecPipeline(const std::vector<PipelineStep>& steps) {
  PipelineOutcome outcome;
  if (std::any_of(steps.begin(), steps.end(),
                  [](const PipelineStep& s) { return IsCopy(s.text()); })) {
    for (const PipelineStep& step : steps) {
      auto result =
          step.copy_data ? CopyIn(step.text(), *step.copy_data) : Query(step.text(), step.params);
      outcome.error = result.status();
      outcome.notices_after_step.push_back(notices_.size());
      outcome.first_values.push_back(result.ok() && result->rows() > 0 ? result->Get(0, 0) : "");
      if (!outcome.error.ok()) return outcome;
      ++outcome.succeeded;
    }
    return outcome;
  }
  for (size_t begin = 0; begin < steps.size() && outcome.error.ok(); begin += kStepsPerSync) {
    size_t end = std::min(begin + kStepsPerSync, steps.size());
    // After SIGINT/SIGTERM nothing more is sent; what ran is reported, the rest never started.
    if (interrupt::Requested()) {
      outcome.error = Status::Interrupted(std::string("interrupted by ") +
                                              interrupt::SignalName(interrupt::Signal()),
                                          interrupt::Signal())
                          .WithSqlState("57014");
      return outcome;
    }
    if (PQenterPipelineMode(conn_) != 1) {
      outcome.error = ErrorStatus(conn_, nullptr);
      return outcome;
    }
    // What was sent, in order: each step's statement, preceded by its Parse when it is prepared
    // here for the first time.
    struct Sent {
      bool prepare;
      std::string name;
    };
    std::vector<Sent> sent;
    bool send_failed = false;
    for (size_t i = begin; i < end; ++i) {
      const PipelineStep& step = steps[i];
      std::vector<const char*> values;
      values.reserve(step.params.size());
      for (const Param& p : step.params) values.push_back(p ? p->c_str() : nullptr);
      int n = static_cast<int>(values.size());
      int ok = 1;
      if (step.reuse_plan) {
        std::string name = PreparedName(step.text());
        bool sent_before = std::any_of(sent.begin(), sent.end(),
                                       [&](const Sent& s) { return s.prepare && s.name == name; });
        if (!prepared_.count(name) && !sent_before) {
          ok = PQsendPrepare(conn_, name.c_str(), step.text().c_str(), n, nullptr);
          if (ok) sent.push_back({true, name});
        }
        if (ok)
          ok = PQsendQueryPrepared(conn_, name.c_str(), n, values.data(), nullptr, nullptr, 0);
      } else {
        ok = PQsendQueryParams(conn_, step.text().c_str(), n, nullptr, values.data(), nullptr,
                               nullptr, 0);
      }
      if (!ok) {
        send_failed = true;
        break;
      }
      sent.push_back({false, ""});
    }
    bool synced = PQpipelineSync(conn_) == 1;
    for (const Sent& s : sent) {
      PGresult* result = PQgetResult(conn_);
      ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        if (s.prepare) {
          prepared_.insert(s.name);
        } else if (outcome.error.ok()) {
          ++outcome.succeeded;
        }
      } else if (status != PGRES_PIPELINE_ABORTED && outcome.error.ok()) {
        outcome.error = ErrorStatus(conn_, result);
      }
      if (!s.prepare && result) {
        outcome.notices_after_step.push_back(notices_.size());
        bool row = status == PGRES_TUPLES_OK && PQntuples(result) > 0 && PQnfields(result) > 0;
        outcome.first_values.push_back(row ? PQgetvalue(result, 0, 0) : "");
      }
      if (!result) break;
      PQclear(result);
      while (PGresult* rest = PQgetResult(conn_)) PQclear(rest);  // up to this query's end
    }
    if (send_failed && outcome.error.ok()) outcome.error = ErrorStatus(conn_, nullptr);
    // Read up to the sync, then leave pipeline mode. Results of queries not read above (after
    // a lost connection) are skipped; a NULL only separates them.
    for (size_t nulls = 0; synced && PQstatus(conn_) == CONNECTION_OK && nulls <= sent.size();) {
      PGresult* result = PQgetResult(conn_);
      if (!result) {
        ++nulls;
        continue;
      }
      ExecStatusType status = PQresultStatus(result);
      PQclear(result);
      if (status == PGRES_PIPELINE_SYNC) break;
    }
    PQexitPipelineMode(conn_);
  }
  return outcome;
}

}  // namespace tandem::pg

namespace tandem::pg {

Result<std::vector<std::string>> Connection::WaitForNotifications(Duration timeout) {
  std::vector<std::string> payloads;
  auto drain = [&] {
    while (PGnotify* n = PQnotifies(conn_)) {
      payloads.emplace_back(n->extra ? n->extra : "");
      PQfreemem(n);
    }
  };
  auto lost = [&] {
    return Status::Unavailable("lost the connection to the database while waiting for work: " +
                               RedactSecrets(TrimNewlines(PQerrorMessage(conn_))));
  };
  drain();
  if (!payloads.empty()) return payloads;
  pollfd fd{PQsocket(conn_), POLLIN, 0};
  if (fd.fd < 0) return lost();
  int ready = poll(&fd, 1, static_cast<int>(std::max<long long>(timeout.count(), 0)));
  if (ready < 0 && errno != EINTR) return lost();
  if (ready > 0) {
    if (!PQconsumeInput(conn_)) return lost();
    drain();
  }
  return payloads;
}

}  // namespace tandem::pg
