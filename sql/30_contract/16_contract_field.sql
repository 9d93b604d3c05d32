-- Field i of a message as the contract macros take it: its JSON type ('MISSING' for an absent field or a
-- JSON null) and its text, from the per-message lists t and s computed by statements/ingest/decode_incoming.
create or replace macro contract_field(t, s, i) as {'type': coalesce(nullif(t[i], 'NULL'), 'MISSING'), 'text': s[i]};
