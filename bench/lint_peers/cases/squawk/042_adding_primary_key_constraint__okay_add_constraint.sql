-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_primary_key_constraint.rs, test okay_add_constraint
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE items (id bigint NOT NULL, v int);
INSERT INTO items SELECT g, g FROM generate_series(1, 1000) g;
CREATE UNIQUE INDEX items_pk ON items (id);
-- migration:
ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY USING INDEX items_pk;
