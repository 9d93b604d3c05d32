"""Hand-computed fixtures for every metric of the health model: window edges, time zones, late events,
refunds, currencies, overdue invoices, escalations, visits. Each is checked on both paths: computed from
scratch at AS_OF (`customer --as-of`) and maintained by the pipeline's incremental refresh.

Windows end with AS_OF = 2026-11-20 12:00 UTC: the 90-day window starts 2026-08-23 00:00 UTC, the 30-day
window 2026-10-22 00:00 UTC. Default costs: 1.00 EUR per support minute, 5.00 EUR per failed payment.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.health_world import World, ago, charge, ordinary_portfolio, profile, seen, tick


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    result = w.land_and_refresh(*ordinary_portfolio())
    assert result.kind == "full" and result.reason == "first"
    yield w
    w.close()


def both_paths(world: World, customer_id: str) -> list[dict]:
    """The customer's row computed at AS_OF and as maintained incrementally (must agree)."""
    return [world.computed()[customer_id], world.maintained()[customer_id]]


def test_ordinary_customer_scores_by_hand(world: World) -> None:
    # engagement 100 x (0.5 x 1/30 + 0.5 x (1 - 1/30)) = 50.0; the other components 100; profitability
    # 50 + 50 x 10/10 = 100; score 0.25 x 50 + 0.75 x 100 = 87.5; margin 10 is not above the median 10.
    for row in both_paths(world, "o1"):
        assert row["revenue_90d"] == 10.0 and row["cost_to_serve_90d"] == 0.0 and row["margin_90d"] == 10.0
        assert row["days_since_last_visit"] == 1.0 and row["visits_90d"] == 1
        assert row["components"] == {"engagement": 50.0, "payment_behaviour": 100.0, "support_burden": 100.0,
                                     "complaint_behaviour": 100.0, "profitability": 100.0}
        assert row["health_score"] == 87.5
        assert row["segment"] == "healthy" and row["next_step"] == "none"
        assert row["portfolio_median_support_minutes_90d"] == 0.0
        assert row["norms"]["median_margin_90d"] == 10.0


def test_revenue_window_edges_time_zones_refunds_and_currencies(world: World) -> None:
    first = world.land(
        profile("rev"),
        charge("p1", "rev", "2026-08-23T00:00:00Z", 100),             # first instant of the window: in
        charge("p2", "rev", "2026-08-22T23:59:59Z", 50),              # one second before: out
        charge("p3", "rev", "2026-08-23T00:30:00+01:00", 30),         # 2026-08-22 23:30 UTC: out
        charge("p4", "rev", "2026-10-01T00:00:00Z", 100, "GBP"),      # 100 / 0.86 = 116.2791 EUR
        charge("p5", "rev", "2026-10-02T00:00:00Z", 40, "XAF"),       # no rate: unpriced, left out
        charge("p6", "rev", "2026-11-01T00:00:00Z", 15, kind="refund"),
        charge("p7", "rev", "2026-11-01T00:00:00Z", 7, kind="refund", status="failed"),  # nothing moved
        charge("p8", "rev", "2026-11-02T00:00:00Z", 10, kind="chargeback"),
        charge("p9", "rev", "2026-11-03T00:00:00Z", 5, kind="credit"),
        charge("p10", "rev", "2026-11-04T00:00:00Z", 40, status="pending"),
        charge("p11", "rev", "2026-11-05T00:00:00Z", 25, status="failed"),
        charge("p13", "rev", "2026-11-20T12:00:01Z", 999),            # one second after AS_OF: out
        charge("p14", "rev", "2026-11-21T00:30:00+02:00", 5),         # 2026-11-20 22:30 UTC: out
    )
    world.refresh(first)
    # A late event: landed after the others, dated exactly AS_OF (13:00+01:00) -> in.
    world.refresh(world.land(charge("p12", "rev", "2026-11-20T13:00:00+01:00", 20)))
    for row in both_paths(world, "rev"):
        # 100 + 116.2791 + 20 - 15 refund - 10 chargeback - 5 credit = 206.2791
        assert row["revenue_90d"] == 206.28
        assert row["unpriced_payments_90d"] == 1
        assert row["failed_payments_90d"] == 1 and row["failed_payment_cost_90d"] == 5.0
        assert row["cost_to_serve_90d"] == 5.0 and row["margin_90d"] == 201.28
        # attempts: 4 succeeded charges in the window (p1, p4, p5, p12) + 1 failed (p11)
        assert row["charge_attempts_90d"] == 5 and row["payment_problem_share_90d"] == 0.2
        assert row["billing_currency"] == "EUR"


