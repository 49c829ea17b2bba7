-- source: sbdchd/squawk crates/squawk_linter/src/rules/constraint_missing_not_valid.rs, test adding_fk_err
-- peer_expects: violation
-- transaction: off
-- setup:
CREATE TABLE addresses (id bigint PRIMARY KEY, address text UNIQUE);
INSERT INTO addresses (id, address) SELECT g, 'a' || g FROM generate_series(1, 1000) g;
CREATE TABLE distributors (id bigint PRIMARY KEY, address text);
INSERT INTO distributors (id, address) SELECT g, 'a' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE distributors ADD CONSTRAINT distfk FOREIGN KEY (address) REFERENCES addresses (address);
