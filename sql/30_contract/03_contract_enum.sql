create or replace macro contract_enum(j, f, allowed, required) as coalesce(
    contract_string(j, f, required),
    case when contract_json_type(j, f) = 'VARCHAR' and not list_contains(allowed, j ->> f) then
        contract_problem('invalid_value',
            f || ' must be one of ' || array_to_string(allowed, ', ') || ', got ''' || left(j ->> f, 40) || '''')
    end
);
