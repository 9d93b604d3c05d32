-- The latest event time landed (UTC), of any event type: a backtest's horizon must end by then.
select greatest(
    (select max(occurred_at) from visits),
    (select max(occurred_at) from payments),
    (select max(occurred_at) from tickets),
    (select max(occurred_at) from customer_events));
