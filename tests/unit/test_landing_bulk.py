"""A bulk lander (a backfill) lands every row as a live one does, but runs no after_land hook; the finish
of a backfill then derives health once, as of one instant, from everything landed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from customer_health.config import Settings
from customer_health.db import open_owner
from customer_health.health.backfill import finish_backfill
from ingest.landing import BatchContext, IdleContext, Lander, batch_from_rows
from tests.factories import encode, ticket, visit


@pytest.fixture
def owner(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Settings]]:
    settings = Settings(db_path=tmp_path / "bulk.duckdb")
    con = open_owner(settings)
    yield con, settings
    con.close()


def batch(*events: bytes) -> pa.Table:
    return batch_from_rows([("tickets" if b'"ticket_id"' in raw else "visits", "f.jsonl", n, raw)
                            for n, raw in enumerate(events, start=1)])


@pytest.mark.parametrize("bulk", [False, True])
def test_bulk_batches_run_the_before_land_hooks_but_no_after_land_hook(
    owner: tuple[duckdb.DuckDBPyConnection, Settings], bulk: bool,
) -> None:
    con, _ = owner
    seen: dict[str, list[int]] = {"before": [], "after": []}

    def before(_con: duckdb.DuckDBPyConnection, ctx: BatchContext) -> int:
        seen["before"].append(ctx.batch_id)
        return 0

    def after(_con: duckdb.DuckDBPyConnection, ctx: BatchContext) -> None:
        seen["after"].append(ctx.batch_id)

    lander = Lander(con, "g", 65536, before_land=[before], after_land=[after], bulk=bulk)
    first = lander.land(batch(encode(ticket("t1")), b"{broken", encode(ticket("t1"))), "file:f.jsonl")
    second = lander.land(batch(encode(visit("v1"))), "file:f.jsonl")
    assert (first.landed, first.duplicates, first.dead_lettered, second.landed) == (1, 1, 1, 1)
    assert seen["before"] == [first.batch_id, second.batch_id]
    assert seen["after"] == ([] if bulk else [first.batch_id, second.batch_id])


@pytest.mark.parametrize("bulk", [False, True])
def test_idle_hooks_run_in_one_transaction_of_their_own_and_never_in_bulk(
    owner: tuple[duckdb.DuckDBPyConnection, Settings], bulk: bool,
) -> None:
    con, _ = owner
    con.execute("create table idle_marks (marked_at timestamp)")
    seen: list[IdleContext] = []

    def mark(hook_con: duckdb.DuckDBPyConnection, ctx: IdleContext) -> None:
        seen.append(ctx)
        hook_con.execute("insert into idle_marks values (?)", [ctx.now])

    def fail(_con: duckdb.DuckDBPyConnection, _ctx: IdleContext) -> None:
        raise RuntimeError("idle hook failed")

    lander = Lander(con, "g", 65536, when_idle=[mark], bulk=bulk)
    lander.idle()
    assert len(seen) == (0 if bulk else 1)
    assert con.execute("select count(*) from idle_marks").fetchone() == ((0,) if bulk else (1,))
    if not bulk:
        assert seen[0].statements is lander.statements
        lander.when_idle.append(fail)
        with pytest.raises(RuntimeError, match="idle hook failed"):
            lander.idle()
        assert con.execute("select count(*) from idle_marks").fetchone() == (1,)  # the failed turn rolled back


def test_finish_backfill_derives_health_once_from_everything_landed(
    owner: tuple[duckdb.DuckDBPyConnection, Settings],
) -> None:
    con, settings = owner
    lander = Lander(con, "g", 65536, bulk=True)
    lander.land(batch(encode(ticket("t1", "c1")), encode(visit("v1", "c2"))), "file:f.jsonl")
    assert con.execute("select count(*) from customer_day").fetchone() == (0,)
    assert con.execute("select count(*) from health_state").fetchone() == (0,)
    result = finish_backfill(con, settings)
    assert (result.kind, result.reason, result.customers) == ("full", "backfill", 2)
    assert con.execute("select count(*) from health_refreshes").fetchone() == (1,)
    assert con.execute("select list(customer_id order by customer_id) from health_state").fetchone() == (["c1", "c2"],)
    assert con.execute("select count(distinct customer_id) from customer_day").fetchone() == (2,)
