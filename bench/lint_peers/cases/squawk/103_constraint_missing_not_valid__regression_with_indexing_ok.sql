-- source: sbdchd/squawk crates/squawk_linter/src/rules/constraint_missing_not_valid.rs, test regression_with_indexing_ok
-- peer_expects: ok
-- transaction: on
-- setup:

-- migration:
CREATE TABLE "core_foo" (
"id" serial NOT NULL PRIMARY KEY,
"age" integer NOT NULL
);
ALTER TABLE "core_foo" ADD CONSTRAINT "age_restriction" CHECK ("age" >= 25);
