-- source: sbdchd/squawk crates/squawk_linter/src/rules/constraint_missing_not_valid.rs, test adding_fk_not_valid_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE addresses (id bigint PRIMARY KEY, address text UNIQUE);
INSERT INTO addresses (id, address) SELECT g, 'a' || g FROM generate_series(1, 1000) g;
CREATE TABLE distributors (id bigint PRIMARY KEY, address text);
INSERT INTO distributors (id, address) SELECT g, 'a' || g FROM generate_series(1, 1000) g;
-- migration:
ALTER TABLE distributors ADD CONSTRAINT distfk FOREIGN KEY (address) REFERENCES addresses (address) NOT VALID;
ALTER TABLE distributors VALIDATE CONSTRAINT distfk;
