-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_uncommitted_transaction.rs, test committed_transaction_ok
-- peer_expects: ok
-- transaction: off
-- setup:

-- migration:
BEGIN;
CREATE TABLE users (id bigint);
COMMIT;
