-- The customers put at risk by letting the matched ones go (what_if_collateral), by reason, least
-- profitable first.
select reason, customer_id, name, kind, plan, household_id, segment, round(margin_90d, 2) as margin_90d
from what_if_collateral($segments, $margin_below, $plan, $kind)
order by reason, margin_90d, customer_id;
