-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_truncate_cascade.rs, test err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE a (id bigint PRIMARY KEY, v int);
INSERT INTO a (id, v) SELECT g, g FROM generate_series(1, 1000) g;
CREATE TABLE b (id bigint PRIMARY KEY, a_id bigint REFERENCES a);
INSERT INTO b (id, a_id) SELECT g, g FROM generate_series(1, 1000) g;
CREATE TABLE c (id bigint PRIMARY KEY, v int);
INSERT INTO c (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
truncate a, b, c cascade;
