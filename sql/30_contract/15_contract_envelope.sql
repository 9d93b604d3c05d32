-- The problem with a message as a whole (size, encoding, JSON, root type), or null.
-- root_type is json_type of the text at '$', null when the text is not JSON.
create or replace macro contract_envelope(early_problem, root_type) as case
    when early_problem is not null then early_problem
    when root_type is null then contract_problem('invalid_json', 'message is not valid JSON')
    when root_type <> 'OBJECT' then
        contract_problem('not_an_object', 'message must be a JSON object, got ' || lower(root_type))
end;