def test_support_minutes_windows_tickets_escalations_and_compensation(world: World) -> None:
    world.land_and_refresh(
        profile("sup"),
        charge("s-pay", "sup", "2026-11-01T00:00:00Z", 86, "GBP"),     # billing currency GBP: 100.00 EUR
        tick("s1", "sup", "2026-10-22T00:00:00Z", "T1", "how_to", 10),  # first instant of 30 days: in both
        tick("s2", "sup", "2026-10-21T23:59:59Z", "T2", "how_to", 20),  # 90 days only
        tick("s3", "sup", "2026-08-23T00:00:00Z", "T3", "complaint", 30, escalated=True),
        tick("s4", "sup", "2026-09-01T00:00:00Z", "T3", "complaint", 5, action="updated", escalated=True),
        tick("s5", "sup", "2026-08-22T23:59:59Z", "T4", "legal_threat", 40, escalated=True),  # out
        tick("s6", "sup", "2026-11-10T00:00:00Z", "T5", "compensation_request", 15, compensation_requested=50),
        tick("s7", "sup", "2026-11-12T00:00:00Z", "T5", "compensation_request", 5, action="resolved",
             compensation_granted=43),
        tick("s8", "sup", "2026-11-20T13:30:00+01:00", "T6", "how_to", 25),  # 12:30 UTC, after AS_OF: out
    )
    for row in both_paths(world, "sup"):
        assert row["support_minutes_30d"] == 30          # 10 + 15 + 5
        assert row["support_minutes_90d"] == 85          # 10 + 20 + 30 + 5 + 15 + 5
        assert row["how_to_share_90d"] == round(30 / 85, 4)
        assert row["tickets_90d"] == 4                   # T1, T2, T3, T5 opened in the window
        assert row["how_to_tickets_90d"] == 2 and row["complaints_90d"] == 1 and row["legal_threats_90d"] == 0
        assert row["escalations_90d"] == 1               # T3 once, however many escalated events
        assert row["compensation_requests_90d"] == 1
        assert row["compensation_requested_amount_90d"] == 58.14  # 50 GBP / 0.86
        assert row["compensation_granted_90d"] == 50.0            # 43 GBP / 0.86
        assert row["complaint_index_90d"] == 3.0                  # 1 complaint + 1 request + 1 escalation
        # cost = 85 x 1.00 + 50.00 compensation + 0 failed; margin = 100 - 135
        assert row["cost_to_serve_90d"] == 135.0 and row["margin_90d"] == -35.0
        # support 100/(1 + 85/60) = 41.4; complaint 100/(1 + 3/2) = 40.0; profitability 50 - 50 x 35/135
        assert row["components"] == {"engagement": 0.0, "payment_behaviour": 100.0, "support_burden": 41.4,
                                     "complaint_behaviour": 40.0, "profitability": 37.0}
        assert row["health_score"] == 41.6   # 0.2 x 100 + 0.15 x 41.4 + 0.2 x 40 + 0.2 x 37
        assert row["segment"] == "unprofitable" and row["next_step"] == "renegotiate"


def test_costs_come_from_the_configuration(tmp_path: Path) -> None:
    world = World(tmp_path, cost_per_support_minute=0.5, cost_per_failed_payment=3.0)
    try:
        world.land_and_refresh(*ordinary_portfolio())
        world.land_and_refresh(
            profile("cfg"), charge("c-pay", "cfg", ago(days=3), 100),
            charge("c-fail", "cfg", ago(days=2), 100, status="failed"),
            tick("c-t", "cfg", ago(days=1), "CT", "bug", 40),
        )
        for row in both_paths(world, "cfg"):
            assert row["support_cost_90d"] == 20.0 and row["failed_payment_cost_90d"] == 3.0
            assert row["cost_to_serve_90d"] == 23.0 and row["margin_90d"] == 77.0
    finally:
        world.close()


