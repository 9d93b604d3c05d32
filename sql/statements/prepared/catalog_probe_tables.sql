-- One table of each attached database (the temporary one and a lake's metadata aside), schema and name: the
-- catalog probe (sqlfiles.Statements) reads them, so that DuckDB plans it again exactly when it would plan again a
-- prepared statement reading that database (any table, view or macro of it created or dropped since).
select database_name, min([schema_name, table_name]) as first_table
from duckdb_tables()
where not temporary and database_name not like '\_\_ducklake\_metadata\_%' escape '\'
group by database_name
order by database_name;
