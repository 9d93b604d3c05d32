-- The field's value as text (a JSON string unquoted; a number or boolean as written).
create or replace macro contract_text(fld) as fld.text;
-- What a field of the wrong type holds, for messages, in JSON's words and with its value when short:
-- a string 'twelve', a number 12.5, true, an object, an array.
create or replace macro contract_got(fld) as case contract_json_type(fld)
    when 'VARCHAR' then 'a string ''' || left(contract_text(fld), 40) || ''''
    when 'BOOLEAN' then contract_text(fld)
    when 'OBJECT' then 'an object'
    when 'ARRAY' then 'an array'
    else 'a number ' || left(contract_text(fld), 40)
end;
