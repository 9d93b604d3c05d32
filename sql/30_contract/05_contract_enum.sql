create or replace macro contract_enum(fld, f, allowed, required) as coalesce(
    contract_string(fld, f, required),
    case when contract_json_type(fld) = 'VARCHAR' and not list_contains(allowed, contract_text(fld)) then
        contract_problem('invalid_value',
            f || ' must be one of ' || array_to_string(allowed, ', ') || ', got ''' || left(contract_text(fld), 40) || '''')
    end
);
