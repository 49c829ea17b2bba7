-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test add_numbers_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE account_metadata (id bigint PRIMARY KEY, v int);
INSERT INTO account_metadata (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
alter table account_metadata add column blah integer default 2 + 2;
