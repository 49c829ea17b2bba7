-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_foreign_key_constraint.rs, test create_table_with_foreign_key_constraint
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE "user" (id bigint PRIMARY KEY, name text);
INSERT INTO "user" (id, name) SELECT g, 'u' || g FROM generate_series(1, 1000) g;
-- migration:
BEGIN;
CREATE TABLE email (
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    user_id BIGINT,
    email TEXT,
    PRIMARY KEY(id),
    CONSTRAINT fk_user
        FOREIGN KEY ("user_id")
        REFERENCES "user" ("id")
);
COMMIT;
