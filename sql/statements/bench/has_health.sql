-- Whether this database has the health model's customer_health relation (bench/freshness.py).
select count(*) > 0 from information_schema.tables where table_name = 'customer_health';
