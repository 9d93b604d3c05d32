create or replace macro contract_integer(j, f, minimum, required) as case
    when contract_json_type(j, f) in ('MISSING', 'NULL') then
        case when required then contract_problem('missing_field', f || ' is missing') end
    when contract_json_type(j, f) not in ('BIGINT', 'UBIGINT') then
        contract_problem('wrong_type', f || ' must be an integer, got ' || lower(contract_json_type(j, f)))
    when try_cast(j ->> f as bigint) is null or try_cast(j ->> f as bigint) < minimum then
        contract_problem('out_of_range', f || ' must be an integer >= ' || minimum || ', got ' || (j ->> f))
end;
