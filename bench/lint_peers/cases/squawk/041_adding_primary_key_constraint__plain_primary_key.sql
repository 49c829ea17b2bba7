-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_primary_key_constraint.rs, test plain_primary_key
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE items (id bigint NOT NULL, v int);
INSERT INTO items SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE items ADD PRIMARY KEY (id);
