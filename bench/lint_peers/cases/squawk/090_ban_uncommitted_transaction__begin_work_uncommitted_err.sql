-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_uncommitted_transaction.rs, test begin_work_uncommitted_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
BEGIN WORK;
CREATE TABLE users (id bigint);
