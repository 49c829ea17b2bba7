// Running one statement of a migration, whatever it carries: a statement with inline COPY rows
// (`COPY ... FROM STDIN` followed by its rows in the file) goes through libpq's COPY protocol,
// any other as a plain query.
#pragma once

#include "base/status.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::migrate {

Status ExecuteStatement(pg::Connection& connection, const Statement& statement);

// The statement as a pipeline step (with its COPY rows: ExecPipeline then runs the steps one
// at a time, since pipeline mode cannot carry COPY). The step points into `statement`.
pg::PipelineStep StatementStep(const Statement& statement);

// Whether any statement of the up section carries COPY rows: such a migration is sent alone,
// not in a pipeline with others.
bool HasCopyRows(const Migration& migration);

}  // namespace tandem::migrate
