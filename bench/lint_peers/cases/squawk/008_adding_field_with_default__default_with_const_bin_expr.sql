-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_field_with_default.rs, test default_with_const_bin_expr
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE assessments (id bigint PRIMARY KEY, v int);
INSERT INTO assessments (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE assessments
ADD COLUMN statistics_last_updated_at timestamptz NOT NULL DEFAULT now() - interval '100 years';
