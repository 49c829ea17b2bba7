-- source: sbdchd/squawk crates/squawk_linter/src/rules/disallow_unique_constraint.rs, test ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE table_name (id bigint PRIMARY KEY, field_name text);
INSERT INTO table_name (id, field_name) SELECT g, 'f' || g FROM generate_series(1, 1000) g;
ALTER TABLE table_name ADD CONSTRAINT field_name_constraint UNIQUE (field_name);
-- migration:
ALTER TABLE table_name DROP CONSTRAINT field_name_constraint;
