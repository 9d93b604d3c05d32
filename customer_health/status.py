"""`customer-health status`: what has landed, what was dead-lettered, lag and the last batch."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from customer_health.config import Settings
from customer_health.jsonsafe import jsonable
from customer_health.sqlfiles import Statements

log = logging.getLogger(__name__)


Partition = tuple[str, int]


def pipeline_status(
    db: Statements, settings: Settings, committed: dict[Partition, int] | None = None,
    owners: dict[Partition, str] | None = None,
) -> dict[str, Any]:
    """The status document (see the README for its JSON shape). ``committed``: store = "ducklake", the next
    offset of every partition the group committed to the lake (its offset tables), the lag's base; ``owners``:
    the pipeline owning each there."""
    tickets, payments, visits, customers = db.row("status/landed_counts")
    by_reason = dict(db.rows("status/dead_letter_by_reason"))
    (last_batch,) = db.row("status/last_batch")
    duplicates, quarantined_by_type = db.row("status/duplicates_and_quarantine")
    quarantined = {str(k): int(v) for k, v in dict(quarantined_by_type).items()}
    return {
        "landed": {"tickets": tickets, "payments": payments, "visits": visits, "customers": customers},
        "duplicates": int(duplicates),
        "dead_letter": {"total": sum(by_reason.values()), "by_reason": by_reason},
        "quarantined": {"total": sum(quarantined.values()), "by_type": quarantined},
        "lag": consumer_lag(db, settings, committed),
        "last_batch_at": jsonable(last_batch),
    } | ({} if owners is None else {"owners": {f"{t}[{p}]": o for (t, p), o in sorted(owners.items())}})


def consumer_lag(db: Statements, settings: Settings, committed: dict[Partition, int] | None = None) -> dict[str, Any]:
    """Lag per partition ("topic[partition]": messages) from the broker's end offsets now if reachable,
    else the pipeline's last recorded figures with ``broker_error`` saying why the broker was not read.
    With ``committed`` (store = "ducklake": the lake's offsets) the lag is counted from those, and without
    the broker there is no figure (``source`` "lake", no partitions). On Tansu end offsets are approximate."""
    landed = committed if committed is not None else {
        (t, int(p)): int(o)
        for t, p, o in db.rows("status/landed_offsets", {"group_id": settings.kafka.group_id})
    }
    try:
        live = _end_offsets(settings)
    except (KafkaError, OSError) as exc:
        named = str(exc) if str(exc).startswith(type(exc).__name__) else f"{type(exc).__name__}: {exc}"
        error = f"{settings.kafka.bootstrap_servers}: {named}"
        log.warning("status: could not read end offsets from the broker at %s", error)
    else:
        partitions = {
            f"{tp.topic}[{tp.partition}]": max(0, end - landed.get((tp.topic, tp.partition), 0))
            for tp, end in sorted(live.items())
        }
        return {"source": "broker", "partitions": partitions, "total": sum(partitions.values())} | (
            {} if committed is None else {"committed": {f"{t}[{p}]": o for (t, p), o in sorted(committed.items())}})
    if committed is not None:  # the pipelines' recorded lag stays in their working stores
        return {"source": "lake", "partitions": {}, "total": None, "broker_error": error,
                "committed": {f"{t}[{p}]": o for (t, p), o in sorted(committed.items())}}
    rows = db.rows("status/recorded_lag")
    partitions = {f"{t}[{p}]": int(lag) for t, p, _end, _next, lag, _at in rows}
    observed = max((r[5] for r in rows), default=None)
    return {
        "source": "recorded", "partitions": partitions, "total": sum(partitions.values()),
        "observed_at": jsonable(observed),
        "broker_error": error,
    }


# How long `status` waits for the broker (milliseconds): a health check must answer within seconds.
BROKER_TIMEOUT_MS = 3000


def _end_offsets(settings: Settings) -> dict[TopicPartition, int]:
    """End offsets of every partition of the configured topics; raises what the client raised."""
    with _client_log_quiet():
        return _read_end_offsets(settings)


@contextlib.contextmanager
def _client_log_quiet() -> Iterator[None]:
    """The Kafka client's own log lines (a line per failed connection attempt) held back, unless debugging:
    a broker that cannot be read is reported once, by ``consumer_lag``."""
    client_log = logging.getLogger("kafka")
    level = client_log.level
    if not client_log.isEnabledFor(logging.DEBUG):
        client_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        client_log.setLevel(level)


def _read_end_offsets(settings: Settings) -> dict[TopicPartition, int]:
    kafka = settings.kafka
    consumer = KafkaConsumer(**kafka.client_options(), client_id="customer-health-status",
                             bootstrap_timeout_ms=BROKER_TIMEOUT_MS)
    try:
        tps = [
            TopicPartition(topic, p)
            for topic in kafka.topics.by_type().values()
            for p in (consumer.partitions_for_topic(topic) or ())
        ]
        if not tps:
            return {}
        return {tp: int(o) for tp, o in consumer.end_offsets(tps, timeout_ms=BROKER_TIMEOUT_MS).items()}
    finally:
        with contextlib.suppress(Exception):
            consumer.close(timeout_ms=2000)
