-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_foreign_key_constraint.rs, test add_foreign_key_constraint_lock
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE "user" (id bigint PRIMARY KEY, name text);
INSERT INTO "user" (id, name) SELECT g, 'u' || g FROM generate_series(1, 1000) g;
CREATE TABLE "email" (id bigint PRIMARY KEY, address text);
INSERT INTO "email" (id, address) SELECT g, 'e' || g FROM generate_series(1, 1000) g;
-- migration:
BEGIN;
ALTER TABLE "email" ADD COLUMN "user_id" INT;
ALTER TABLE "email" ADD CONSTRAINT "fk_user" FOREIGN KEY ("user_id") REFERENCES "user" ("id");
COMMIT;
