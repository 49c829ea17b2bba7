// The verify pipeline (see verify.h): pending migrations, shadow, baseline, sample rows,
// sizes, old-app queries, tracing, findings.
#include "verify/verify.h"

#include <chrono>
#include <set>

#include "expand/plan.h"
#include "lint/catalog.h"
#include "lint/engine.h"
#include "migrate/history.h"
#include "migrate/layouts.h"
#include "pg/connection.h"
#include "verify/compat.h"
#include "verify/findings.h"
#include "verify/lint_join.h"
#include "verify/new_app.h"
#include "verify/shadow.h"
#include "verify/sizes.h"
#include "verify/tracer.h"

namespace tandem::verify {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Forwards every hook to several observers, in order.
class ObserverChain : public TraceObserver {
 public:
  void Add(TraceObserver* observer) { observers_.push_back(observer); }
  void BeforeStatement(pg::Connection& shadow, const migrate::Migration& m, int index) override {
    for (auto* o : observers_) o->BeforeStatement(shadow, m, index);
  }
  void AfterStatement(pg::Connection& shadow, const migrate::Migration& m,
                      const StatementTrace& trace, const CatalogSnapshot& before,
                      const CatalogSnapshot& after, bool in_transaction) override {
    for (auto* o : observers_) o->AfterStatement(shadow, m, trace, before, after, in_transaction);
  }

 private:
  std::vector<TraceObserver*> observers_;
};

struct Plan {
  std::vector<const migrate::Migration*> applied;  // to replay untraced when no dump
  std::vector<const migrate::Migration*> pending;  // to trace
};

// An online migration as `tandem release` runs it: the expand steps of its plan (planned on
// the shadow as the earlier migrations left it), as one migration to trace. In one transaction
// when every step is transactional; statement by statement when one is not (an index built
// concurrently). Each statement is located at the migration's first statement.
migrate::Migration ExpandAsMigration(const migrate::Migration& online, const expand::Plan& plan) {
  migrate::Migration m = online;
  m.name = online.name + " (online: expand)";
  m.online = false;
  SourceLocation at =
      online.up.statements.empty() ? online.up.location : online.up.statements[0].location;
  m.up.statements.clear();
  m.transactional = true;
  for (const expand::Step& step : plan.expand) {
    m.transactional &= step.transactional;
    for (const std::string& sql : step.sql) {
      migrate::Statement statement;
      statement.sql = sql;
      statement.location = at;
      m.up.statements.push_back(std::move(statement));
    }
  }
  return m;
}

// A migration that could not be planned online: a failed trace naming the error at its first
// statement.
MigrationTrace PlanFailure(const migrate::Migration& m, const Status& error) {
  MigrationTrace trace;
  trace.version = m.version;
  trace.name = m.name + " (online: plan)";
  trace.succeeded = false;
  StatementTrace st;
  if (!m.up.statements.empty()) {
    st.file = m.up.statements[0].location.file;
    st.line = m.up.statements[0].location.line;
    st.column = m.up.statements[0].location.column;
    st.sql = m.up.statements[0].sql;
  }
  st.error = error;
  trace.statements.push_back(std::move(st));
  return trace;
}

}  // namespace

