-- source: sbdchd/squawk crates/squawk_linter/src/rules/identifier_too_long.rs, test drop_table_long_name_err
-- peer_expects: violation
-- transaction: off
-- note: setup creates the table (under its truncated name)
-- setup:
CREATE TABLE table_very_long_very_long_very_long_very_long_very_long_very_long (id bigint PRIMARY KEY, v int);
INSERT INTO table_very_long_very_long_very_long_very_long_very_long_very_long (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
drop table table_very_long_very_long_very_long_very_long_very_long_very_long;
