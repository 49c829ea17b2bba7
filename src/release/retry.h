// Applying one pre-deploy migration with bounded locks: the lock-timeout retry loop.
//
// A transactional migration is retried as a whole (its transaction rolled back, so nothing of
// it stays between attempts); a transaction-off migration is retried statement by statement
// through migrate::ApplyOptions::retry_statement, and an INVALID index left by a failed
// CONCURRENTLY attempt is dropped concurrently before the next attempt.
#pragma once

#include <string>

#include "migrate/history.h"
#include "migrate/migration.h"
#include "pg/connection.h"
#include "release/blockers.h"
#include "release/release.h"

namespace tandem::release {

// SQLSTATEs worth retrying: 55P03 lock_not_available (lock_timeout), 40P01 deadlock_detected.
bool IsLockConflict(const Status& error);

// Applies `migration` (sections split) with item.limits and the retry budget; fills the
// item's attempts, outcome and error. The final failure, if any, is recorded in the history.
// `watch` may be null (blockers are then not named).
void ApplyWithRetries(pg::Connection& connection, const migrate::Migration& migration,
                      const migrate::HistoryRow* previous, const ReleaseOptions& options,
                      BlockerWatch* watch, ReleaseItem& item);

}  // namespace tandem::release
