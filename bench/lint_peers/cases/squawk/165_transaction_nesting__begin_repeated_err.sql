-- source: sbdchd/squawk crates/squawk_linter/src/rules/transaction_nesting.rs, test begin_repeated_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
BEGIN;
BEGIN;
SELECT 1;
COMMIT;
