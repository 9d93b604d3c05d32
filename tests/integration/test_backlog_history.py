"""A backlog in the running pipeline (real broker, real DuckDB, Quack): the history points it defers while the
consumer catches up are derived once the backlog is in, though no event follows it (the batch that lands its
rest sees it caught up); and a late event's rebuild, which the debounce holds back, is done by the idle pipeline
once the interval has passed, with nothing landing after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from customer_health.errors import UserError
from tests.conftest import Env, produce, stop_process, wait_until
from tests.factories import customer, encode, payment, ticket, visit
from tests.integration.test_ingest_kafka import count_rows

CUSTOMERS = 100
HISTORY_DAYS = 14
REBUILD_INTERVAL_S = 15.0


def backlog(now: datetime) -> list[tuple[str, bytes, bytes]]:
    """A profile and 30 events over the history's 14 days per customer: 3,100 messages."""
    messages: list[tuple[str, bytes, bytes]] = []
    for c in range(CUSTOMERS):
        cid = f"c{c}"
        key = cid.encode()
        messages.append(("customers", key, encode(customer(f"p-{cid}", cid, occurred_at=(
            now - timedelta(days=200)).isoformat()))))
        for n in range(30):
            at = (now - timedelta(days=HISTORY_DAYS * (30 - n) / 30, minutes=c)).isoformat()
            if n % 3 == 0:
                messages.append(("payments", key, encode(payment(f"pay-{cid}-{n}", cid, amount=25.0, occurred_at=at))))
            else:
                messages.append(("visits", key, encode(visit(f"v-{cid}-{n}", cid, occurred_at=at))))
    return messages


def landed_events(env: Env) -> int:
    try:
        return count_rows(env, "select (select count(*) from visits) + (select count(*) from payments)")
    except UserError:  # no database yet: the pipeline is starting
        return 0


def test_the_points_a_backlog_deferred_are_derived_once_it_is_in(env: Env) -> None:
    config = env.config_path.read_text().replace("[pipeline]\n", "[pipeline]\nidle_seconds = 1.0\n")
    env.config_path.write_text(config + (
        f"[health]\nhistory_days = {HISTORY_DAYS}\nhistory_defer_lag_messages = 0\n"
        f"history_rebuild_interval_seconds = {REBUILD_INTERVAL_S}\n"))
    env.create_topics()
    now = datetime.now(UTC).replace(microsecond=0)
    messages = backlog(now)
    assert len(messages) == 3_100
    produce(env, messages)
    proc = env.start_pipeline()
    try:
        wait_until(lambda: landed_events(env) == 3_000, message="the backlog landed")
        # Nothing more is produced: the history is derived all the same, over the whole window.
        wait_until(lambda: count_rows(env, "select count(distinct as_of) from health_history") >= HISTORY_DAYS,
                   timeout=60, message="the deferred history derived")
        today = datetime.combine(datetime.now(UTC).date(), datetime.min.time())
        assert count_rows(env, "select count(distinct as_of) from health_history") == HISTORY_DAYS
        assert count_rows(env, "select count(*) from health_history where as_of = "
                               f"timestamp '{today:%Y-%m-%d %H:%M:%S}'") == CUSTOMERS
        assert count_rows(env, "select count(*) from health_history_dirty") == 0

        # A late ticket (5 days back) within the rebuild interval: its batch marks the history dirty and waits.
        late = ticket("late-1", "c0", occurred_at=(now - timedelta(days=5)).isoformat(), category="complaint",
                      handling_minutes=600.0)
        produce(env, [("tickets", b"c0", encode(late))])
        wait_until(lambda: count_rows(env, "select count(*) from tickets") == 1, message="the late ticket landed")
        assert count_rows(env, "select count(*) from health_refreshes where reason = 'history_rebuilt'") == 0
        # Nothing more lands: the idle pipeline rebuilds it once the interval is over (a refresh of no batch).
        wait_until(lambda: count_rows(env, "select count(*) from health_history_dirty") == 0,
                   timeout=REBUILD_INTERVAL_S + 60, message="the late event's rebuild, by the idle pipeline")
        assert count_rows(env, "select count(*) from health_refreshes where reason = 'history_rebuilt' "
                               "and batch_id is null") == 1
        assert count_rows(env, "select max(support_minutes_90d) from health_history where customer_id = 'c0' "
                               f"and as_of = timestamp '{today:%Y-%m-%d %H:%M:%S}'") == 600
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
