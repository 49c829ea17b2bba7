-- source: sbdchd/squawk crates/squawk_linter/src/rules/transaction_nesting.rs, test commit_with_assume_in_transaction_err
-- peer_expects: violation
-- transaction: on
-- setup:

-- migration:
SELECT 1;
COMMIT;
