-- $n fresh alert ids, in order.
select nextval('alert_ids') as alert_id from range($n) order by 1;
