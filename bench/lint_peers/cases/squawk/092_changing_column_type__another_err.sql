-- source: sbdchd/squawk crates/squawk_linter/src/rules/changing_column_type.rs, test another_err
-- peer_expects: violation
-- transaction: off
-- note: the old type is not in squawk's test; setup makes foo a varchar(100), no index
-- setup:
CREATE TABLE "core_recipe" (id bigint PRIMARY KEY, "foo" varchar(100));
INSERT INTO "core_recipe" (id, "foo") SELECT g, 'f' || g FROM generate_series(1, 1000) g;
-- migration:
BEGIN;
ALTER TABLE "core_recipe" ALTER COLUMN "foo" TYPE varchar(255) USING "foo"::varchar(255);
ALTER TABLE "core_recipe" ALTER COLUMN "foo" TYPE text USING "foo"::text;
COMMIT;
