-- The working store's tables a checkpoint holds: all but what is one process's own (the partitions it owns,
-- its recorded lag, its alerts' source cursors) and what is the group's in the lake, which every pipeline and
-- reader takes from there (alerts, their state and deliveries; interventions).
select table_name from duckdb_tables()
where database_name = current_database() and schema_name = 'main' and not temporary
    and table_name not in ('pipeline_partitions', 'consumer_lag', 'alerts', 'alert_state', 'alert_deliveries',
                           'alert_cursors', 'interventions')
order by table_name;
