create or replace macro contract_currency(fld, f) as coalesce(
    contract_string(fld, f, true),
    case when contract_json_type(fld) = 'VARCHAR'
            and contract_text(fld) not in (select code from iso4217_currencies) then
        contract_problem('invalid_value', f || ' must be an ISO 4217 code, got ''' || left(contract_text(fld), 40) || '''')
    end
);
