-- The names of the lake's tables (the lake attached as `lake`): which of the log's, the alerts' and the
-- interventions' tables a pipeline created there so far.
select table_name from duckdb_tables() where database_name = 'lake';
