-- Tickets that were escalated to a manager, with the time of their first escalated event (UTC).
-- previous_escalated_at is bookkeeping for the incremental refresh: the value before the last change.
create table if not exists ticket_escalations (
    ticket_id             varchar primary key,
    customer_id           varchar not null,
    escalated_at          timestamp not null,
    previous_escalated_at timestamp
);
