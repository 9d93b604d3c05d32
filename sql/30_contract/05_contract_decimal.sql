-- A positive-or-bounded decimal amount, sent as a JSON number or a numeric string ("12.50").
create or replace macro contract_decimal(j, f, minimum, exclusive_minimum, required) as case
    when contract_json_type(j, f) in ('MISSING', 'NULL') then
        case when required then contract_problem('missing_field', f || ' is missing') end
    when contract_json_type(j, f) not in ('BIGINT', 'UBIGINT', 'DOUBLE', 'VARCHAR')
        or try_cast(j ->> f as decimal(18, 4)) is null then
        contract_problem('wrong_type', f || ' must be a decimal number, got ' || left(j ->> f, 40))
    when try_cast(j ->> f as decimal(18, 4)) < minimum
        or (exclusive_minimum and try_cast(j ->> f as decimal(18, 4)) = minimum) then
        contract_problem('out_of_range',
            f || ' must be ' || case when exclusive_minimum then '> ' else '>= ' end || minimum
            || ', got ' || (j ->> f))
end;
