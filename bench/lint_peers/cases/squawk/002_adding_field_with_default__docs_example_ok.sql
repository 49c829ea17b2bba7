-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test docs_example_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE core_recipe (id bigint PRIMARY KEY, name text);
INSERT INTO core_recipe (id, name) SELECT g, 'r' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "core_recipe" ADD COLUMN "foo" integer;
ALTER TABLE "core_recipe" ALTER COLUMN "foo" SET DEFAULT 10;
