-- The whole payload when it carries fields outside the contract (kept, never dropped), else null.
-- text is the message as text (a JSON object); contract_fields is how many of its type's contract fields it
-- has (decode_incoming counts them while parsing): any further top-level key is outside the contract.
create or replace macro contract_extra(text, contract_fields) as
    case when len(json_keys(text)) > contract_fields then text::json end;
