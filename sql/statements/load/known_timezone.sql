-- Whether $zone names a time zone DuckDB knows (IANA names, e.g. UTC, Europe/Berlin, America/New_York).
select exists (select 1 from pg_timezone_names() where name = $zone);
