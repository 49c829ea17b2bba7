-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_uncommitted_transaction.rs, test no_transaction_ok
-- peer_expects: ok
-- transaction: off
-- setup:

-- migration:
CREATE TABLE users (id bigint);
