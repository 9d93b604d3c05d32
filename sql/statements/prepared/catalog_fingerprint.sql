-- Changes to the catalog a prepared statement can depend on: every table and view (this connection's
-- temporary ones and registered relations included), by identity and count. Macros are left out (listing
-- them is slow): they change only when the schema is applied, before anything is prepared.
select
    (select max(table_oid) from duckdb_tables()), (select count(*) from duckdb_tables()),
    (select max(view_oid) from duckdb_views()), (select count(*) from duckdb_views());
