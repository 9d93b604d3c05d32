-- The whole payload when it carries fields outside the contract (kept, never dropped), else null.
-- text is the message as text (valid JSON object); it is parsed here once for its keys.
create or replace macro contract_extra(text, known) as
    case when len(list_filter(json_keys(text), k -> not list_contains(known, k))) > 0 then text::json end;
