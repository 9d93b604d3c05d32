"""Typed settings: one object, loaded once from an optional TOML file over embedded defaults.

Nothing else in the project reads the environment: the few environment overrides are applied here.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from customer_health.errors import UserError

EventType = Literal["tickets", "payments", "visits", "customers"]
EVENT_TYPES: tuple[EventType, ...] = ("tickets", "payments", "visits", "customers")


@dataclass(frozen=True)
class TopicSettings:
    """Kafka topic name for each event type."""

    tickets: str = "tickets"
    payments: str = "payments"
    visits: str = "visits"
    customers: str = "customers"

    def by_type(self) -> dict[str, str]:
        return {t: getattr(self, t) for t in EVENT_TYPES}


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str = "localhost:9092"
    group_id: str = "customer-health"
    partitions: int = 3
    # Short group timeouts: a consumer gets its assignment in ~3 s instead of ~23 s (see NOTES).
    session_timeout_ms: int = 6000
    heartbeat_interval_ms: int = 1000
    max_poll_interval_ms: int = 60000
    request_timeout_ms: int = 30000
    # Static group membership (Kafka >= 2.3, KIP-345): a restarted pipeline takes its partitions back as soon
    # as it rejoins, instead of waiting up to session_timeout_ms for the member it replaces. The id must be
    # stable across restarts and unique per pipeline; empty: derived from the host name and db_path. Static
    # members do not leave the group on shutdown: the others get its partitions after session_timeout_ms.
    static_membership: bool = True
    group_instance_id: str = ""
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", ""] = ""
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    topics: TopicSettings = field(default_factory=TopicSettings)

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
                "sasl_plain_password": self.sasl_password,
            }
        if self.ssl_cafile:
            opts["ssl_cafile"] = self.ssl_cafile
        return opts


@dataclass(frozen=True)
class PipelineSettings:
    batch_max_events: int = 50000
    # A batch also closes once its messages take this much memory (MiB of Arrow buffers), whatever their
    # count: 50,000 messages at the 64 KiB limit would otherwise hold 3 GiB.
    batch_max_mb: int = 64
    # Upper bound on how long an event waits in an open batch before it is landed (milliseconds).
    batch_max_wait_ms: int = 250
    # Messages larger than this are dead-lettered as oversized (bytes).
    max_message_bytes: int = 65536
    # Seconds between scheduled table-level jobs (quality suites, daily snapshots).
    schedule_interval_s: float = 60.0
    # DuckDB worker threads of the pipeline's database (landing, health, quality, Quack readers).
    # 0: one per core but one, which stays free for the Kafka poll loop (at least 1).
    duckdb_threads: int = 0
    # DuckDB moves its write-ahead log into the database file once the log reaches this size (MiB). A
    # checkpoint's cost grows with the database, not with the log, so fewer of them land a backlog faster
    # (1.1-1.5x at 128 against DuckDB's 16 over 600k events, bench/landing_cost.py); a larger log takes
    # longer to replay after a crash (about 1.3 s per 100 MB here).
    checkpoint_threshold_mb: int = 128
    # `load` lands a file in batches of at most this much raw text (MiB), so a file's size is bounded by the
    # disk; one Arrow array of a batch holds at most 2 GiB.
    load_chunk_mb: int = 64

    def __post_init__(self) -> None:
        for key in ("batch_max_events", "batch_max_mb", "batch_max_wait_ms", "max_message_bytes",
                    "checkpoint_threshold_mb"):
            if getattr(self, key) <= 0:
                raise UserError(f"config: pipeline.{key} must be more than 0, got {getattr(self, key)}")
        if self.duckdb_threads < 0:
            raise UserError(f"config: pipeline.duckdb_threads must be 0 (automatic) or more, got {self.duckdb_threads}")

    def threads(self, cores: int | None) -> int:
        """DuckDB threads for a machine with ``cores`` cores."""
        return self.duckdb_threads or max(1, (cores or 1) - 1)


@dataclass(frozen=True)
class QuackSettings:
    enabled: bool = True
    # Loopback by default: the database holds personal and financial data.
    host: str = "127.0.0.1"
    port: int = 9494
    # Empty: a random token is generated and written next to the database with mode 0600.
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class DashboardSettings:
    """The Streamlit dashboard (`customer-health dashboard`)."""

    # Loopback by default: the pages show personal and financial data.
    host: str = "127.0.0.1"
    port: int = 8501
    # Seconds between live refreshes of the Live health and Data quality pages (fragments, no page reload).
    refresh_seconds: float = 5.0
    # OIDC sign-in with Streamlit's st.login; the provider is configured in the [auth] section of
    # `auth_secrets_file` (Streamlit's secrets.toml format). When on, recording an intervention needs a
    # signed-in user, whose identity is stored with it.
    auth: bool = False
    # The provider name of an [auth.<name>] section; empty: the [auth] section itself.
    auth_provider: str = ""
    auth_secrets_file: Path = Path(".streamlit/secrets.toml")
    # With sign-in on: whether the pages may be read without signing in (recording still needs sign-in).
    auth_anonymous_read: bool = False


@dataclass(frozen=True)
class QualitySettings:
    """Great Expectations suites (expectations/): batch suites on every landed batch, table suites on a schedule."""

    # Validate every landed batch; valid rows failing a critical expectation are quarantined, never landed.
    batch_suites: bool = True
    # Table suites run every pipeline.schedule_interval_s on the rows landed in this window (hours),
    # at most table_max_rows newest rows per table.
    table_window_hours: float = 24.0
    table_max_rows: int = 200_000
    # Event times may run ahead of the pipeline clock by this much (minutes) before they count as future.
    future_tolerance_minutes: float = 10.0
    # An event's customer must have a profile within this long after the event landed (minutes).
    customer_grace_minutes: float = 60.0
    # Plausible maxima: amounts in currency units, handling time in minutes per ticket event.
    max_amount: float = 1_000_000.0
    max_compensation: float = 100_000.0
    max_handling_minutes: float = 1440.0
    max_visit_seconds: float = 86_400.0
    max_pages: int = 10_000
    # Freshness: the newest event per topic must be younger than this (minutes, by occurred_at).
    freshness_max_age_minutes: dict[str, float] = field(
        default_factory=lambda: {"tickets": 1440.0, "payments": 1440.0, "visits": 360.0, "customers": 10080.0}
    )
    # Volume: events per topic in the last window must lie within [average / band, average * band] of the
    # trailing windows before it; not judged while the trailing average is below volume_min_average.
    volume_window_minutes: float = 60.0
    volume_trailing_windows: int = 24
    volume_band: float = 3.0
    volume_min_average: float = 10.0
    # Failing rows kept per expectation result (a sample, for people).
    failing_sample_rows: int = 10
    # Run records (and their results) older than this are deleted by the schedule (days), per scope.
    batch_runs_retention_days: float = 30.0
    table_runs_retention_days: float = 90.0


@dataclass(frozen=True)
class AlertSettings:
    """One alerting path: sources evaluated in the pipeline, sinks = webhook + log + the stored alert list."""

    enabled: bool = True
    # JSON POST per alert; empty: alerts are only logged and stored. `ingest --alert-webhook URL` overrides.
    webhook_url: str = ""
    # More receivers (Slack, Mattermost, Teams workflows, paging): each gets every alert, from its own queue
    # and thread, so a slow one never delays the others.
    webhook_urls: tuple[str, ...] = ()
    webhook_headers: dict[str, str] = field(default_factory=dict, repr=False)
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 5
    webhook_backoff_initial_s: float = 1.0
    webhook_backoff_max_s: float = 60.0
    webhook_queue_size: int = 1000
    # Seconds between evaluations of the alert sources in the pipeline.
    evaluate_interval_s: float = 5.0
    # A (source, subject) that fired stays quiet this long (minutes) unless its severity rises.
    cooldown_minutes: float = 60.0
    cooldown_minutes_by_source: dict[str, float] = field(default_factory=lambda: {"drift": 10080.0})
    # Circuit breaker, per source: more than flood_threshold alerts within flood_window_minutes are held
    # back and sent as one summary.
    flood_threshold: int = 20
    flood_window_minutes: float = 10.0
    # Segments from best to worst. A move to a worse segment alerts when the new one is an alert segment
    # (champion -> healthy is not news; healthy -> at_risk is); entering an always_alert segment from
    # outside the order (a new or returning customer) alerts too.
    segment_order: tuple[str, ...] = ("champion", "healthy", "at_risk", "unprofitable", "terrorist")
    alert_segments: tuple[str, ...] = ("at_risk", "unprofitable", "terrorist")
    always_alert_segments: tuple[str, ...] = ("unprofitable", "terrorist")
    # Drift alerts when a customer is projected to cross into a bad segment within this many days;
    # drift is read from customer_health at most every drift_interval_s seconds.
    drift_horizon_days: float = 30.0
    drift_interval_s: float = 60.0
    # Pipeline health bounds: consumer lag (messages) and minutes without a landed Kafka batch.
    lag_bound_messages: int = 50_000
    staleness_minutes: float = 15.0
    # Catching up: customer alerts wait while the lag exceeds this or the freshest record of the last
    # batch was produced longer ago than catch_up_latency_s; then they reflect the caught-up state.
    catch_up_lag_messages: int = 5_000
    catch_up_latency_s: float = 300.0
    # Dead-letter spike: the rate over the last window vs the trailing hours before it.
    dead_letter_window_minutes: float = 5.0
    dead_letter_trailing_hours: float = 24.0
    dead_letter_min_messages: int = 100
    dead_letter_min_rate: float = 0.05
    dead_letter_spike_factor: float = 3.0


@dataclass(frozen=True)
class HealthWeights:
    """Weight of each health-score component; the score is their weighted mean (weights need not sum to 1)."""

    engagement: float = 0.25
    payment_behaviour: float = 0.20
    support_burden: float = 0.15
    complaint_behaviour: float = 0.20
    profitability: float = 0.20


@dataclass(frozen=True)
class ComplaintWeights:
    """complaint_index_90d = the weighted count of complaint-driven acts in the 90-day window."""

    complaint: float = 1.0
    compensation_request: float = 1.0
    legal_threat: float = 3.0
    escalation: float = 1.0


@dataclass(frozen=True)
class SegmentRules:
    """Segment rules, applied in this order: churned, terrorist, unprofitable, at_risk, champion, healthy."""

    # Terrorist: complaint_index_90d at least this AND at least norm_multiple x max(portfolio median,
    # complaint_reference_floor).
    terrorist_min_complaint_index: float = 6.0
    terrorist_norm_multiple: float = 4.0
    # At risk: health score below this, or silent fading (no visit for fading_gap_multiple x the
    # customer's usual gap between visits, for customers with at least fading_min_visits visits).
    at_risk_below_score: float = 50.0
    fading_gap_multiple: float = 4.0
    fading_min_visits: int = 3
    # The usual gap counts as at least this many days (a daily visitor is not fading after a few hours).
    fading_min_gap_days: float = 1.0
    # Silent churn (customer_health/churn): also at risk when the BG/NBD P(alive) is below this.
    at_risk_p_alive_below: float = 0.3
    # Champion: health score at least this and margin_90d above the portfolio median margin.
    champion_min_score: float = 75.0
    # ... and an engagement component at least this (a profitable customer who is rarely seen is healthy).
    champion_min_engagement: float = 75.0


@dataclass(frozen=True)
class PlaybookRules:
    """When each step of the five-step playbook fits (see docs/health_model.md)."""

    # Educate: how-to tickets take at least this share of the support minutes, and support minutes are
    # at least heavy_support_multiple x the portfolio median (and at least support_floor_minutes).
    educate_min_how_to_share: float = 0.5
    heavy_support_multiple: float = 4.0
    support_floor_minutes: float = 60.0
    # Migrate: failed payments + overdue invoices are at least this share of payment attempts, and at
    # least migrate_min_payment_problems of them.
    migrate_min_payment_problem_share: float = 0.3
    migrate_min_payment_problems: int = 2
    # A step tried less than this many days ago is not recommended again (the next fitting step is).
    retry_after_days: float = 30.0
    # Exit notice for business accounts, months ahead (consumers: in person or by phone).
    b2b_exit_notice_months: int = 3


@dataclass(frozen=True)
class HealthSettings:
    """The health model (issue 3): costs, currency, score, segments, drift and the playbook."""

    # Costs in the reporting currency.
    cost_per_support_minute: float = 1.0
    cost_per_failed_payment: float = 5.0
    # Amounts are converted to this currency: amount / fx_rates[currency] (units of that currency per
    # reporting unit). Payments in a currency without a rate are left out and counted as unpriced.
    currency: str = "EUR"
    fx_rates: dict[str, float] = field(
        default_factory=lambda: {"EUR": 1.0, "GBP": 0.86, "USD": 1.08, "CHF": 0.94, "SEK": 11.4, "DKK": 7.46,
                                 "NOK": 11.7, "PLN": 4.3, "CZK": 25.0, "JPY": 160.0}
    )
    # Engagement: visits_90d against this target, and recency (days since the last visit) against horizon.
    engagement_target_visits_90d: float = 30.0
    recency_horizon_days: float = 30.0
    # Share of engagement taken by the BG/NBD P(alive) when the customer has one (the rest: visits, recency).
    engagement_p_alive_share: float = 0.5
    # Support burden and complaint behaviour halve at max(portfolio norm, floor).
    support_reference_floor_minutes: float = 60.0
    complaint_reference_floor: float = 2.0
    weights: HealthWeights = field(default_factory=HealthWeights)
    complaint_weights: ComplaintWeights = field(default_factory=ComplaintWeights)
    segments: SegmentRules = field(default_factory=SegmentRules)
    playbook: PlaybookRules = field(default_factory=PlaybookRules)
    # Drift: trend between now and the snapshot drift_lookback_days ago, projected; flagged when the
    # threshold would be crossed within drift_horizon_days.
    drift_lookback_days: float = 14.0
    drift_horizon_days: float = 30.0
    # For customers whose history landed after the fact (a first load, the demo), full refreshes reconstruct
    # the snapshots drift and score changes are measured from (7, 30 and drift_lookback_days back) from the
    # rollup, so they drift at once instead of after a day: up to 3 point-in-time computations at the first
    # full refresh of each UTC day and at one after history landed, in a deployment's first 30 days or after
    # a backfill only.
    reconstruct_snapshots: bool = True
    # Win-back contacts, days after cancellation.
    win_back_days: tuple[int, ...] = (30, 180)
    # Portfolio norms (medians, means, active customers) are recomputed by a full refresh at least this
    # often (minutes), and sooner when, checked every norms_check_seconds, one of them moved by more than
    # norms_max_drift (relative) from the norms in use.
    norms_max_age_minutes: float = 60.0
    norms_check_seconds: float = 30.0
    norms_max_drift: float = 0.1
    # Snapshots older than this are deleted by the daily full refresh (days).
    snapshot_retention_days: float = 400.0


@dataclass(frozen=True)
class ChurnSettings:
    """Silent churn (issue 7): the BG/NBD model of repeat purchases (customer_health/churn)."""

    # The pipeline refits the model on every succeeded charge up to now this often (hours); customers are
    # rescored from the latest fit on every batch that touches them and everyone at each new fit and UTC day.
    refit_interval_hours: float = 24.0
    # ... and sooner when the customers with a purchase grew by more than this share since the last fit
    # (a pipeline started on a backlog fits on its first charges, then again once more have landed).
    refit_growth: float = 0.25
    # How often the pipeline looks at the refit schedule (seconds).
    check_interval_s: float = 30.0
    # A "silently fading" alert fires when a customer's p_alive falls below this (from at or above it) ...
    alert_p_alive_below: float = 0.3
    # ... and the customer used to be valuable: at least this many transactions (days with a succeeded
    # charge) that add up to at least this much (reporting currency, health.currency).
    valuable_min_transactions: int = 3
    valuable_min_lifetime_value: float = 100.0


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("data/customer_health.duckdb")
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    quack: QuackSettings = field(default_factory=QuackSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    quality: QualitySettings = field(default_factory=QualitySettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    churn: ChurnSettings = field(default_factory=ChurnSettings)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with top-level or dotted-path values replaced (``kafka.bootstrap_servers=...``)."""
        result: Any = self
        for dotted, value in changes.items():
            result = _replace_path(result, dotted.split("__"), value)
        return result


