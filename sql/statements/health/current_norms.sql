-- The portfolio norms as they stand in health_state at $now (known, not churned customers), in the order
-- of refresh_status: active customers, median support minutes, mean complaint index, median margin.
select count(*), coalesce(median(support_minutes_90d::double), 0), coalesce(median(complaint_index_90d), 0),
    coalesce(median(margin_90d), 0)
from health_state
where has_profile and not coalesce(cancelled_at <= $now::timestamp, false);
