create or replace macro contract_string(fld, f, required) as case
    when contract_json_type(fld) = 'MISSING' then contract_missing(fld, f, required)
    when contract_json_type(fld) <> 'VARCHAR' then
        contract_problem('wrong_type', f || ' must be a string, got ' || contract_got(fld))
    when trim(contract_text(fld)) = '' then contract_problem('missing_field', f || ' is empty')
end;
