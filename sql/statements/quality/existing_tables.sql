-- Tables and views present in the database (a suite or alert source whose relation does not exist yet is
-- skipped, not failed).
select table_name from information_schema.tables where table_schema = 'main' order by table_name;
