-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_foreign_key_constraint.rs, test alter_table_foreign_key_assume_transaction
-- peer_expects: ok
-- transaction: on
-- setup:
CREATE TABLE "users" ("id" uuid PRIMARY KEY, name text);
INSERT INTO users SELECT gen_random_uuid(), 'u' || g FROM generate_series(1, 1000) g;
-- migration:
CREATE TABLE "emails" ("id" UUID NOT NULL, "user_id" UUID NOT NULL);
ALTER TABLE "emails" ADD CONSTRAINT "fk_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id");
