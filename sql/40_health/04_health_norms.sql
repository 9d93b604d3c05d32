-- Portfolio norms used by scores and segment rules, computed by each full refresh over the known,
-- not churned customers. The incremental refresh uses the latest row. Minutes are agent minutes;
-- margins in the reporting currency.
create table if not exists health_norms (
    computed_at                timestamp primary key,
    window_day                 date not null,
    customers                  integer not null,
    median_support_minutes_90d double not null,
    median_complaint_index_90d double not null,
    median_margin_90d          double not null,
    params                     varchar  -- the [health] settings of that refresh ($params JSON)
);
-- Databases created before the settings were kept with the norms.
alter table health_norms add column if not exists params varchar;
