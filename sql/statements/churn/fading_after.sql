-- Silently-fading records with rowid in ($after, $upto], the latest per customer, with the customer's name.
-- Records found while scoring a file backfill's batch (batch source 'file:...') are not news by themselves.
with records as (
    select rowid as record_rowid, * from churn_fading where rowid > $after and rowid <= $upto
), origin as (
    select r.*, coalesce(b.source, 'refresh') as batch_source
    from records r
    left join ingest_batches b using (batch_id)
    where coalesce(b.source, 'refresh') not like 'file:%'
)
select o.customer_id, c.name,
    arg_max(o.detected_at, o.record_rowid) as detected_at,
    arg_max(o.previous_p_alive, o.record_rowid) as previous_p_alive,
    arg_max(o.p_alive, o.record_rowid) as p_alive,
    arg_max(o.threshold, o.record_rowid) as threshold,
    arg_max(o.transactions, o.record_rowid) as transactions,
    arg_max(o.lifetime_value, o.record_rowid) as lifetime_value,
    arg_max(o.expected_value_90d, o.record_rowid) as expected_value_90d,
    arg_max(o.fit_id, o.record_rowid) as fit_id
from origin o
left join customers c using (customer_id)
group by o.customer_id, c.name
order by o.customer_id;
