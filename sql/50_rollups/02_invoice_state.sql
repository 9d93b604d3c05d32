-- One row per invoice that was ever charged: when it was first seen, its due date and when it was paid.
-- An invoice is overdue at time T when due_at <= T and it was not paid by T. Times are UTC.
create table if not exists invoice_state (
    invoice_id    varchar primary key,
    customer_id   varchar not null,
    first_seen_at timestamp not null,  -- earliest charge event of the invoice
    due_at        timestamp,           -- latest due date seen on its charge events
    paid_at       timestamp            -- earliest succeeded charge
);

-- The invoices the incremental refresh counts overdue invoices from: due since the current 90-day
-- window's start and not paid by their due date (paid late or not yet). Rebuilt from invoice_state by
-- every full refresh, kept in step with each batch's changed invoices in between. Small: outstanding
-- invoices only, whatever the history.
create table if not exists open_invoices (
    customer_id   varchar not null,
    invoice_id    varchar not null,
    first_seen_at timestamp not null,
    due_at        timestamp not null,
    paid_at       timestamp
);
