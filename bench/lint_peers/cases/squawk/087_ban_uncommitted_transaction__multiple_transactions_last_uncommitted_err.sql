-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_uncommitted_transaction.rs, test multiple_transactions_last_uncommitted_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
BEGIN;
CREATE TABLE users (id bigint);
COMMIT;

BEGIN;
CREATE TABLE posts (id bigint);
