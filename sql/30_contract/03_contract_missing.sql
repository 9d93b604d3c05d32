create or replace macro contract_missing(fld, f, required) as
    case when contract_json_type(fld) = 'MISSING' and required then contract_problem('missing_field', f || ' is missing') end;
