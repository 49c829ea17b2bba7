-- source: sbdchd/squawk crates/squawk_linter/src/rules/transaction_nesting.rs, test begin_assume_transaction_err
-- peer_expects: violation
-- transaction: on
-- setup:

-- migration:
BEGIN;
BEGIN;
SELECT 1;
COMMIT;
