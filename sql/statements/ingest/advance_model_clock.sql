-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The model clock after this batch: the latest occurred_at landed so far (never earlier than before), and
-- the pipeline's clock source. $now is the wall clock (UTC).
insert or replace into model_clock
select true, $source::VARCHAR, greatest(
        (select event_time from model_clock),
        (select max(occurred_at) from (
            select occurred_at from checked_customers where len(problems) = 0
            union all select occurred_at from checked_tickets where len(problems) = 0
            union all select occurred_at from checked_payments where len(problems) = 0
            union all select occurred_at from checked_visits where len(problems) = 0))),
    $now::TIMESTAMP;
