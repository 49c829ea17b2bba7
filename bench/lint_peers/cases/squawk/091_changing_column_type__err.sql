-- source: sbdchd/squawk crates/squawk_linter/src/rules/changing_column_type.rs, test err
-- peer_expects: violation
-- transaction: off
-- note: the old type is not in squawk's test; setup makes edits an integer
-- setup:
CREATE TABLE "core_recipe" (id bigint PRIMARY KEY, "edits" integer);
INSERT INTO "core_recipe" (id, "edits") SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
BEGIN;
ALTER TABLE "core_recipe" ALTER COLUMN "edits" TYPE text USING "edits"::text;
COMMIT;
