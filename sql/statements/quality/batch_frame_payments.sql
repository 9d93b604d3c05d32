-- Batch-suite frame: the valid payments of the batch being landed (checked_payments). amount in currency
-- units; minutes_ahead_of_now: occurred_at after the batch clock $now (minutes; negative = past).
select ordinal, event_id, customer_id, invoice_id, kind, status, amount::double as amount, currency,
    (epoch_ms(occurred_at) - epoch_ms($now::timestamp)) / 60000.0 as minutes_ahead_of_now
from checked_payments
where len(problems) = 0
order by ordinal;
