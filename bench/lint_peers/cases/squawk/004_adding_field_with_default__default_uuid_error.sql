-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test default_uuid_error
-- peer_expects: violation
-- transaction: off
-- note: uuid() -> gen_random_uuid(), integer -> uuid (see default_uuid_error_multi_stmt)
-- setup:
CREATE TABLE core_recipe (id bigint PRIMARY KEY, name text);
INSERT INTO core_recipe (id, name) SELECT g, 'r' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "core_recipe" ADD COLUMN "foo" uuid DEFAULT gen_random_uuid();