def invoice(eid: str, invoice_id: str, day: str, due: str, status: str = "succeeded") -> tuple[str, dict]:
    return charge(eid, "inv", f"{day}T00:00:00Z", 30, invoice_id=invoice_id, status=status, due_at=f"{due}T00:00:00Z")


def test_overdue_invoices_by_due_date_and_payment_time(world: World) -> None:
    world.land_and_refresh(
        profile("inv"),
        invoice("i1a", "I1", "2026-11-01", "2026-11-10", status="pending"),
        invoice("i1b", "I1", "2026-11-08", "2026-11-10", status="failed"),
        invoice("i2a", "I2", "2026-11-01", "2026-11-10", status="pending"),
        invoice("i2b", "I2", "2026-11-15", "2026-11-10"),   # paid late
        invoice("i3", "I3", "2026-11-15", "2026-11-25", status="pending"),
        invoice("i4", "I4", "2026-07-01", "2026-08-01", status="pending"),
        invoice("i5", "I5", "2026-08-01", "2026-08-23", status="pending"),
    )
    for row in both_paths(world, "inv"):
        # I1 (never paid) and I5 (due at the window's first instant); I2 was paid, I3 is not due, I4 is
        # due before the window.
        assert row["overdue_invoices_90d"] == 2
        assert row["failed_payments_90d"] == 1 and row["charge_attempts_90d"] == 2
        assert row["payment_problem_share_90d"] == 0.75   # (1 failed + 2 overdue) / (2 attempts + 2 overdue)
        assert row["revenue_90d"] == 30.0 and row["margin_90d"] == 25.0
        # payment 100 x (1 - 0.75) = 25; profitability 50 + 50 x 25/30 = 91.7
        assert row["components"]["payment_behaviour"] == 25.0 and row["components"]["profitability"] == 91.7
        assert row["health_score"] == 58.3
        assert row["segment"] == "healthy" and row["next_step"] == "migrate"
    # On 2026-11-12 I2 was still unpaid, and the window started 2026-08-15.
    earlier = world.computed(datetime(2026, 11, 12, 12))["inv"]
    assert earlier["overdue_invoices_90d"] == 3


def test_visits_recency_usual_gap_and_silent_fading(world: World) -> None:
    world.land_and_refresh(
        profile("fade"), charge("f-pay", "fade", ago(days=3), 50),
        *(seen(f"fv{d}", "fade", ago(days=d)) for d in (10, 12, 14, 16)),
    )
    for row in both_paths(world, "fade"):
        assert row["visits_90d"] == 4 and row["days_since_last_visit"] == 10.0
        assert row["usual_visit_gap_days"] == 2.0          # (16 - 10) days / 3 gaps
        assert row["fading"] is True                       # 10 >= 3 x 2
        # engagement 100 x (0.5 x 4/30 + 0.5 x (1 - 10/30)) = 40.0; score 0.25 x 40 + 0.75 x 100 = 85.0
        assert row["components"]["engagement"] == 40.0 and row["health_score"] == 85.0
        assert row["segment"] == "at_risk" and "silent fading" in row["segment_reason"]
        assert row["next_step"] == "readjust"


def test_late_event_outside_the_window_changes_nothing_but_all_time_facts(world: World) -> None:
    world.land_and_refresh(profile("late"), charge("l-pay", "late", ago(days=3), 50),
                           seen("lv1", "late", ago(days=2)))
    before = world.maintained()["late"]
    old = "2026-06-01T00:00:00Z"
    world.refresh(world.land(charge("l-old", "late", old, 500), seen("lv0", "late", old)))
    after = world.maintained()["late"]
    assert after["revenue_90d"] == before["revenue_90d"] == 50.0
    assert after["visits_90d"] == 1 and after["visits_total"] == 2
    assert after["first_visit_at"] == datetime(2026, 6, 1)
    assert world.computed()["late"]["usual_visit_gap_days"] == after["usual_visit_gap_days"]


def test_a_duplicate_event_counts_once(world: World) -> None:
    event = charge("dup", "o1", ago(days=2), 40)
    world.land_and_refresh(event)
    world.land_and_refresh(event)
    for row in both_paths(world, "o1"):
        assert row["revenue_90d"] == 50.0
