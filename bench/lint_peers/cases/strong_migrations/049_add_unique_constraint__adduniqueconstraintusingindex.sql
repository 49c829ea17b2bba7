-- source: ankane/strong_migrations test/add_unique_constraint_test.rb, test_using_index (AddUniqueConstraintUsingIndex)
-- peer_expects: no error (safe)
-- transaction: off
-- setup:
CREATE EXTENSION citext;
CREATE EXTENSION btree_gist;
CREATE EXTENSION pgcrypto;
CREATE TABLE orders (id bigserial PRIMARY KEY);
INSERT INTO orders SELECT FROM generate_series(1, 1000);
CREATE TABLE devices (id bigserial PRIMARY KEY);
INSERT INTO devices SELECT FROM generate_series(1, 1000);
CREATE TABLE users (id bigserial PRIMARY KEY, name character varying, city character varying,
  credit_score numeric(10,5), deleted_at timestamp(6) without time zone,
  country character varying(20), "interval" character varying, description text, code citext,
  order_id bigint);
CREATE INDEX index_users_on_order_id ON users (order_id);
INSERT INTO users (name, city, credit_score, country, "interval", description, code, order_id)
SELECT 'user' || g, 'city' || (g % 10), g, 'c' || (g % 20), '1 day', 'about ' || g, 'Code' || g, g
FROM generate_series(1, 1000) g;
-- migration:
CREATE UNIQUE INDEX CONCURRENTLY "index_users_on_name" ON "users" ("name");
ALTER TABLE "users" ADD CONSTRAINT "uniq_rails_name" UNIQUE USING INDEX "index_users_on_name";
