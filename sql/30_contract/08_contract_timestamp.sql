-- RFC 3339 with an explicit offset ('Z' or +hh:mm); naive local times are refused.
create or replace macro contract_timestamp(j, f, required) as coalesce(
    contract_string(j, f, required),
    case when contract_json_type(j, f) = 'VARCHAR' and (
            not regexp_full_match(j ->> f, '\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})')
            or try_cast(j ->> f as timestamptz) is null) then
        contract_problem('invalid_timestamp',
            f || ' must be an RFC 3339 timestamp with offset, got ''' || left(j ->> f, 40) || '''')
    end
);
