-- source: sbdchd/squawk crates/squawk_linter/src/rules/identifier_too_long.rs, test create_index_long_name_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE t (id bigint PRIMARY KEY, col bigint);
INSERT INTO t (id, col) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
create index index_very_long_very_long_very_long_very_long_very_long_very_long on t (col);
