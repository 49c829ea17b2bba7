-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_drop_table.rs, test err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE "table_name" (id bigint PRIMARY KEY, v int);
INSERT INTO "table_name" (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
DROP TABLE "table_name";
DROP TABLE IF EXISTS "table_name";
DROP TABLE IF EXISTS "table_name";
