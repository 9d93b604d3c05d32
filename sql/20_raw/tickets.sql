-- Support ticket events. occurred_at is UTC; handling_minutes is agent time in this event (minutes).
create table if not exists tickets (
    event_id               varchar primary key,
    customer_id            varchar not null,
    occurred_at            timestamp not null,
    ticket_id              varchar not null,
    action                 varchar not null,
    category               varchar not null,
    channel                varchar not null,
    handling_minutes       double not null,
    escalated              boolean not null,
    compensation_requested decimal(18, 2),
    compensation_granted   decimal(18, 2),
    sentiment              double,
    extra                  json,            -- the whole payload when it carried fields outside the contract
    batch_id               bigint not null
);
