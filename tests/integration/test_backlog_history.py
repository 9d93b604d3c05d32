"""A backlog in the running pipeline (real broker, real DuckDB, Quack): the history points it defers while the
consumer catches up are derived once the backlog is in, though no event follows it (the batch that lands its
rest sees it caught up; the idle hook does what is still put off)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from customer_health.errors import UserError
from tests.conftest import Env, produce, stop_process, wait_until
from tests.factories import customer, encode, payment, visit
from tests.integration.test_ingest_kafka import count_rows

CUSTOMERS = 100
HISTORY_DAYS = 14


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
        "history_rebuild_interval_seconds = 2.0\n"))
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
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