Result<VerifyReport> Verify(migrate::MigrationSet& files, const VerifyOptions& options) {
  auto started = Clock::now();
  VerifyReport report;
  for (auto& m : files.migrations) TANDEM_RETURN_IF_ERROR(migrate::SplitSections(m));

  // The target, when there is one and it answers.
  std::unique_ptr<pg::Connection> owned_target;
  pg::Connection* target = options.target_connection;
  if (!target && !options.target_url.empty()) {
    TANDEM_ASSIGN_OR_RETURN(pg::DatabaseUrl url, pg::ParseDatabaseUrl(options.target_url));
    auto connected = pg::Connection::Open(url);
    if (connected.ok()) {
      owned_target = std::move(connected).value();
      target = owned_target.get();
    } else {
      report.warnings.push_back("could not reach the target database (" +
                                connected.status().message() +
                                "): every migration is treated as pending, sizes are unknown");
    }
  }
  if (options.from_pg_stat_statements && !target) {
    return Status::InvalidInput("--from-pg-stat-statements needs a reachable target database")
        .WithHint("set DATABASE_URL or pass --database-url, or use --old-queries FILE");
  }

  Plan plan;
  if (target) {
    TANDEM_ASSIGN_OR_RETURN(auto history, migrate::ReadHistory(*target, options.state_schema));
    for (const auto& entry : migrate::ComputeStatus(files, history)) {
      if (!entry.migration) continue;
      bool applied = entry.state == migrate::MigrationState::kApplied ||
                     entry.state == migrate::MigrationState::kDrifted;
      (applied ? plan.applied : plan.pending).push_back(entry.migration);
    }
  } else {
    for (const auto& m : files.migrations) plan.pending.push_back(&m);
  }

  std::vector<OldQuery> queries;
  if (!options.old_queries_file.empty()) {
    TANDEM_ASSIGN_OR_RETURN(queries, ReadOldQueriesFile(options.old_queries_file));
  }
  if (options.from_pg_stat_statements) {
    TANDEM_ASSIGN_OR_RETURN(auto more, ReadPgStatStatements(*target, &report.warnings));
    queries.insert(queries.end(), more.begin(), more.end());
  }
  std::vector<OldQuery> new_queries;
  if (!options.new_queries_file.empty()) {
    TANDEM_ASSIGN_OR_RETURN(new_queries, ReadOldQueriesFile(options.new_queries_file));
  }

  // The shadow, brought to the current schema.
  auto setup_started = Clock::now();
  TANDEM_ASSIGN_OR_RETURN(Shadow shadow, OpenShadow(options.shadow_url));
  report.shadow = shadow.description;
  TANDEM_ASSIGN_OR_RETURN(auto session, pg::Connection::Open(shadow.url));
  bool restored = false;
  if (target) {
    Status dumped =
        RestoreSchemaDump(target->url(), options.state_schema, *session, &report.warnings);
    if (dumped.ok()) {
      restored = true;
      report.baseline = "schema-only dump of " + target->url().Redacted();
    } else {
      report.warnings.push_back(dumped.message() + "; replaying the applied migrations instead");
    }
  }
  if (!restored) {
    for (const auto* m : plan.applied) TANDEM_RETURN_IF_ERROR(ApplyUntraced(*session, *m));
    report.baseline = plan.applied.empty()
                          ? "empty database (no migration applied yet)"
                          : std::to_string(plan.applied.size()) + " applied migration(s) replayed";
  }
  TANDEM_RETURN_IF_ERROR(FillSampleRows(*session, options.sample_rows, &report.warnings));
  report.shadow_setup_ms = MsSince(setup_started);

  SizeMap shadow_sizes, target_sizes;
  if (auto sizes = ReadSizes(*session); sizes.ok()) shadow_sizes = *sizes;
  if (target) {
    if (auto sizes = ReadSizes(*target); sizes.ok()) target_sizes = *sizes;
  }
  SizeContext size_context{&shadow_sizes, target ? &target_sizes : nullptr};

  // Lint predicts, on the same starting schema, what the traces will confirm or refute.
  lint::LintReport lint_report;
  if (options.lint) {
    auto catalog = lint::ReadCatalog(*session);
    lint::LintSequence sequence;
    for (const auto* m : plan.pending) sequence.push_back(lint::UnitFromMigration(*m, true));
    lint::LintOptions lint_options;
    lint_options.version = lint::ServerVersion(*session);
    lint_options.version_source = "shadow";
    lint_options.rule_settings = options.lint_rules;
    if (catalog.ok()) {
      lint_report = lint::LintSequences({sequence}, *catalog, lint_options);
      // An online migration's SQL is the end state, not what runs (release's gate skips it
      // too): the trace of its expand steps is what is judged.
      std::set<std::string> online;
      for (const auto* m : plan.pending)
        if (m->online) online.insert(m->version);
      std::erase_if(lint_report.findings,
                    [&](const lint::Finding& f) { return online.count(f.migration) > 0; });
    } else {
      report.warnings.push_back("lint could not read the shadow's catalog: " +
                                catalog.status().message());
    }
  }

  CompatChecker compat(std::move(queries));
  TANDEM_RETURN_IF_ERROR(compat.Baseline(*session));
  FindingsObserver server_findings;
  ObserverChain chain;
  chain.Add(&server_findings);
  chain.Add(&compat);
  auto observer_session = pg::Connection::Open(shadow.url);
  if (!observer_session.ok()) {
    report.warnings.push_back(
        "no second session on the shadow: locks of transaction-off "
        "migrations are not observed");
  }
  TraceInput input;
  input.shadow = session.get();
  input.observer_session = observer_session.ok() ? observer_session->get() : nullptr;
  input.observer = &chain;

  std::optional<std::string> new_app_search_path;
  bool all_succeeded = true;
  for (size_t i = 0; i < plan.pending.size(); ++i) {
    const migrate::Migration& m = *plan.pending[i];
    if (m.phase == migrate::Phase::kBackground) {
      report.warnings.push_back("migration " + m.version +
                                " is a background (batched) migration: not traced");
      continue;
    }
    MigrationTrace trace;
    if (m.online) {
      auto planned = expand::PlanMigration(*session, m);
      if (planned.ok()) {
        migrate::Migration expand_steps = ExpandAsMigration(m, *planned);
        TANDEM_ASSIGN_OR_RETURN(trace, TraceMigration(expand_steps, input));
        if (planned->new_app_search_path) new_app_search_path = planned->new_app_search_path;
        if (planned->backfill) {
          report.warnings.push_back("online migration " + m.version +
                                    ": its backfill is not run on the shadow (the queries "
                                    "are checked against the expanded schema)");
        }
      } else {
        trace = PlanFailure(m, planned.status());
      }
    } else {
      TANDEM_ASSIGN_OR_RETURN(trace, TraceMigration(m, input));
    }
    for (auto& f : RiskFindings(trace, size_context)) report.findings.push_back(std::move(f));
    bool failed = !trace.succeeded;
    all_succeeded &= !failed;
    report.migrations.push_back(std::move(trace));
    if (failed) {
      size_t left = plan.pending.size() - i - 1;
      if (left > 0) {
        report.warnings.push_back(
            std::to_string(left) +
            " later migration(s) not verified: they depend on the failed one");
      }
      break;
    }
  }
  server_findings.CheckForeignKeyIndexes(*session);
  for (auto& f : server_findings.TakeFindings()) report.findings.push_back(std::move(f));
  for (auto& f : JoinLintFindings(lint_report.findings, report.migrations)) {
    report.findings.push_back(std::move(f));
  }
  report.compat = compat.breaks();
  report.compat_summary = compat.summary();
  if (!options.new_queries_file.empty()) {
    if (all_succeeded) {
      report.new_app_checked = true;
      TANDEM_RETURN_IF_ERROR(
          CheckNewAppQueries(*session, new_queries, new_app_search_path, report));
    } else {
      report.warnings.push_back("new-app queries not checked: a migration failed on the shadow");
    }
  }
  report.total_ms = MsSince(started);
  return report;
}

}  // namespace tandem::verify
