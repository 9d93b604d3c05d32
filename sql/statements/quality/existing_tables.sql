-- Tables present in the database (a suite whose table does not exist yet is skipped, not failed).
select table_name from duckdb_tables() where schema_name = 'main' order by table_name;
