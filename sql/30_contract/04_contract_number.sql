-- A JSON number within [minimum, maximum] (minimum excluded when exclusive_minimum).
create or replace macro contract_number(j, f, minimum, exclusive_minimum, maximum, required) as case
    when contract_json_type(j, f) in ('MISSING', 'NULL') then
        case when required then contract_problem('missing_field', f || ' is missing') end
    when contract_json_type(j, f) not in ('BIGINT', 'UBIGINT', 'DOUBLE') then
        contract_problem('wrong_type', f || ' must be a number, got ' || lower(contract_json_type(j, f)))
    when try_cast(j ->> f as double) < minimum
        or (exclusive_minimum and try_cast(j ->> f as double) = minimum)
        or try_cast(j ->> f as double) > maximum
        or try_cast(j ->> f as double) is null then
        contract_problem('out_of_range',
            f || ' must be ' || case when exclusive_minimum then '> ' else '>= ' end || minimum
            || case when maximum < 1e300 then ' and <= ' || maximum else '' end || ', got ' || (j ->> f))
end;
