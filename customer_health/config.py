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
    batch_max_events: int = 5000
    # Upper bound on how long an event waits in an open batch before it is landed (milliseconds).
    batch_max_wait_ms: int = 200
    # Messages larger than this are dead-lettered as oversized (bytes).
    max_message_bytes: int = 65536
    # Seconds between scheduled table-level jobs (quality suites, daily snapshots).
    schedule_interval_s: float = 60.0


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
class Settings:
    db_path: Path = Path("data/customer_health.duckdb")
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    quack: QuackSettings = field(default_factory=QuackSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)

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


def load_settings(config_file: Path | None = None, env: typing.Mapping[str, str] | None = None) -> Settings:
    """Settings from the embedded defaults, then ``config_file`` (TOML), then the environment.

    Raises UserError naming the file and key for an unreadable file, an unknown key or a wrong type.
    """
    env = os.environ if env is None else env
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
    return settings


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
