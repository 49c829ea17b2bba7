-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_enum_value_ordering.rs, test err_add_value_if_not_exists_without_ordering
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TYPE my_enum AS ENUM ('existing_value', 'other');
CREATE TABLE uses_enum (id bigint PRIMARY KEY, e my_enum);
INSERT INTO uses_enum (id, e) SELECT g, 'existing_value' FROM generate_series(1, 1000) g;
-- migration:
ALTER TYPE my_enum ADD VALUE IF NOT EXISTS 'new_value';