def _replace_path(obj: Any, path: list[str], value: Any) -> Any:
    head, *rest = path
    new_value = _replace_path(getattr(obj, head), rest, value) if rest else value
    return dataclasses.replace(obj, **{head: new_value})


# Environment overrides (containers, CI): CUSTOMER_HEALTH_<KEY> or CUSTOMER_HEALTH_<SECTION>__<KEY>, e.g.
# CUSTOMER_HEALTH_DB_PATH, CUSTOMER_HEALTH_QUACK__PORT, CUSTOMER_HEALTH_KAFKA__SASL_PASSWORD. They win over the
# file. CUSTOMER_HEALTH_CONFIG names the TOML file when no explicit one is given.
ENV_PREFIX = "CUSTOMER_HEALTH_"
CONFIG_ENV = "CUSTOMER_HEALTH_CONFIG"


def load_settings(config_file: Path | None = None, env: typing.Mapping[str, str] | None = None) -> Settings:
    """Settings from the embedded defaults, then ``config_file`` (TOML), then the environment.

    The environment: KAFKA_BOOTSTRAP_SERVERS unless the file sets the servers, then every
    ``CUSTOMER_HEALTH_*`` variable (see ENV_PREFIX). Raises UserError naming the file and key, or the
    variable, for an unreadable file, an unknown key or a wrong type.
    """
    env = os.environ if env is None else env
    if config_file is None and env.get(CONFIG_ENV):
        config_file = Path(env[CONFIG_ENV])
    data: dict[str, Any] = {}
    if config_file is not None:
        try:
            data = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"config file {config_file} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"config file {config_file} is not valid TOML: {exc}") from None
    settings = _build(Settings, data, prefix="", source=str(config_file))
    if env.get("KAFKA_BOOTSTRAP_SERVERS") and "bootstrap_servers" not in data.get("kafka", {}):
        settings = settings.with_overrides(kafka__bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
    for name in sorted(env):
        if name.startswith(ENV_PREFIX) and name != CONFIG_ENV:
            settings = settings.with_overrides(**_env_override(name, env[name]))
    return settings


def _env_override(name: str, text: str) -> dict[str, Any]:
    """``{"section__key": value}`` for one CUSTOMER_HEALTH_* variable; the text is typed like a TOML value
    (strings, paths and string choices are taken as they are)."""
    source = f"environment variable {name}"
    parts = name.removeprefix(ENV_PREFIX).lower().split("__")
    cls: Any = Settings
    for depth, part in enumerate(parts):
        fields = {f.name for f in dataclasses.fields(cls)}
        if part not in fields:
            raise UserError(f"{source}: unknown setting '{'.'.join(parts[: depth + 1])}' "
                            f"(known keys here: {', '.join(sorted(fields))})")
        hint = typing.get_type_hints(cls)[part]
        if depth < len(parts) - 1:
            if not dataclasses.is_dataclass(hint):
                raise UserError(f"{source}: '{'.'.join(parts[: depth + 1])}' is not a section")
            cls = hint
    if dataclasses.is_dataclass(hint):
        raise UserError(f"{source}: '{'.'.join(parts)}' is a section; set one of its keys "
                        f"({name}__<KEY>)")
    args = typing.get_args(hint)
    if hint in (str, Path) or (typing.get_origin(hint) is Literal and all(isinstance(a, str) for a in args)):
        value: Any = text
    else:
        try:
            value = tomllib.loads(f"value = {text}")["value"]
        except tomllib.TOMLDecodeError:
            raise UserError(f"{source}: {text!r} is not a TOML value for '{'.'.join(parts)}'") from None
    return {"__".join(parts): _coerce(hint, value, ".".join(parts), source)}


def _build(cls: type, data: Any, prefix: str, source: str) -> Any:
    if not isinstance(data, dict):
        raise UserError(f"config {source}: '{prefix.rstrip('.')}' must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UserError(
            f"config {source}: unknown key '{prefix}{unknown[0]}' (known keys: {', '.join(sorted(known))})"
        )
    kwargs = {name: _coerce(hints[name], value, f"{prefix}{name}", source) for name, value in data.items()}
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, key: str, source: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, prefix=f"{key}.", source=source)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise UserError(f"config {source}: '{key}' must be one of {list(allowed)}, got {value!r}")
        return value
    if origin in (types.UnionType, typing.Union):
        errors = []
        for option in typing.get_args(hint):
            if option is type(None) and value is None:
                return None
            try:
                return _coerce(option, value, key, source)
            except UserError as exc:
                errors.append(str(exc))
        raise UserError(errors[-1])
    if origin in (dict, typing.Mapping):
        if not isinstance(value, dict):
            raise UserError(f"config {source}: '{key}' must be a table")
        _, value_type = typing.get_args(hint)
        return {k: _coerce(value_type, v, f"{key}.{k}", source) for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, list):
            raise UserError(f"config {source}: '{key}' must be a list")
        (item_type, *_) = typing.get_args(hint)
        return tuple(_coerce(item_type, v, f"{key}[]", source) for v in value)
    if hint is Path:
        if not isinstance(value, str):
            raise UserError(f"config {source}: '{key}' must be a path string")
        return Path(value)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(f"config {source}: '{key}' must be a number, got {value!r}")
        return float(value)
    if hint in (int, str, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise UserError(f"config {source}: '{key}' must be {hint.__name__}, got {value!r}")
        return value
    raise UserError(f"config {source}: '{key}' has an unsupported type")
