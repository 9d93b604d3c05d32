"""Typed settings: one object, loaded once from an optional TOML file and the environment over embedded defaults.

Nothing else in the project reads the environment: the few environment overrides are applied here.
"""

from __future__ import annotations

import os
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from customer_health.errors import UserError

EventType = Literal["tickets", "payments", "visits", "customers"]
EVENT_TYPES: tuple[EventType, ...] = ("tickets", "payments", "visits", "customers")


def _within(low: float, high: float) -> AfterValidator:
    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"must be between {low:g} and {high:g}")
        return value
    return AfterValidator(check)


def _automatic_or_more(value: int) -> int:
    if value < 0:
        raise ValueError("must be 0 (automatic) or more")
    return value


Port = Annotated[int, _within(1, 65535)]
# Counts and sizes; also timeouts and intervals given in whole milliseconds.
Count = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]
# Durations, limits and multiples.
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, _within(0, 1)]
# A health score or score component (0-100).
Score = Annotated[float, _within(0, 100)]
# TOML has no tuples, and paths are strings: these two accept lists and strings (their items stay strict).
Names = Annotated[tuple[str, ...], Field(strict=False)]
LaxPath = Annotated[Path, Field(strict=False)]


class _Section(BaseModel):
    """A settings section: immutable, strictly typed (no "3" for 3, no 1 for true), unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    def with_overrides(self, **changes: Any) -> typing.Self:
        """A copy with these keys (or ``section__key`` paths) replaced, validated like the file."""
        return _with_overrides(self, changes)


class TopicSettings(_Section):
    """Kafka topic name for each event type."""

    tickets: str = "tickets"
    payments: str = "payments"
    visits: str = "visits"
    customers: str = "customers"

    def by_type(self) -> dict[str, str]:
        return {t: getattr(self, t) for t in EVENT_TYPES}


class KafkaSettings(_Section):
    bootstrap_servers: str = "localhost:9092"
    group_id: str = "customer-health"
    partitions: Count = 3
    # Group timeouts shorter than kafka-python's defaults: a consumer gets its first assignment in seconds
    # rather than tens of seconds (bench/RESULTS.md).
    session_timeout_ms: Count = 6000
    heartbeat_interval_ms: Count = 1000
    max_poll_interval_ms: Count = 60000
    request_timeout_ms: Count = 30000
    # Static group membership (Kafka >= 2.3, KIP-345): a restarted pipeline takes its partitions back as soon
    # as it rejoins, instead of waiting up to session_timeout_ms for the member it replaces. The id must be
    # stable across restarts and unique per pipeline; empty: derived from the host name and db_path. Static
    # members do not leave the group on shutdown: the others get its partitions after session_timeout_ms.
    static_membership: bool = True
    group_instance_id: str = ""
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", ""] = ""
    sasl_username: str = ""
    sasl_password: SecretStr = SecretStr("")
    ssl_cafile: str = ""
    topics: TopicSettings = Field(default_factory=TopicSettings)

    def client_options(self) -> dict[str, Any]:
        """Connection options shared by every kafka-python client (consumer, producer, admin)."""
        opts: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if self.sasl_mechanism:
            opts |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password.get_secret_value(),
            }
        if self.ssl_cafile:
            opts["ssl_cafile"] = self.ssl_cafile
        return opts


class PipelineSettings(_Section):
    batch_max_events: Count = 50000
    # A batch also closes once its messages take this much memory (MiB of Arrow buffers), whatever their
    # count: 50,000 messages at the 64 KiB limit would otherwise hold 3 GiB.
    batch_max_mb: Count = 64
    # Upper bound on how long an event waits in an open batch before it is landed (milliseconds).
    batch_max_wait_ms: Count = 250
    # Messages larger than this are dead-lettered as oversized (bytes).
    max_message_bytes: Count = 65536
    # Seconds between scheduled table-level jobs (quality suites, daily snapshots).
    schedule_interval_s: Positive = 60.0
    # After this many seconds with nothing to land, the pipeline does the work batches put off (history
    # points a backlog deferred, a debounced history rebuild, the model day's rollover), once every as many
    # seconds while idle. 0: never (the next batch does it).
    idle_seconds: NonNegative = 5.0
    # DuckDB worker threads of the pipeline's database (landing, health, quality, Quack readers).
    # 0: one per core but one, which stays free for the Kafka poll loop (at least 1).
    duckdb_threads: Annotated[int, AfterValidator(_automatic_or_more)] = 0
    # DuckDB moves its write-ahead log into the database file once the log reaches this size (MiB). A
    # checkpoint's cost grows with the database, not with the log, so fewer of them land a backlog faster;
    # a larger log takes longer to replay after a crash (both measured in bench/landing_cost.py and
    # bench/RESULTS.md).
    checkpoint_threshold_mb: Count = 128
    # `load` lands a file in batches of at most this much raw text (MiB), so a file's size is bounded by the
    # disk; one Arrow array of a batch holds at most 2 GiB.
    load_chunk_mb: Count = 64

    def threads(self, cores: int | None) -> int:
        """DuckDB threads for a machine with ``cores`` cores."""
        return self.duckdb_threads or max(1, (cores or 1) - 1)


class ClockSettings(_Section):
    """Where the model's "now" comes from (its default as-of, day boundaries, alert windows, freshness).

    "wall": the wall clock, UTC. "events": the latest event time landed, never moving backwards (a
    replay of recorded events, or the demo's simulated clock). The pipeline that lands the events records
    its source with the clock in the database, so every reader of that database sees the same now.
    """

    source: Literal["wall", "events"] = "wall"


class QuackSettings(_Section):
    enabled: bool = True
    # Loopback by default: the database holds personal and financial data.
    host: str = "127.0.0.1"
    port: Port = 9494
    # Empty: a random token is generated and written next to the database with mode 0600.
    token: SecretStr = SecretStr("")


class DashboardSettings(_Section):
    """The Streamlit dashboard (`customer-health dashboard`)."""

    # Loopback by default: the pages show personal and financial data.
    host: str = "127.0.0.1"
    port: Port = 8501
    # Seconds between live refreshes of the Live health and Data quality pages (fragments, no page reload).
    refresh_seconds: Positive = 5.0
    # OIDC sign-in with Streamlit's st.login; the provider is configured in the [auth] section of
    # `auth_secrets_file` (Streamlit's secrets.toml format). When on, recording an intervention needs a
    # signed-in user, whose identity is stored with it.
    auth: bool = False
    # The provider name of an [auth.<name>] section; empty: the [auth] section itself.
    auth_provider: str = ""
    auth_secrets_file: LaxPath = Path(".streamlit/secrets.toml")
    # With sign-in on: whether the pages may be read without signing in (recording still needs sign-in).
    auth_anonymous_read: bool = False
    # A host other than loopback with sign-in off is refused unless this accepts it (e.g. in a container
    # whose port is published on the machine's loopback only).
    allow_unauthenticated_remote: bool = False


class QualitySettings(_Section):
    """Great Expectations suites (expectations/): batch suites on every landed batch, table suites on a schedule."""

    # Validate every landed batch; valid rows failing a critical expectation are quarantined, never landed.
    batch_suites: bool = True
    # Table suites run every pipeline.schedule_interval_s on the rows landed in this window (hours),
    # at most table_max_rows newest rows per table.
    table_window_hours: Positive = 24.0
    table_max_rows: Count = 200_000
    # Event times may run ahead by this much (minutes) before they count as future: ahead of the later of the
    # wall clock and the model's clock (before the batch; with [clock] source = "events" a simulated world
    # runs ahead of the wall clock, see sql/20_raw/model_clock.sql health_future_edge).
    future_tolerance_minutes: NonNegative = 10.0
    # An event's customer must have a profile within this long after the event landed (minutes).
    customer_grace_minutes: NonNegative = 60.0
    # Plausible maxima: amounts in currency units, handling time in minutes per ticket event.
    max_amount: Positive = 1_000_000.0
    max_compensation: Positive = 100_000.0
    max_handling_minutes: Positive = 1440.0
    max_visit_seconds: Positive = 86_400.0
    max_pages: Count = 10_000
    # Freshness: the newest event per topic must be younger than this (minutes, by occurred_at).
    freshness_max_age_minutes: dict[str, Positive] = Field(
        default_factory=lambda: {"tickets": 1440.0, "payments": 1440.0, "visits": 360.0, "customers": 10080.0}
    )
    # Volume: events per topic in the last window must lie within [average / band, average * band] of the
    # trailing windows before it; not judged while the trailing average is below volume_min_average.
    volume_window_minutes: Positive = 60.0
    volume_trailing_windows: Count = 24
    volume_band: Annotated[float, Field(ge=1)] = 3.0
    volume_min_average: NonNegative = 10.0
    # Failing rows kept per expectation result (a sample, for people).
    failing_sample_rows: NonNegativeInt = 10
    # Run records (and their results) older than this are deleted by the schedule (days), per scope.
    batch_runs_retention_days: Positive = 30.0
    table_runs_retention_days: Positive = 90.0


class AlertSettings(_Section):
    """One alerting path: sources evaluated in the pipeline, sinks = webhook + log + the stored alert list."""

    enabled: bool = True
    # JSON POST per alert; empty: alerts are only logged and stored. `ingest --alert-webhook URL` overrides.
    webhook_url: str = ""
    # More receivers (Slack, Mattermost, Teams workflows, paging): each gets every alert, from its own queue
    # and thread, so a slow one never delays the others.
    webhook_urls: tuple[str, ...] = ()
    webhook_headers: dict[str, SecretStr] = Field(default_factory=dict)
    webhook_timeout_s: Positive = 5.0
    webhook_max_attempts: Count = 5
    webhook_backoff_initial_s: Positive = 1.0
    webhook_backoff_max_s: Positive = 60.0
    webhook_queue_size: Count = 1000
    # Seconds between evaluations of the alert sources in the pipeline.
    evaluate_interval_s: Positive = 5.0
    # A (source, subject) that fired stays quiet this long (minutes) unless its severity rises.
    cooldown_minutes: NonNegative = 60.0
    cooldown_minutes_by_source: dict[str, NonNegative] = Field(default_factory=lambda: {"drift": 10080.0})
    # Circuit breaker, per source: more than flood_threshold alerts within flood_window_minutes are held
    # back and sent as one summary.
    flood_threshold: Count = 20
    flood_window_minutes: Positive = 10.0
    # Segments from best to worst. A move to a worse segment alerts when the new one is an alert segment
    # (champion -> healthy is not news; healthy -> at_risk is); entering an always_alert segment from
    # outside the order (a new or returning customer) alerts too.
    segment_order: Names = ("champion", "healthy", "at_risk", "unprofitable", "terrorist")
    alert_segments: Names = ("at_risk", "unprofitable", "terrorist")
    always_alert_segments: Names = ("unprofitable", "terrorist")
    # Drift alerts when a customer is projected to cross into a bad segment within this many days;
    # drift is read from customer_health at most every drift_interval_s seconds.
    drift_horizon_days: Positive = 30.0
    drift_interval_s: NonNegative = 60.0
    # Pipeline health bounds: consumer lag (messages) and minutes without a landed Kafka batch.
    lag_bound_messages: Count = 50_000
    staleness_minutes: Positive = 15.0
    # Catching up: customer alerts wait while the lag exceeds this or the freshest record of the last
    # batch was produced longer ago than catch_up_latency_s; then they reflect the caught-up state.
    catch_up_lag_messages: NonNegativeInt = 5_000
    catch_up_latency_s: Positive = 300.0
    # Dead-letter spike: the rate over the last window vs the trailing hours before it.
    dead_letter_window_minutes: Positive = 5.0
    dead_letter_trailing_hours: Positive = 24.0
    dead_letter_min_messages: NonNegativeInt = 100
    dead_letter_min_rate: Fraction = 0.05
    dead_letter_spike_factor: Positive = 3.0


class HealthWeights(_Section):
    """Weight of each health-score component; the score is their weighted mean (weights need not sum to 1)."""

    engagement: NonNegative = 0.25
    payment_behaviour: NonNegative = 0.20
    support_burden: NonNegative = 0.15
    complaint_behaviour: NonNegative = 0.20
    profitability: NonNegative = 0.20


class ComplaintWeights(_Section):
    """complaint_index_90d = the weighted count of complaint-driven acts in the 90-day window."""

    complaint: NonNegative = 1.0
    compensation_request: NonNegative = 1.0
    legal_threat: NonNegative = 3.0
    escalation: NonNegative = 1.0


class SegmentRules(_Section):
    """Segment rules, applied in this order: churned, terrorist, unprofitable, at_risk, champion, healthy."""

    # Terrorist: complaint_index_90d at least this AND at least norm_multiple x max(portfolio median,
    # complaint_reference_floor).
    terrorist_min_complaint_index: NonNegative = 6.0
    terrorist_norm_multiple: Positive = 4.0
    # At risk: health score below this, or silent fading (no visit for fading_gap_multiple x the
    # customer's usual gap between visits, for customers with at least fading_min_visits visits).
    at_risk_below_score: Score = 50.0
    fading_gap_multiple: Positive = 4.0
    fading_min_visits: Count = 3
    # The usual gap counts as at least this many days (a daily visitor is not fading after a few hours).
    fading_min_gap_days: NonNegative = 1.0
    # Silent churn (customer_health/churn): also at risk when the BG/NBD P(alive) is below this.
    at_risk_p_alive_below: Fraction = 0.3
    # A fall in visits counts toward at_risk (a score below at_risk_below_score only because of the fading
    # factor, or silent fading) only when it is this improbable under the customer's usual rate: the
    # Poisson deviance z of visits_30d against usual_visits_30d (visit_fall_z) at least this. 0: any fall.
    at_risk_fall_z: NonNegative = 3.0
    # Champion: health score at least this and margin_90d above the portfolio median margin.
    champion_min_score: Score = 75.0
    # ... and an engagement component at least this (a profitable customer who is rarely seen is healthy).
    champion_min_engagement: Score = 75.0
    # Hysteresis: the thresholds above are the ones to enter a segment; a customer whose previous confirmed
    # segment it is leaves it only beyond a looser one, so that figures wavering around a threshold do not
    # flip the segment. Terrorist: stays while the complaint index is at least (1 - band) x the threshold.
    terrorist_leave_band: Fraction = 0.2
    # Unprofitable: stays while margin_90d is at most band x revenue_90d (a share of the customer's revenue).
    unprofitable_leave_band: Fraction = 0.1
    # At risk: stays while the score is below at_risk_below_score + band (score points), the P(alive) below
    # at_risk_p_alive_below + band, or no visit for (fading_gap_multiple - band) x the usual gap.
    at_risk_score_band: Score = 5.0
    at_risk_p_alive_band: Fraction = 0.1
    fading_gap_band: NonNegative = 1.0
    # ... and a fall in visits counts while visit_fall_z is at least max(0, at_risk_fall_z - band).
    at_risk_fall_z_band: NonNegative = 0.5
    # Champion: stays while the score and the engagement are at least their minimum - band (points) and
    # margin_90d is above the portfolio median - band x revenue_90d.
    champion_score_band: Score = 5.0
    champion_engagement_band: Score = 5.0
    champion_margin_band: Fraction = 0.1

    @model_validator(mode="after")
    def _leave_thresholds_within_range(self) -> SegmentRules:
        if self.fading_gap_band >= self.fading_gap_multiple:
            raise ValueError("fading_gap_band must be below fading_gap_multiple (the looser threshold to leave "
                             "silent fading is (fading_gap_multiple - fading_gap_band) x the usual gap)")
        if self.at_risk_below_score + self.at_risk_score_band > 100:
            raise ValueError("at_risk_below_score + at_risk_score_band must be at most 100 (the score to leave "
                             "at_risk)")
        if self.at_risk_p_alive_below + self.at_risk_p_alive_band > 1:
            raise ValueError("at_risk_p_alive_below + at_risk_p_alive_band must be at most 1 (the P(alive) to "
                             "leave at_risk)")
        if self.champion_score_band > self.champion_min_score or \
                self.champion_engagement_band > self.champion_min_engagement:
            raise ValueError("champion_score_band and champion_engagement_band must be at most champion_min_score "
                             "and champion_min_engagement (the levels to leave champion)")
        return self


class PlaybookRules(_Section):
    """When each step of the five-step playbook fits (see docs/health_model.md)."""

    # Educate: how-to tickets take at least this share of the support minutes, and support minutes are
    # at least heavy_support_multiple x the portfolio median (and at least support_floor_minutes).
    educate_min_how_to_share: Fraction = 0.5
    heavy_support_multiple: Positive = 4.0
    support_floor_minutes: NonNegative = 60.0
    # Migrate: failed payments + overdue invoices are at least this share of payment attempts, and at
    # least migrate_min_payment_problems of them.
    migrate_min_payment_problem_share: Fraction = 0.3
    migrate_min_payment_problems: Count = 2
    # A step tried less than this many days ago is not recommended again (the next fitting step is).
    retry_after_days: NonNegative = 30.0
    # Exit notice for business accounts, months ahead (consumers: in person or by phone).
    b2b_exit_notice_months: Count = 3


class HealthSettings(_Section):
    """The health model: costs, currency, score, segments, drift and the playbook."""

    # Costs in the reporting currency.
    cost_per_support_minute: NonNegative = 1.0
    cost_per_failed_payment: NonNegative = 5.0
    # Amounts are converted to this currency: amount / fx_rates[currency] (units of that currency per
    # reporting unit). Payments in a currency without a rate are left out and counted as unpriced.
    currency: str = "EUR"
    fx_rates: dict[str, Positive] = Field(
        default_factory=lambda: {"EUR": 1.0, "GBP": 0.86, "USD": 1.08, "CHF": 0.94, "SEK": 11.4, "DKK": 7.46,
                                 "NOK": 11.7, "PLN": 4.3, "CZK": 25.0, "JPY": 160.0}
    )
    # Engagement: visits_90d against this target, and recency (days since the last visit) against horizon.
    engagement_target_visits_90d: Positive = 30.0
    recency_horizon_days: Positive = 30.0
    # Share of engagement taken by the BG/NBD P(alive) when the customer has one (the rest: visits, recency).
    engagement_p_alive_share: Fraction = 0.5
    # Fading from the customer's own baseline: the visit trend compares the last 30 days' visits with the
    # customer's usual rate, both plus this many visits (so that a rare visitor's quiet month is not a fall).
    visit_trend_prior_visits: Positive = 4.0
    # The score is multiplied by min(1, visit_trend / fading_trend_full) ** fading_trend_power (0: never).
    fading_trend_full: Positive = 0.8
    fading_trend_power: NonNegative = 3.0
    # Support burden and complaint behaviour halve at max(portfolio norm, floor).
    support_reference_floor_minutes: Positive = 60.0
    complaint_reference_floor: Positive = 2.0
    weights: HealthWeights = Field(default_factory=HealthWeights)
    complaint_weights: ComplaintWeights = Field(default_factory=ComplaintWeights)
    segments: SegmentRules = Field(default_factory=SegmentRules)
    playbook: PlaybookRules = Field(default_factory=PlaybookRules)
    # Drift: trend between now and the snapshot drift_lookback_days ago, projected; flagged when the
    # threshold would be crossed within drift_horizon_days.
    drift_lookback_days: Positive = 14.0
    drift_horizon_days: Positive = 30.0
    # History: a point-in-time evaluation of every customer at 00:00 UTC of each of the last history_days
    # days (customer_health.health.history). A late event (dated before the last point) has the pipeline
    # derive the points from its day again, at most once every history_rebuild_interval_seconds (wall
    # clock); while the consumer lags by more than history_defer_lag_messages (a backlog), new points and
    # rebuilds wait until it has caught up.
    history_days: Count = 90
    history_rebuild_interval_seconds: NonNegative = 300.0
    history_defer_lag_messages: NonNegativeInt = 10000
    # Win-back contacts, days after cancellation.
    win_back_days: Annotated[tuple[Count, ...], Field(strict=False)] = (30, 180)
    # Portfolio norms (medians, means, active customers): those of the day's history point. While that point
    # waits (a backlog defers it), the portfolio's at the last full refresh, recomputed by a full refresh at
    # least this often (minutes), and sooner when, checked every norms_check_seconds, one of them moved by
    # more than norms_max_drift (relative) from the norms in use. Both are wall-clock time (they bound the
    # refreshes' cost), whatever [clock] source says; the model's days are caught by the refresh at each day
    # rollover.
    norms_max_age_minutes: Positive = 60.0
    norms_check_seconds: NonNegative = 30.0
    norms_max_drift: NonNegative = 0.1
    # History points older than this are deleted by the daily full refresh (days).
    snapshot_retention_days: Positive = 400.0


class ChurnSettings(_Section):
    """Silent churn: the BG/NBD model of repeat purchases (customer_health/churn)."""

    # The pipeline refits the model on every succeeded charge up to now this often (hours); customers are
    # rescored from the latest fit on every batch that touches them and everyone at each new fit and UTC day.
    refit_interval_hours: Positive = 24.0
    # ... and sooner when the customers with a purchase grew by more than this share since the last fit
    # (a pipeline started on a backlog fits on its first charges, then again once more have landed).
    refit_growth: NonNegative = 0.25
    # How often the pipeline looks at the refit schedule (seconds).
    check_interval_s: NonNegative = 30.0
    # A "silently fading" alert fires when a customer's p_alive falls below this (from at or above it) ...
    alert_p_alive_below: Fraction = 0.3
    # ... and the customer used to be valuable: at least this many transactions (days with a succeeded
    # charge) that add up to at least this much (reporting currency, health.currency).
    valuable_min_transactions: Count = 3
    valuable_min_lifetime_value: NonNegative = 100.0



class WhatIfSettings(_Section):
    """The assumptions of `customer-health what-if` about the collateral damage of letting customers go
    (the business accounts' notice is health.playbook.b2b_exit_notice_months)."""

    # Share of the margin of the other active members of a let-go customer's household expected to follow.
    household_follow_share: Fraction = 0.5
    # Share of the margin of profitable customers with an open complaint (who would see others shown the
    # door) expected to be lost.
    complaint_witness_loss_share: Fraction = 0.1
    # Points of each whale curve (before and after) in the output.
    whale_curve_points: Annotated[int, _within(2, 2000)] = 20

class DuckLakeSettings(_Section):
    """The shared store of ``store = "ducklake"``: a DuckLake whose catalog is a PostgreSQL database and whose
    data files (Parquet) live on an S3-compatible bucket or a directory every pipeline and reader reaches.

    The password is never in a file: CUSTOMER_HEALTH_DUCKLAKE__PASSWORD (likewise the S3 secret key).
    """

    # A libpq connection string after "postgres:" (DuckLake's catalog), without the password.
    catalog: str = "postgres:dbname=health host=127.0.0.1 port=5432 user=health"
    # Where the lake's data files go: s3://bucket/prefix/ (through httpfs) or a shared directory.
    data_path: str = "data/lake/"
    password: SecretStr = SecretStr("")
    # S3 (data_path s3://...): endpoint host:port of an S3-compatible store (empty: AWS), region, keys, TLS,
    # and "path" addressing (MinIO) or "vhost".
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_use_ssl: bool = True
    s3_url_style: Literal["path", "vhost"] = "path"
    # A lake commit that conflicts with another pipeline's is retried this many times (then the batch fails
    # and nothing of it lands; the pipeline stops and its partitions move to the others).
    commit_retries: Count = 20
    # How often a pipeline lands the other pipelines' lake commits into its working store (seconds), so that
    # its portfolio norms are the whole population's.
    sync_interval_s: NonNegative = 5.0
    # How often the leader (the pipeline owning partition 0 of the customers topic) writes a checkpoint of its
    # working store under data_path (seconds; also once when it stops cleanly; 0: never), from which readers
    # and starting pipelines open instead of replaying the whole lake.
    checkpoint_interval_s: NonNegative = 60.0
    # true: a pipeline derives per batch only the customers it owns (their home partition, as for the alerts);
    # the others wait in health_pending and are computed from the rollups once owned, at each day's end (as of
    # the day's last batch, so that their path's segment changes keep their event times), by every full
    # refresh, and by readers. Another pipeline's batch then costs about half (bench/RESULTS.md). Off by
    # default: the norms' drift check then reads older rows of the customers not owned, so the norms in use,
    # and every score, can differ from a single pipeline's (docs/deployment.md).
    derive_owned_only: bool = False
    # `customer-health lake-maintain` expires the snapshots older than this (hours) and deletes the files
    # only they needed: time travel reaches back this far, and no reader's transaction may last longer.
    retain_snapshots_hours: Positive = 168.0

    @model_validator(mode="after")
    def _catalog_is_postgres_without_password(self) -> DuckLakeSettings:
        if not self.catalog.startswith("postgres:"):
            raise ValueError("ducklake.catalog must be a PostgreSQL connection string: 'postgres:dbname=... "
                             "host=... port=... user=...'")
        if "password" in self.catalog.lower():
            raise ValueError("ducklake.catalog must not hold the password: set CUSTOMER_HEALTH_DUCKLAKE__PASSWORD "
                             "instead")
        return self


# Environment overrides (containers, CI): CUSTOMER_HEALTH_<KEY> or CUSTOMER_HEALTH_<SECTION>__<KEY>, e.g.
# CUSTOMER_HEALTH_DB_PATH, CUSTOMER_HEALTH_QUACK__PORT, CUSTOMER_HEALTH_KAFKA__SASL_PASSWORD. They win over the
# file. CUSTOMER_HEALTH_CONFIG names the TOML file when no explicit one is given.
ENV_PREFIX = "CUSTOMER_HEALTH_"
ENV_NESTED_DELIMITER = "__"
CONFIG_ENV = "CUSTOMER_HEALTH_CONFIG"


class Settings(BaseSettings):
    """Every setting. ``Settings(...)`` takes only the values it is given; ``load_settings`` adds the file
    and the environment."""

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", strict=True, case_sensitive=True,
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTED_DELIMITER,
    )

    db_path: LaxPath = Path("data/customer_health.duckdb")
    # Where the data lives: "duckdb", the one embedded file owned by one pipeline (db_path, served over
    # Quack); or "ducklake", a lake shared by N pipelines in one consumer group and read by every reader
    # directly ([ducklake]).
    store: Literal["duckdb", "ducklake"] = "duckdb"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    clock: ClockSettings = Field(default_factory=ClockSettings)
    quack: QuackSettings = Field(default_factory=QuackSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    churn: ChurnSettings = Field(default_factory=ChurnSettings)
    what_if: WhatIfSettings = Field(default_factory=WhatIfSettings)
    ducklake: DuckLakeSettings = Field(default_factory=DuckLakeSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with top-level or nested values replaced (``kafka__bootstrap_servers=...``), validated like
        the file; UserError naming the key for a wrong one."""
        return _with_overrides(self, changes)


_Model = typing.TypeVar("_Model", bound=BaseModel)


def _with_overrides(model: _Model, changes: dict[str, Any]) -> _Model:
    data = model.model_dump()
    for path, value in changes.items():
        *sections, key = path.split(ENV_NESTED_DELIMITER)
        table = data
        for section in sections:
            table = table[section]
        table[key] = value
    try:
        return type(model).model_validate(data)
    except ValidationError as exc:
        raise UserError(_describe(exc, lambda _loc: "config override", type(model))) from None


def load_settings(config_file: Path | None = None, env: typing.Mapping[str, str] | None = None) -> Settings:
    """Settings from the embedded defaults, then ``config_file`` (TOML), then the environment.

    The environment: KAFKA_BOOTSTRAP_SERVERS unless the file sets the servers, then every
    ``CUSTOMER_HEALTH_*`` variable (see ENV_PREFIX). Raises UserError naming the file and key, or the
    variable, for an unreadable file, an unknown key, a wrong type or a value out of range.
    """
    env = os.environ if env is None else env
    if config_file is None and env.get(CONFIG_ENV):
        config_file = Path(env[CONFIG_ENV])
    # Lowest first: KAFKA_BOOTSTRAP_SERVERS, the file, the CUSTOMER_HEALTH_* variables.
    layers: list[dict[str, Any]] = []
    if env.get("KAFKA_BOOTSTRAP_SERVERS"):
        layers.append({"kafka": {"bootstrap_servers": env["KAFKA_BOOTSTRAP_SERVERS"]}})
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise UserError(f"config file {config_file} " + ("is not a file" if path.exists() else "does not exist"))
        try:
            layers.append(TomlConfigSettingsSource(Settings, toml_file=path)())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"config file {config_file} is not valid TOML: {exc}") from None
    environment = EnvironmentSource(Settings, env)
    layers.append(environment())

    def source_of(loc: tuple[str | int, ...]) -> str:
        for depth in range(len(loc), 0, -1):
            if loc[:depth] in environment.origins:
                return f"environment variable {environment.origins[loc[:depth]]}"
        return f"config {config_file}" if config_file is not None else "config"

    data: dict[str, Any] = {}
    for layer in layers:
        data = _merged(data, layer)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise UserError(_describe(exc, source_of, Settings)) from None


def _merged(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    """``low`` with ``high``'s values over it, table by table."""
    merged = dict(low)
    for key, value in high.items():
        below = merged.get(key)
        merged[key] = _merged(below, value) if isinstance(below, dict) and isinstance(value, dict) else value
    return merged


class EnvironmentSource(PydanticBaseSettingsSource):
    """The CUSTOMER_HEALTH_<KEY> and CUSTOMER_HEALTH_<SECTION>__<KEY> variables of a given mapping.

    Unlike pydantic-settings' EnvSettingsSource, which reads os.environ, decodes values as JSON and skips
    names it does not know, a value is typed like a TOML value (strings, paths, secrets and string choices
    are taken as they are) and an unknown name is an error.
    """

    def __init__(self, settings_cls: type[BaseSettings], env: typing.Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.prefix: str = self.config.get("env_prefix", "")
        self.delimiter: str = self.config.get("env_nested_delimiter") or ENV_NESTED_DELIMITER
        self.data: dict[str, Any] = {}
        # (section, key) -> the variable that set it, for errors.
        self.origins: dict[tuple[str | int, ...], str] = {}
        for name in sorted(env):
            if name.startswith(self.prefix) and name != CONFIG_ENV:
                loc, value = self._decode(name, env[name])
                table = self.data
                for section in loc[:-1]:
                    table = table.setdefault(section, {})
                table[loc[-1]] = value
                self.origins[loc] = name

    def _decode(self, name: str, text: str) -> tuple[tuple[str, ...], Any]:
        source = f"environment variable {name}"
        parts = tuple(name.removeprefix(self.prefix).lower().split(self.delimiter))
        model: type[BaseModel] = self.settings_cls
        for depth, part in enumerate(parts):
            key = ".".join(parts[: depth + 1])
            if part not in model.model_fields:
                raise UserError(f"{source}: unknown setting '{key}' "
                                f"(known keys here: {', '.join(sorted(model.model_fields))})")
            hint = model.model_fields[part].annotation
            if depth < len(parts) - 1:
                if not _is_section(hint):
                    raise UserError(f"{source}: '{key}' is not a section")
                model = typing.cast(type[BaseModel], hint)
        if _is_section(hint):
            raise UserError(f"{source}: '{key}' is a section; set one of its keys ({name}{self.delimiter}<KEY>)")
        literal_strings = typing.get_origin(hint) is Literal and all(isinstance(a, str) for a in typing.get_args(hint))
        if hint in (str, Path, SecretStr) or literal_strings:
            return parts, text
        try:
            return parts, tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            raise UserError(f"{source}: {text!r} is not a TOML value for '{key}'") from None

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self.data


def _is_section(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, BaseModel)


_TYPE_NAMES = {
    "int_type": "int", "int_parsing": "int", "int_from_float": "int", "bool_type": "bool", "bool_parsing": "bool",
    "string_type": "str", "float_type": "a number", "float_parsing": "a number",
    "model_type": "a table", "model_attributes_type": "a table", "dict_type": "a table",
    "tuple_type": "a list", "list_type": "a list", "path_type": "a path string",
}
_BOUNDS = {"greater_than": "more than {gt}", "greater_than_equal": "{ge} or more", "less_than": "less than {lt}",
           "less_than_equal": "{le} or less"}


def _describe(
    exc: ValidationError, source_of: typing.Callable[[tuple[str | int, ...]], str], model: type[BaseModel]
) -> str:
    """One line for the first error: its source (file, variable), the key and what is wrong."""
    error = exc.errors(include_url=False)[0]
    loc, kind, value, ctx = error["loc"], error["type"], error.get("input"), error.get("ctx", {})
    key = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).removeprefix(".")
    if kind == "extra_forbidden":
        parent: Any = model
        for part in loc[:-1]:
            parent = parent.model_fields[part].annotation
        text = f"unknown key '{key}' (known keys: {', '.join(sorted(parent.model_fields))})"
    elif kind in _TYPE_NAMES:
        text = f"'{key}' must be {_TYPE_NAMES[kind]}"
        text += "" if kind.startswith(("model", "dict")) else f", got {value!r}"
    elif kind == "literal_error":
        text = f"'{key}' must be one of {ctx['expected']}, got {value!r}"
    elif kind in _BOUNDS:
        bounds = {name: f"{bound:g}" if isinstance(bound, float) else bound for name, bound in ctx.items()}
        text = f"{key} must be {_BOUNDS[kind].format(**bounds)}, got {value!r}"
    elif kind == "value_error":
        # A section's own check (value: the whole section) names its keys itself; echoing the section would
        # print its secrets.
        text = f"{key} {ctx['error']}" + ("" if isinstance(value, dict) else f", got {value!r}")
    else:
        text = f"'{key}': {error['msg']}, got {value!r}"
    return f"{source_of(loc)}: {text}"
