-- A sequence (__sequence__, starting at 1) drawn up to $last_value, as far as the checkpoint's went.
select max(nextval('__sequence__')) from range($last_value);
