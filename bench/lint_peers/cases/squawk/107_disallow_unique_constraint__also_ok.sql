-- source: sbdchd/squawk crates/squawk_linter/src/rules/disallow_unique_constraint.rs, test also_ok
-- peer_expects: ok
-- transaction: off
-- setup:
CREATE TABLE distributors (dist_id bigint NOT NULL, v int, CONSTRAINT distributors_pkey PRIMARY KEY (v));
INSERT INTO distributors SELECT g, g FROM generate_series(1, 1000) g;
-- migration:
CREATE UNIQUE INDEX CONCURRENTLY dist_id_temp_idx ON distributors (dist_id);
ALTER TABLE distributors DROP CONSTRAINT distributors_pkey,
ADD CONSTRAINT distributors_pkey PRIMARY KEY USING INDEX dist_id_temp_idx;
