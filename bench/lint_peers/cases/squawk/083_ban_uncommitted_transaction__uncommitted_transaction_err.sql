-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_uncommitted_transaction.rs, test uncommitted_transaction_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
BEGIN;
CREATE TABLE users (id bigint);
