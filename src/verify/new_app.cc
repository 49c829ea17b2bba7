// The new app's queries on the migrated shadow (new_app.h).
#include "verify/new_app.h"

namespace tandem::verify {

Status CheckNewAppQueries(pg::Connection& shadow, const std::vector<OldQuery>& queries,
                          const std::optional<std::string>& search_path, VerifyReport& report) {
  NewAppSummary& summary = report.new_app_summary;
  summary.queries = static_cast<int>(queries.size());
  summary.search_path = search_path.value_or("");
  if (queries.empty()) return Status::Ok();
  if (search_path) {
    // The plan's value is a list of quoted identifiers, as the new app's connections set it.
    TANDEM_RETURN_IF_ERROR(shadow.Exec("SET search_path TO " + *search_path));
  }
  CompatChecker checker({});
  for (const OldQuery& q : queries) {
    if (!q.shape.preparable) {
      ++summary.skipped;
      summary.skipped_reasons.push_back(q.source + ": not a query PREPARE accepts (" +
                                        q.shape.node + ")");
      continue;
    }
    ++summary.checked;
    NewAppFailure failure;
    auto error = checker.TryPrepare(shadow, q.sql, false);
    if (error) {
      if (!shadow.alive()) return *error;
      failure.error = error->message();
      failure.sqlstate = error->sqlstate();
    } else if (auto missing = checker.MissingNotNull(shadow, q)) {
      failure.error = *missing;
    } else {
      continue;
    }
    failure.query = q.sql;
    failure.source = q.source;
    report.new_app.push_back(std::move(failure));
  }
  if (search_path) TANDEM_RETURN_IF_ERROR(shadow.Exec("RESET search_path"));
  return Status::Ok();
}

}  // namespace tandem::verify
