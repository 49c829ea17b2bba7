-- source: sbdchd/squawk crates/squawk_linter/src/rules/transaction_nesting.rs, test no_nesting_with_assume_transaction_ok
-- peer_expects: ok
-- transaction: on
-- setup:

-- migration:
SELECT 1;
