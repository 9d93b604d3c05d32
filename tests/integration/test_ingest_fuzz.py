"""Generated malformed messages through the real pipeline (embedded broker, real DuckDB file): every
produced message is accounted for exactly once, no event lands twice, every dead letter has a reason."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import Env, stop_process, wait_until
from tests.factories import FACTORIES, encode
from tests.integration.test_ingest_kafka import count_rows, poll_count

FUZZ_WAVES = 12
EVENT_TYPES = sorted(FACTORIES)
TABLES = {"tickets": "tickets", "payments": "payments", "visits": "visits", "customers": "customer_events"}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)


@st.composite
def valid_event(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A contract-valid event; ids come from a small pool, so some are replays of earlier ones."""
    event_type = draw(st.sampled_from(EVENT_TYPES))
    n = draw(st.integers(0, 300))
    return event_type, FACTORIES[event_type](f"ok-{event_type}-{n}", f"c{n % 23}")


@st.composite
def message(draw: st.DrawFn) -> tuple[str, bytes | None, bytes | None, str | None]:
    """(event type, key, value, id of a valid event or None when the message was broken on purpose)."""
    event_type, event = draw(valid_event())
    key = draw(st.none() | st.binary(max_size=8))
    kind = draw(st.sampled_from(["valid", "drop", "retype", "extra", "bytes", "truncate", "not_object",
                                 "oversized", "empty"]))
    if kind == "valid":
        return event_type, key, encode(event), event["event_id"]
    event = dict(event, event_id=f"m-{draw(st.integers(0, 10**9))}")
    if kind == "drop":
        event.pop(draw(st.sampled_from(sorted(event))))
    elif kind == "retype":
        event[draw(st.sampled_from(sorted(event)))] = draw(JSON_VALUES)
    elif kind == "extra":
        event[draw(st.text(min_size=1, max_size=10))] = draw(JSON_VALUES)
    elif kind == "bytes":
        return event_type, key, draw(st.binary(max_size=200)), None
    elif kind == "truncate":
        raw = encode(event)
        return event_type, key, raw[: draw(st.integers(0, len(raw) - 1))], None
    elif kind == "not_object":
        return event_type, key, json.dumps(draw(st.lists(JSON_VALUES, max_size=3) | st.integers())).encode(), None
    elif kind == "oversized":
        event["padding"] = "x" * draw(st.integers(4100, 6000))
    else:  # a tombstone: no value (Kafka then needs a key)
        return event_type, key or b"k", None, None
    return event_type, key, encode(event), None


def test_generated_malformed_messages_are_each_accounted_for_exactly_once(env: Env) -> None:
    env.create_topics()
    proc = env.start_pipeline()
    produced = 0
    valid_ids: set[tuple[str, str]] = set()
    try:
        @settings(max_examples=FUZZ_WAVES, phases=[Phase.generate], deadline=None, database=None, derandomize=True,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(st.lists(message(), min_size=200, max_size=400))
        def one_wave(messages: list[tuple[str, bytes | None, bytes | None, str | None]]) -> None:
            nonlocal produced
            producer = env.producer()
            for event_type, key, value, _ in messages:
                producer.send(env.topics[event_type], key=key, value=value)
            producer.flush(30)
            producer.close()
            produced += len(messages)
            valid_ids.update((t, event_id) for t, _, _, event_id in messages if event_id)
            wait_until(lambda: poll_count(env, "select coalesce(sum(messages), 0) from ingest_batches") >= produced,
                       timeout=20, message=f"{produced} messages landed\n{env.pipeline_log()[-2000:]}")

        one_wave()
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()[-3000:]
    assert produced >= 2000
    messages, landed, duplicates, dead, quarantined = (
        count_rows(env, f"select coalesce(sum({c}), 0) from ingest_batches")
        for c in ("messages", "landed", "duplicates", "dead_lettered", "quarantined"))
    assert messages == produced
    assert landed + duplicates + dead + quarantined == produced
    assert dead == count_rows(env, "select count(*) from dead_letter")
    assert quarantined == count_rows(env, "select count(*) from quarantine")
    rows = sum(count_rows(env, f"select count(*) from {table}") for table in TABLES.values())
    assert rows == landed
    for table in TABLES.values():  # no event twice
        assert count_rows(env, f"select count(*) - count(distinct event_id) from {table}") == 0
    assert count_rows(env, "select count(*) from dead_letter where reason_code is null or coalesce(reason, '') = ''"
                      " or raw is null") == 0
    for event_type, table in TABLES.items():  # every valid event landed, or was quarantined by a batch suite
        wanted = sorted(i for t, i in valid_ids if t == event_type)
        if not wanted:
            continue
        found = count_rows(env, f"select count(distinct event_id) from (select event_id from {table} union all "
                                f"select event_id from quarantine where event_type = '{event_type}') "
                                f"where event_id in ({', '.join(repr(i) for i in wanted)})")
        assert found == len(wanted), (event_type, found, len(wanted))
