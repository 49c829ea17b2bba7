-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_not_null_field.rs, test set_not_null
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE core_recipe (id bigint PRIMARY KEY, foo integer);
INSERT INTO core_recipe (id, foo) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "core_recipe" ALTER COLUMN "foo" SET NOT NULL;
