create or replace macro contract_integer(fld, f, minimum, required) as case
    when contract_json_type(fld) = 'MISSING' then contract_missing(fld, f, required)
    when contract_json_type(fld) not in ('BIGINT', 'UBIGINT') then
        contract_problem('wrong_type', f || ' must be an integer, got ' || contract_got(fld))
    when try_cast(contract_text(fld) as bigint) is null or try_cast(contract_text(fld) as bigint) < minimum then
        contract_problem('out_of_range', f || ' must be an integer >= ' || minimum || ', got ' || contract_text(fld))
end;
