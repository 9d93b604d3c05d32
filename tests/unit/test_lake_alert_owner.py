"""store = "ducklake": of N pipelines holding every customer, one raises each alert (the owner of the customer's
home partition; portfolio-wide ones the owner of partition 0 of the customers topic)."""

from __future__ import annotations

import pytest

from customer_health.alerts.engine import AlertCandidate
from customer_health.alerts.pipeline import QualityAndAlerts
from customer_health.config import Settings
from customer_health.db import open_working_store


@pytest.mark.parametrize(("owned", "expected"), [
    # owns customers[0]: the leader; c1's home is customers[0], c2's is customers[1] (its profile topic wins over
    # visits[0]), c3 has no profile: its home is the first of its topics (payments[2]).
    # c4 has no partition recorded (a null or over-long key): the leader raises its alerts.
    ([("customers", 0)], {("segment", "c1"), ("segment", "c4"), ("quality", "table:topics"), ("pipeline", "lag")}),
    ([("customers", 1), ("visits", 0)], {("drift", "c2")}),
    ([("payments", 2), ("customers", 2)], {("fading", "c3")}),
])
def test_each_alert_is_raised_by_one_pipeline_only(owned: list[tuple[str, int]], expected: set) -> None:
    settings = Settings(store="ducklake")
    con = open_working_store(settings)
    con.executemany("insert into customer_partitions values (?, ?, ?)", [
        ("c1", "customers", 0), ("c1", "visits", 0),
        ("c2", "customers", 1), ("c2", "visits", 0),
        ("c3", "payments", 2), ("c3", "visits", 2),
    ])
    con.executemany("insert into pipeline_partitions values (?, ?)", owned)
    candidates = [AlertCandidate("segment", "c1", "warning", "c1 worse"),
                  AlertCandidate("segment", "c4", "warning", "c4 worse"), AlertCandidate("drift", "c2", "warning", "x"),
                  AlertCandidate("fading", "c3", "warning", "y"),
                  AlertCandidate("quality", "table:topics", "critical", "z"),
                  AlertCandidate("pipeline", "lag", "warning", "lag")]
    raised = QualityAndAlerts(con, settings).raised_here(con, candidates)
    assert {(c.source, c.subject) for c in raised} == expected


def test_a_pipeline_owning_no_partition_evaluates_no_alert() -> None:
    """Between a revoke and the next claim a pipeline owns nothing: it must not evaluate (and so move its
    cursors past) alerts it would drop."""
    settings = Settings(store="ducklake")
    con = open_working_store(settings)
    con.execute("insert into segment_changes (customer_id, changed_at, from_segment, to_segment, health_score, "
                "drifting_toward, days_to_threshold, batch_id, refresh_kind, change_seq) "
                "values ('c1', now()::timestamp, 'healthy', 'unprofitable', 40, "
                "null, null, 1, 'incremental', nextval('segment_change_seq'))")
    hooks = QualityAndAlerts(con, settings)
    assert not hooks.owns_partitions(con)
    report = hooks.evaluate_alerts(con)
    assert report.sent == [] and report.held == []
    assert con.execute("select count(*) from alert_cursors").fetchone() == (0,)
    con.execute("insert into pipeline_partitions values ('visits', 1)")
    assert hooks.owns_partitions(con)
