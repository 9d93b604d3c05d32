-- The working store's tables a checkpoint holds: all but what is one process's own (the partitions it owns,
-- its recorded lag) and what is the group's in the lake, which every pipeline and reader takes from there
-- (alerts, their state and deliveries; interventions; quality runs and their results: a pipeline opened from
-- a checkpoint records in the lake only its own). The alerts' source cursors are held: a pipeline opened from
-- the checkpoint reads on from where its writer had read the tables they point into (changes before it were
-- news to their owners then), rather than from the start of the history.
select table_name from duckdb_tables()
where database_name = current_database() and schema_name = 'main' and not temporary
    and table_name not in ('pipeline_partitions', 'consumer_lag', 'alerts', 'alert_state', 'alert_deliveries',
                           'interventions', 'quality_runs', 'quality_results')
order by table_name;
