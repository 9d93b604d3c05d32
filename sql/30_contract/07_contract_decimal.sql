-- A decimal amount, sent as a JSON number or a numeric string ("12.50").
create or replace macro contract_decimal(fld, f, minimum, exclusive_minimum, required) as case
    when contract_json_type(fld) = 'MISSING' then contract_missing(fld, f, required)
    when contract_json_type(fld) not in ('BIGINT', 'UBIGINT', 'DOUBLE', 'VARCHAR')
        or try_cast(contract_text(fld) as decimal(18, 4)) is null then
        contract_problem('wrong_type', f || ' must be a decimal number, got ' || contract_got(fld))
    when try_cast(contract_text(fld) as decimal(18, 4)) < minimum
        or (exclusive_minimum and try_cast(contract_text(fld) as decimal(18, 4)) = minimum) then
        contract_problem('out_of_range',
            f || ' must be ' || case when exclusive_minimum then '> ' else '>= ' end || minimum
            || ', got ' || contract_text(fld))
end;
