-- Health history: every customer at each day's first full refresh ('daily'), any customer whose segment
-- changed at a refresh ('segment_change'), and, for history landed after the fact, what the pipeline would
-- have taken at the instants drift is measured from ('reconstructed', health/reconstruct_snapshots).
-- snapshot_id follows insertion order. Times are UTC.
create sequence if not exists health_snapshot_ids start 1;
create table if not exists health_snapshots (
    snapshot_id         bigint not null,     -- from sequence health_snapshot_ids (no column default:
                                             -- a default on a sequence breaks Quack 1.5.5); no key:
                                             -- append-only, and keys cost every checkpoint
    customer_id         varchar not null,
    snapshot_at         timestamp not null,
    reason              varchar not null,    -- daily, segment_change, reconstructed
    health_score        double not null,
    segment             varchar not null,
    previous_segment    varchar,
    components          struct(engagement double, payment_behaviour double, support_burden double,
                               complaint_behaviour double, profitability double) not null,
    revenue_90d         double not null,
    cost_to_serve_90d   double not null,
    margin_90d          double not null,
    complaint_index_90d double not null,
    support_minutes_90d double not null
);
