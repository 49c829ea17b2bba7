-- source: sbdchd/squawk crates/squawk_linter/src/rules/constraint_missing_not_valid.rs, test adding_check_constraint_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE "accounts" (id bigint PRIMARY KEY, "balance" int);
INSERT INTO "accounts" (id, "balance") SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "accounts" ADD CONSTRAINT "positive_balance" CHECK ("balance" >= 0) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT positive_balance;
