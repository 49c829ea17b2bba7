-- source: sbdchd/squawk crates/squawk_linter/src/rules/ban_duplicate_column_assignments.rs, test distinct_and_partial_assignments_ok
-- peer_expects: ok
-- transaction: off
-- note: squawk's one table k has a column that is int, composite and array at once: split into k, kc (composite), ka (array), kq ("A" and a); inserts name the id
-- setup:
CREATE TYPE k_record AS (x int, y int);
CREATE TABLE k (id bigint PRIMARY KEY, a int, b int);
INSERT INTO k (id, a, b) SELECT g, g, g FROM generate_series(1, 1000) g;
CREATE TABLE kc (id bigint PRIMARY KEY, a k_record);
INSERT INTO kc (id, a) SELECT g, row(g, g)::k_record FROM generate_series(1, 1000) g;
CREATE TABLE ka (id bigint PRIMARY KEY, a int[]);
INSERT INTO ka (id, a) SELECT g, array[g, g] FROM generate_series(1, 1000) g;
CREATE TABLE kq (id bigint PRIMARY KEY, "A" int, a int);
INSERT INTO kq (id, "A", a) SELECT g, g, g FROM generate_series(1, 1000) g;
CREATE TABLE j (id bigint PRIMARY KEY, a k_record);
INSERT INTO j (id, a) SELECT g, row(g, g)::k_record FROM generate_series(1, 1000) g;
CREATE FOREIGN DATA WRAPPER dummy_fdw;
CREATE SERVER s FOREIGN DATA WRAPPER dummy_fdw;
-- migration:
update k
set
  a = 1,
  b = 2;
update kc
set
  a.x = 1,
  a.y = 2;
update ka
set
  a[1] = 1,
  a[2] = 2;
update kq
set
  "A" = 1,
  A = 2;
insert into k (id, a, b)
values (1001, 1, 2);
create table t (
  a int,
  b int
);
create foreign table ft (
  a int,
  b int
) server s;
create view v (a, b) as
select 1 a, 2 a;
create view inferred_v as
select 1 a, 2 b;
select 1 a, 2 b into z;
insert into kc (id, a.x, a.y)
values (1001, 1, 2);
merge into kc
using j on kc.id = j.id
when not matched then
  insert (id, a.x, a.y)
  values (j.id + 5000, 1, 2);
