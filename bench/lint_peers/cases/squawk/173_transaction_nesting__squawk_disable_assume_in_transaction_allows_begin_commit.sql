-- source: sbdchd/squawk crates/squawk_linter/src/rules/transaction_nesting.rs, test squawk_disable_assume_in_transaction_allows_begin_commit
-- peer_expects: ok
-- transaction: off
-- note: the squawk-disable-assume-in-transaction comment is the file's transaction off
-- setup:

-- migration:
BEGIN;
SELECT 1;
COMMIT;
