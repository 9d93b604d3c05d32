-- The UTC day of the earliest landed event (null: none): history points before it would be empty.
select least((select min(day) from customer_day), (select min(occurred_at)::date from customer_events));
