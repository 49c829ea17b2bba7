-- source: sbdchd/squawk crates/squawk_linter/src/rules/adding_foreign_key_constraint.rs, test create_table_with_column_references
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE other_table (id integer PRIMARY KEY, v int);
INSERT INTO other_table (id, v) SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
CREATE TABLE table_name (
    id BIGSERIAL NOT NULL,
    my_fk_id INTEGER NOT NULL REFERENCES other_table (id) ON DELETE CASCADE
);
