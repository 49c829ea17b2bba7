-- source: sbdchd/squawk crates/squawk_linter/src/rules/constraint_missing_not_valid.rs, test adding_using_index_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE account (id bigint NOT NULL, v int);
INSERT INTO account SELECT g, g FROM generate_series(1, 1000) g;
CREATE UNIQUE INDEX account_pk_idx ON account (id);
-- migration:
ALTER TABLE account ADD CONSTRAINT account_pk PRIMARY KEY USING INDEX account_pk_idx;
