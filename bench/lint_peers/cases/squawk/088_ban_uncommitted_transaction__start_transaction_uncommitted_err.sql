-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_uncommitted_transaction.rs, test start_transaction_uncommitted_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
START TRANSACTION;
CREATE TABLE users (id bigint);
