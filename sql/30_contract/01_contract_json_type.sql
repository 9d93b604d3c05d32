-- Every contract macro takes fld, one field of a message as {'type': its JSON type, 'text': its value as
-- text}, extracted for all fields at once (one JSON parse per message, see statements/ingest/check_*),
-- and f, the field's name for messages. A missing field and a JSON null both have type 'MISSING'.
create or replace macro contract_json_type(fld) as fld.type;
