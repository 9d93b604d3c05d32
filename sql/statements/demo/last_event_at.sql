-- The newest activity (UTC) the database holds: a rerun of the demo fills the history from here.
-- Profiles are left out: they carry sign-up times from before the history window.
select max(newest) as last_event_at
from (
    select max(occurred_at) as newest from tickets
    union all
    select max(occurred_at) from payments
    union all
    select max(occurred_at) from visits
);
