-- An RFC 3339 value as a UTC timestamp (all stored times are UTC, without zone).
create or replace macro contract_utc(fld) as (try_cast(contract_text(fld) as timestamptz) at time zone 'UTC');
