-- Per customer and UTC day (of occurred_at): the additive facts of the health model, kept up to date by
-- the pipeline batch by batch. Append-only: each batch adds one row per customer and day it touched
-- (batch_id set; cheap, no lookups), and the first full refresh of each UTC day compacts those rows into
-- one per customer and day (batch_id null). Readers sum all rows of a key. Minutes are agent minutes; charges, refunds,
-- chargebacks and credits are succeeded payments converted to the reporting currency; compensation
-- amounts are in the customer's own (billing) currency, converted when metrics are computed.
create table if not exists customer_day (
    customer_id                   varchar not null,
    day                           date not null,
    support_minutes               decimal(18, 4) not null,
    how_to_minutes                decimal(18, 4) not null,
    tickets_opened                integer not null,  -- tickets opened (any category)
    complaints                    integer not null,  -- tickets opened as complaint
    how_to_tickets                integer not null,  -- tickets opened as how_to
    legal_threats                 integer not null,  -- tickets opened as legal_threat
    escalations                   integer not null,  -- tickets first escalated to a manager on this day
    compensation_requests         integer not null,  -- ticket events carrying a compensation request
    compensation_requested_native decimal(18, 4) not null,
    compensation_granted_native   decimal(18, 4) not null,
    charges                       decimal(18, 4) not null,
    refunds                       decimal(18, 4) not null,
    chargebacks                   decimal(18, 4) not null,
    credits                       decimal(18, 4) not null,
    failed_payments               integer not null,  -- charge events with status failed
    charge_attempts               integer not null,  -- charge events that succeeded or failed
    unpriced_payments             integer not null,  -- payments in a currency without an exchange rate
    visits                        integer not null,
    first_visit_at                timestamp,
    last_visit_at                 timestamp,
    last_activity_at              timestamp,         -- latest ticket, payment or visit
    last_payment_at               timestamp,
    last_payment_currency         varchar,
    batch_id                      bigint  -- the batch that added the row; null once compacted
);
