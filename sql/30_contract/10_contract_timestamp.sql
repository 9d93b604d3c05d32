-- RFC 3339 with an explicit offset ('Z' or +hh:mm); naive local times are refused.
create or replace macro contract_timestamp(fld, f, required) as coalesce(
    contract_string(fld, f, required),
    case when contract_json_type(fld) = 'VARCHAR' and (
            not regexp_full_match(contract_text(fld),
                '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})')
            or try_cast(contract_text(fld) as timestamptz) is null) then
        contract_problem('invalid_timestamp',
            f || ' must be an RFC 3339 timestamp with offset, got ''' || left(contract_text(fld), 40) || '''')
    end
);
