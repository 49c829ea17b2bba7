-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_concurrent_index_deletion.rs, test fix_add_concurrently_simple
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE "table_name" (id bigint PRIMARY KEY, field_name text);
INSERT INTO "table_name" (id, field_name) SELECT g, 'f' || g FROM generate_series(1, 1000) g;
CREATE INDEX "field_name_idx" ON "table_name" ("field_name");
-- migration:
DROP INDEX "field_name_idx";
