-- The whole payload when it carries fields outside the contract (kept, never dropped), else null.
create or replace macro contract_extra(j, known) as
    case when len(list_filter(json_keys(j), k -> not list_contains(known, k))) > 0 then j end;
