-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_concurrent_index_creation_in_transaction.rs, test assuming_in_transaction_ok_also
-- peer_expects: ok
-- transaction: on
-- setup:
CREATE TABLE "table_name" (id bigint PRIMARY KEY, field_name text);
INSERT INTO "table_name" (id, field_name) SELECT g, 'f' || g FROM generate_series(1, 1000) g;
-- migration:
COMMIT;
CREATE UNIQUE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
BEGIN;
ALTER TABLE "table_name" ADD CONSTRAINT "field_name_id" UNIQUE USING INDEX "field_name_idx";
