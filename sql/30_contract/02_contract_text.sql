-- The field's value as text (a JSON string unquoted; a number or boolean as written).
create or replace macro contract_text(fld) as fld.text;
