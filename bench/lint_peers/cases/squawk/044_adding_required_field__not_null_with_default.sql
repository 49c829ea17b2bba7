-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_required_field.rs, test not_null_with_default
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE "recipe" (id bigint PRIMARY KEY, name text);
INSERT INTO "recipe" (id, name) SELECT g, 'r' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE "recipe" ADD COLUMN "public" boolean NOT NULL DEFAULT true;
