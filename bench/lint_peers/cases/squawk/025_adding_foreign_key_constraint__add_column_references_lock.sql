-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_foreign_key_constraint.rs, test add_column_references_lock
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE "user" (id bigint PRIMARY KEY, name text);
INSERT INTO "user" (id, name) SELECT g, 'u' || g FROM generate_series(1, 1000) g;
CREATE TABLE "emails" (id bigint PRIMARY KEY, address text);
INSERT INTO "emails" (id, address) SELECT g, 'e' || g FROM generate_series(1, 1000) g;
-- migration:
BEGIN;
ALTER TABLE "emails" ADD COLUMN "user_id" INT REFERENCES "user" ("id");
COMMIT;
