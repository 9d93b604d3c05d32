-- A date-like profile field (signed_up_at, cancelled_at): an RFC 3339 timestamp with offset, or a day alone
-- (YYYY-MM-DD, as CSV exports write it and as a Parquet DATE column is read), which is 00:00 UTC of that day.
create or replace macro contract_is_day(fld) as
    regexp_full_match(contract_text(fld), '\d{4}-\d{2}-\d{2}') and try_cast(contract_text(fld) as date) is not null;
create or replace macro contract_day_or_timestamp(fld, f, required) as coalesce(
    contract_string(fld, f, required),
    case when contract_json_type(fld) = 'VARCHAR' and not contract_is_day(fld) and (
            not regexp_full_match(contract_text(fld),
                '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})')
            or try_cast(contract_text(fld) as timestamptz) is null) then
        contract_problem('invalid_timestamp',
            f || ' must be an RFC 3339 timestamp with offset or a day (YYYY-MM-DD, taken as 00:00 UTC), got '''
            || left(contract_text(fld), 40) || '''')
    end
);
-- Its value as a UTC timestamp (a day: its 00:00 UTC, whatever the session's time zone).
create or replace macro contract_day_or_utc(fld) as
    case when contract_is_day(fld) then try_cast(contract_text(fld) as date)::timestamp else contract_utc(fld) end;
