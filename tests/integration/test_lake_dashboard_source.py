"""The dashboard's data source on the lake (store = "ducklake"): one in-memory copy per process, read by
several sessions at once and refreshed with the lake's new commits; a CLI reader beside it sees the same."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from customer_health.composition import open_lake_copy
from customer_health.config import Settings
from customer_health.db import attach_lake
from dashboard import queries
from dashboard.source import DataSource
from ingest.lake import LakeLog
from ingest.landing import RawBatch
from tests.factories import customer, encode, payment, visit


def lake_settings(catalog: str, tmp_path: Path) -> Settings:
    return Settings(store="ducklake").with_overrides(
        ducklake__catalog=catalog, ducklake__data_path=str(tmp_path / "lake") + "/",
        dashboard__refresh_seconds=0.5, quality__batch_suites=False)


def pipeline_a_log(settings: Settings) -> LakeLog:
    """The lake log of a pipeline "pipeline-a" owning partition 0 of the customers, payments and visits topics."""
    con = duckdb.connect()
    attach_lake(con, settings)
    log = LakeLog(con, settings.kafka.group_id, "pipeline-a")
    log.ensure_log()
    log.claim([(t, 0) for t in ("customers", "payments", "visits")])
    return log


def commit_customers(log: LakeLog, first: int, count: int, offset: int) -> int:
    batch = RawBatch()
    for n in range(first, first + count):
        cid = f"c{n}"
        for event_type, make in (("customers", customer), ("payments", payment), ("visits", visit)):
            batch.add_kafka(event_type, event_type, 0, offset, cid.encode(), encode(make(f"{event_type}-{n}", cid)),
                            1_700_000_000_000, None)
            offset += 1
    log.commit(batch.to_arrow())
    return offset


def test_the_dashboard_reads_one_copy_of_the_lake_and_refreshes_it_with_new_commits(
    lake_catalog: str, tmp_path: Path,
) -> None:
    settings = lake_settings(lake_catalog, tmp_path)
    log = pipeline_a_log(settings)
    offset = commit_customers(log, 0, 4, 0)

    source = DataSource(settings)
    try:
        first = source.read(queries.portfolio_summary)
        assert source.last.mode == "lake"
        assert int(first.iloc[0]["customers"]) == 4
        offset = commit_customers(log, 4, 3, offset)
        time.sleep(0.6)
        again = source.read(queries.portfolio_summary)
        assert int(again.iloc[0]["customers"]) == 7
        cli_reader = open_lake_copy(settings)
        try:
            assert int(queries.portfolio_summary(cli_reader).iloc[0]["customers"]) == 7
        finally:
            cli_reader.close()
    finally:
        source.close()
