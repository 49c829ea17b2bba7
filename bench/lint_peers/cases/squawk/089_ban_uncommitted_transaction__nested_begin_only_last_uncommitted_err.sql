-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_uncommitted_transaction.rs, test nested_begin_only_last_uncommitted_err
-- peer_expects: ok
-- transaction: off
-- setup:

-- migration:
BEGIN;
BEGIN;
COMMIT;
