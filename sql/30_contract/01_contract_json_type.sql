-- JSON type of field f of object j: 'MISSING' when absent, 'NULL' for a JSON null.
create or replace macro contract_json_type(j, f) as coalesce(json_type(j, '$."' || f || '"'), 'MISSING');
