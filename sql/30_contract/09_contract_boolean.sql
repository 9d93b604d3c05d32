create or replace macro contract_boolean(fld, f, required) as case
    when contract_json_type(fld) = 'MISSING' then contract_missing(fld, f, required)
    when contract_json_type(fld) <> 'BOOLEAN' then
        contract_problem('wrong_type', f || ' must be true or false, got ' || contract_got(fld))
end;
