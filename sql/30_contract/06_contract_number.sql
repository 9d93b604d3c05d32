-- A JSON number within [minimum, maximum] (minimum excluded when exclusive_minimum).
create or replace macro contract_number(fld, f, minimum, exclusive_minimum, maximum, required) as case
    when contract_json_type(fld) = 'MISSING' then contract_missing(fld, f, required)
    when contract_json_type(fld) not in ('BIGINT', 'UBIGINT', 'DOUBLE') then
        contract_problem('wrong_type', f || ' must be a number, got ' || contract_got(fld))
    when try_cast(contract_text(fld) as double) is null
        or try_cast(contract_text(fld) as double) < minimum
        or (exclusive_minimum and try_cast(contract_text(fld) as double) = minimum)
        or try_cast(contract_text(fld) as double) > maximum then
        contract_problem('out_of_range',
            f || ' must be ' || case when exclusive_minimum then '> ' else '>= ' end || minimum
            || case when maximum < 1e300 then ' and <= ' || maximum else '' end || ', got ' || contract_text(fld))
end;
