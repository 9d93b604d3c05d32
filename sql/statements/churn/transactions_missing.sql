-- True when churn_days is empty although succeeded charges were landed (a database from before the churn
-- model, or a lost rollup): it must be rebuilt.
select not exists (from churn_days)
    and exists (from payments where kind = 'charge' and status = 'succeeded');
