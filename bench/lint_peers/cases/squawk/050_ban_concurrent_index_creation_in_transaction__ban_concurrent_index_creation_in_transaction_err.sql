-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_concurrent_index_creation_in_transaction.rs, test ban_concurrent_index_creation_in_transaction_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE "table_name" (id bigint PRIMARY KEY, field_name text);
INSERT INTO "table_name" (id, field_name) SELECT g, 'f' || g FROM generate_series(1, 1000) g;
-- migration:
BEGIN;
CREATE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
COMMIT;
