-- source: sbdchd/squawk crates/squawk_linter/src/rules/require_enum_value_ordering.rs, test ok_add_value_after
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TYPE my_enum AS ENUM ('existing_value', 'other');
CREATE TABLE uses_enum (id bigint PRIMARY KEY, e my_enum);
INSERT INTO uses_enum (id, e) SELECT g, 'existing_value' FROM generate_series(1, 1000) g;
-- migration:
ALTER TYPE my_enum ADD VALUE 'new_value' AFTER 'existing_value';
