create or replace macro contract_string(j, f, required) as case
    when contract_json_type(j, f) in ('MISSING', 'NULL') then
        case when required then contract_problem('missing_field', f || ' is missing') end
    when contract_json_type(j, f) <> 'VARCHAR' then
        contract_problem('wrong_type', f || ' must be a string, got ' || lower(contract_json_type(j, f)))
    when trim(j ->> f) = '' then contract_problem('missing_field', f || ' is empty')
end;
