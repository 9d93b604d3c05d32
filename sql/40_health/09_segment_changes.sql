-- Every segment change found by a refresh (append-only: rowid grows in commit order). from_segment is
-- null for a customer's first segment. batch_id: the landed batch whose refresh found it (null for a
-- refresh outside the pipeline). Times are UTC.
create table if not exists segment_changes (
    customer_id       varchar not null,
    changed_at        timestamp not null,
    from_segment      varchar,
    to_segment        varchar not null,
    health_score      double not null,
    drifting_toward   varchar,
    days_to_threshold double,
    batch_id          bigint,
    refresh_kind      varchar not null  -- incremental, full
);
