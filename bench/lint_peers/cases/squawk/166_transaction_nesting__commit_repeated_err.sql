-- source: sbdchd/squawk crates/squawk_linter/src/rules/transaction_nesting.rs, test commit_repeated_err
-- peer_expects: violation
-- transaction: off
-- setup:

-- migration:
BEGIN;
SELECT 1;
COMMIT;
COMMIT;
