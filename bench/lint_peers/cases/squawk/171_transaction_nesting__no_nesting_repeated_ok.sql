-- source: sbdchd/squawk crates/squawk_linter/src/rules/transaction_nesting.rs, test no_nesting_repeated_ok
-- peer_expects: ok
-- transaction: off
-- setup:

-- migration:
BEGIN;
SELECT 1;
COMMIT;
BEGIN;
SELECT 2;
COMMIT;
