-- Rows of a CSV or Parquet file as contract JSON messages, one per row, numbered from 1.
-- CSV is untyped text: a contract number or boolean field becomes a JSON number/boolean when its text
-- parses as one, else it stays a string (and the contract check names the bad value). Empty cells are
-- omitted. Timestamps typed by Parquet are written as RFC 3339 in UTC, a DATE as YYYY-MM-DD (a day, which the
-- contract takes for signed_up_at and cancelled_at). A time without an offset (CSV text, a Parquet TIMESTAMP
-- without time zone) in a contract time field is read in zone $assume_timezone (an IANA name) and written in UTC;
-- with $assume_timezone null it stays as it is, and the contract refuses it.
with numbered as (
    select row_number() over () as source_line, columns(*)::varchar
    from load_source  -- the file, as a view created by the loader
), cells as (
    unpivot numbered on columns(* exclude source_line) into name field value text
)
select source_line,
    encode(json_group_object(field,
        case
            when list_contains($number_fields, field) and try_cast(text as double) is not null
                then case when regexp_full_match(trim(text), '-?\d+') then trim(text)::bigint::json else text::double::json end
            when list_contains($boolean_fields, field) and lower(text) in ('true', 'false')
                then (lower(text) = 'true')::json
            when $assume_timezone::VARCHAR is not null and list_contains(contract_timestamp_fields(), field)
                and regexp_full_match(trim(text), '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?')
                then to_json(strftime(timezone('UTC', timezone($assume_timezone::VARCHAR, trim(text)::timestamp)),
                    '%Y-%m-%dT%H:%M:%S.%fZ'))
            else to_json(regexp_replace(text,
                '^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(\.\d+)?)([+-]\d{2})$', '\1T\2\4:00'))
        end)::varchar) as raw
from cells
group by source_line
order by source_line;
