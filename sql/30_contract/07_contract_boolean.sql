create or replace macro contract_boolean(j, f, required) as case
    when contract_json_type(j, f) in ('MISSING', 'NULL') then
        case when required then contract_problem('missing_field', f || ' is missing') end
    when contract_json_type(j, f) <> 'BOOLEAN' then
        contract_problem('wrong_type', f || ' must be true or false, got ' || lower(contract_json_type(j, f)))
end;
