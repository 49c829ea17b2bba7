-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test default_random_with_args_err
-- peer_expects: violation
-- transaction: off
-- note: kept as written: no now(integer) exists, so the statement fails
-- setup:
CREATE TABLE core_recipe (id bigint PRIMARY KEY, name text);
INSERT INTO core_recipe (id, name) SELECT g, 'r' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "core_recipe" ADD COLUMN "foo" timestamptz DEFAULT now(123);
