-- store = "ducklake": of the candidate customers ($subjects), those whose alerts this pipeline raises: the ones
-- it owns (pipeline_owned_customers) whose health it has derived (not pending: health_pending, until its next
-- refresh computes them from the rollups); whether it is the leader (it owns partition 0 of the customers
-- topic: it raises the portfolio-wide alerts), and whether it owns any partition at all.
with subjects as (
    select distinct unnest($subjects::varchar[]) as customer_id
)
select
    coalesce((select list(o.customer_id order by o.customer_id)
              from pipeline_owned_customers('subjects', $customers_topic) o
              where o.customer_id not in (select customer_id from health_pending)),
             []::varchar[]) as customers,
    exists (from pipeline_partitions where topic = $customers_topic and "partition" = 0) as leader,
    exists (from pipeline_partitions) as owns_any;
