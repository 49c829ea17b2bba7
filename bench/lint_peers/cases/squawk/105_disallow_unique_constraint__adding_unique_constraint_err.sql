-- source: sbdchd/squawk crates/squawk_linter/src/rules/disallow_unique_constraint.rs, test adding_unique_constraint_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE table_name (id bigint PRIMARY KEY, field_name text);
INSERT INTO table_name (id, field_name) SELECT g, 'f' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE table_name ADD CONSTRAINT field_name_constraint UNIQUE (field_name);
