create or replace macro contract_currency(j, f) as coalesce(
    contract_string(j, f, true),
    case when contract_json_type(j, f) = 'VARCHAR'
            and (j ->> f) not in (select code from iso4217_currencies) then
        contract_problem('invalid_value', f || ' must be an ISO 4217 code, got ''' || left(j ->> f, 40) || '''')
    end
);
