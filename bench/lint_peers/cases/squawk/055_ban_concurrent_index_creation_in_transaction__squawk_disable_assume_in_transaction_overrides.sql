-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_concurrent_index_creation_in_transaction.rs, test squawk_disable_assume_in_transaction_overrides
-- peer_expects: ok
-- transaction: off
-- note: the squawk-disable-assume-in-transaction comment is the file's transaction off
-- setup:
CREATE TABLE "table_name" (id bigint PRIMARY KEY, field_name text);
INSERT INTO "table_name" (id, field_name) SELECT g, 'f' || g FROM generate_series(1, 1000) g;
-- migration:
CREATE INDEX CONCURRENTLY "field_name_idx" ON "table_name" ("field_name");
ALTER TABLE "table_name" ADD CONSTRAINT "field_name_id" UNIQUE USING INDEX "field_name_idx";
