-- The time zone DuckDB knows by the name $zone, in its own spelling (IANA names, matched case-insensitively:
-- utc is UTC, europe/berlin Europe/Berlin); null when none.
select name from pg_timezone_names() where lower(name) = lower($zone) order by name = $zone desc, name limit 1;
