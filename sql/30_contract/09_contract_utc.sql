-- An RFC 3339 string as a UTC timestamp (all stored times are UTC, without zone).
create or replace macro contract_utc(s) as (try_cast(s as timestamptz) at time zone 'UTC');
