"""`customer-health what-if` on a hand-computed portfolio: every figure computed here by hand and asserted
exactly from the JSON; the filters' one-line errors; the ready customers' evidence files in one private
archive; and the portfolio page's "What if" panel showing the CLI's numbers."""

from __future__ import annotations

import contextlib
import io
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from customer_health.cli import main
from tests.factories import customer, payment, ticket, visit
from tests.integration.test_health_cli import at, json_of, write_files

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def hand_portfolio() -> dict[str, list[dict[str, Any]]]:
    """Margins over 90 days (EUR, 1.00 per support minute):
    o0-o3: 10 each (a 10 charge);       u1: 20 - 50 how-to minutes = -30 (household H1, consumer);
    u2: 30 - 100 how-to minutes = -70 (business, plan pro; educate, migrate, renegotiate tried);
    k1: 40 (household H1);              w1: 100 - 5 = 95, a complaint still open;
    w2: 50 - 3 = 47, its complaint resolved; g1: churned, 5 - 60 = -55 (never matched)."""
    events: dict[str, list[dict[str, Any]]] = {"customers": [], "tickets": [], "payments": [], "visits": []}

    def add(cid: str, amount: float, **profile: Any) -> None:
        events["customers"].append(customer(f"p-{cid}", cid, occurred_at=at(300), **profile))
        events["payments"].append(payment(f"pay-{cid}", cid, occurred_at=at(5), amount=amount))
        events["visits"].append(visit(f"v-{cid}", cid, occurred_at=at(1)))

    for i in range(4):
        add(f"o{i}", 10)
    add("u1", 20, household_id="H1")
    add("u2", 30, kind="b2b", plan="pro", name="Costly GmbH")
    add("k1", 40, household_id="H1")
    add("w1", 100)
    add("w2", 50)
    add("g1", 5, cancelled_at=at(2))
    events["tickets"] += [
        ticket("t-u1", "u1", occurred_at=at(4), ticket_id="TU1", category="how_to", handling_minutes=50),
        ticket("t-u2", "u2", occurred_at=at(4), ticket_id="TU2", category="how_to", handling_minutes=100),
        ticket("t-w1", "w1", occurred_at=at(3), ticket_id="TW1", category="complaint", handling_minutes=5),
        ticket("t-w2", "w2", occurred_at=at(3), ticket_id="TW2", category="complaint", handling_minutes=2),
        ticket("t-w2r", "w2", occurred_at=at(2), ticket_id="TW2", category="complaint", handling_minutes=1,
               action="resolved"),
        ticket("t-g1", "g1", occurred_at=at(4), ticket_id="TG1", category="how_to", handling_minutes=60),
    ]
    return events


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("what-if")
    config = tmp / "config.toml"
    config.write_text(f'db_path = "{tmp / "w.duckdb"}"\n')
    assert cli(config, "load", *write_files(tmp, hand_portfolio())).returncode == 0
    assert json_of(cli(config, "refresh", "--json"))["customers"] == 10
    for step in ("educate", "migrate", "renegotiate"):
        assert cli(config, "intervene", "u2", step, "--note", f"{step} was tried", "--by", "alice").returncode == 0
    return config


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`customer-health ARGS --config config` in this process; returns what a subprocess would."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([*args, "--config", str(config)])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli(config, "what-if", *args)


def test_the_unprofitable_tail_by_hand(loaded: Path) -> None:
    doc = json_of(run(loaded, "--json"))
    # No filter: the customers with margin_90d below 0, churned g1 left out: u1 (-30) and u2 (-70).
    assert doc["filters"] == {"segments": [], "margin_below": 0, "plan": None, "kind": None}
    assert (doc["customers"], doc["ready"], doc["not_ready"]) == (2, 1, 1)
    assert doc["revenue_lost_90d"] == 20 + 30
    assert doc["cost_to_serve_saved_90d"] == 50 + 100
    assert doc["support_minutes_freed_90d"] == 150 and doc["agent_hours_freed_90d"] == 2.5
    assert doc["margin_change_90d"] == 100                      # -(-30 - 70)
    assert doc["revenue_lost_annual"] == round(50 * 365 / 90, 2) == 202.78
    assert doc["cost_to_serve_saved_annual"] == round(150 * 365 / 90, 2) == 608.33
    assert doc["support_minutes_freed_annual"] == 608.33
    assert doc["agent_hours_freed_annual"] == round(150 * 365 / 90 / 60, 2) == 10.14
    assert doc["margin_change_annual"] == round(100 * 365 / 90, 2) == 405.56
    before = 4 * 10 - 30 - 70 + 40 + 95 + 47
    assert doc["portfolio"] == {
        "customers_before": 9, "customers_after": 7, "margin_before_90d": before, "margin_after_90d": before + 100,
        # top 30%: ceil(0.3 x 9) = 3 and ceil(0.3 x 7) = 3 customers: w1, w2, k1
        "top_30pct_margin_share_before": round((95 + 47 + 40) / before, 4),
        "top_30pct_margin_share_after": round((95 + 47 + 40) / (before + 100), 4),
    }
    assert [p["cumulative_margin"] for p in doc["whale_curve_before"]] == [95, 142, 182, 192, 202, 212, 222, 192, 122]
    assert [p["cumulative_margin"] for p in doc["whale_curve_after"]] == [95, 142, 182, 192, 202, 212, 222]
    assert doc["whale_curve_after"][-1]["cumulative_margin_share"] == 1
    # Collateral: k1 shares u1's household; w1 is profitable with an open complaint (w2's was resolved).
    assert doc["households_at_risk"] == 1
    col = doc["collateral"]
    h = col["households"]
    assert (h["households_at_risk"], h["members_at_risk"], h["members_margin_90d"]) == (1, 1, 40)
    assert h["expected_margin_change_90d"] == -0.5 * 40 and "50%" in h["assumption"]
    assert [m["customer_id"] for m in h["members"]] == ["k1"]
    w = col["complaint_witnesses"]
    assert (w["customers"], w["margin_90d"], w["expected_margin_change_90d"]) == (1, 95, -9.5)
    assert [m["customer_id"] for m in w["list"]] == ["w1"] and "10%" in w["assumption"]
    b = col["b2b_notice"]
    assert (b["accounts"], b["accounts_with_delayed_saving"], b["notice_months"]) == (1, 1, 3)
    assert b["delayed_margin_change"] == round(70 * 3 * (365 / 12) / 90, 2) == 70.97
    assert "3 months" in b["assumption"]
    assert col["margin_change_with_collateral_90d"] == 100 - 20 - 9.5
    assert col["margin_change_first_year"] == round(100 * 365 / 90 - 70 * 3 * (365 / 12) / 90, 2) == 334.58
    # Playbook: u2 had educate, migrate and renegotiate tried; u1 nothing, so u1 is not ready to exit.
    assert {p["step"]: p["customers_tried"] for p in doc["playbook"]} == {
        "readjust": 0, "educate": 1, "renegotiate": 1, "migrate": 1, "exit": 0}
    assert {p["step"] for p in doc["playbook"] if p["before_exit"]} == {"educate", "migrate", "renegotiate"}
    assert [(c["customer_id"], c["first_untried"]) for c in doc["not_ready_customers"]] == [("u1", "educate")]
    assert [c["customer_id"] for c in doc["ready_customers"]] == ["u2"]


def test_filters_narrow_the_matched_customers(loaded: Path) -> None:
    b2b = json_of(run(loaded, "--kind", "b2b", "--json"))
    assert (b2b["customers"], b2b["margin_change_90d"], b2b["households_at_risk"]) == (1, 70, 0)
    assert json_of(run(loaded, "--plan", "pro", "--json"))["customers"] == 1
    # Segments and a margin filter together: the healthy and champion customers below 48.
    healthy = json_of(run(loaded, "--segment", "healthy", "champion", "--margin-below", "48", "--json"))
    assert {c["customer_id"] for c in healthy["ready_customers"] + healthy["not_ready_customers"]} == {
        "o0", "o1", "o2", "o3", "k1", "w2"}
    assert healthy["revenue_lost_90d"] == 40 + 40 + 50 and healthy["margin_change_90d"] == -(40 + 40 + 47)
    # w1 stays and has an open complaint: a witness; k1 leaves and u1 (-30) of its household may follow.
    assert healthy["collateral"]["complaint_witnesses"]["customers"] == 1 and healthy["households_at_risk"] == 1
    assert healthy["collateral"]["households"]["expected_margin_change_90d"] == -0.5 * -30
    text = run(loaded)
    assert text.returncode == 0 and "letting go 2 customers" in text.stdout and "not ready: u1" in text.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--segment", "churned"), "segment 'churned' cannot be let go"),
    (("--segment", "nobody"), "unknown segment 'nobody'"),
    (("--margin-below", "abc"), "margin below 'abc' is not a number"),
    (("--margin-below", "nan"), "must be a finite amount"),
    (("--kind", "b2x"), "unknown kind 'b2x' (one of: b2b, b2c)"),
    (("--plan", "gold"), "unknown plan 'gold' (one of: pro, standard)"),
    (("--points", "1"), "--points must be at least 2"),
])
def test_bad_filters_are_one_line_errors(
    loaded: Path, args: tuple[str, ...], message: str,
) -> None:
    result = run(loaded, *args)
    assert result.returncode == 1 and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_the_ready_customers_evidence_files_go_into_one_private_archive(
    loaded: Path, tmp_path: Path,
) -> None:
    target = tmp_path / "out" / "exit.zip"
    doc = json_of(run(loaded, "--archive", str(target), "--json"))
    assert doc["archive"] == {"path": str(target), "customers": ["u2"]}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
        assert [n.rsplit(".", 1)[1] for n in names] == ["html", "md"] and all("dossier-u2-" in n for n in names)
        page = archive.read(names[0]).decode()
    assert "Costly GmbH" in page and "renegotiate was tried" in page
    exported = json_of(run(loaded, "--export", str(tmp_path / "dir"), "--json"))["archive"]["path"]
    assert Path(exported).parent == tmp_path / "dir" and Path(exported).name.startswith("what-if-evidence-")


def test_the_portfolio_panel_shows_the_clis_numbers(loaded: Path) -> None:
    doc = json_of(run(loaded, "--json"))
    sys.argv = ["app.py", "--config", str(loaded)]
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("pages/portfolio.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "What if we let them go?" in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers let go"] == "2" and metrics["Not ready to exit"] == "1"
    assert metrics["Revenue lost, 90 d"] == f"{doc['revenue_lost_90d']:,.2f}"
    assert metrics["Cost to serve saved, 90 d"] == f"{doc['cost_to_serve_saved_90d']:,.2f}"
    assert metrics["Margin change, 90 d"] == f"{doc['margin_change_90d']:+,.2f}"
    assert metrics["Agent hours freed, 90 d"] == f"{doc['agent_hours_freed_90d']:,.2f}"
    assert metrics["Margin change, a year"] == f"{doc['margin_change_annual']:+,.2f}"
    assert metrics["Households at risk"] == "1"
    assert metrics["Portfolio margin after, 90 d"] == f"{doc['portfolio']['margin_after_90d']:,.2f}"
    frames = [d.value for d in at.dataframe]
    not_ready = next(f for f in frames if "first_untried" in f.columns)
    assert not_ready["customer_id"].tolist() == ["u1"]
    assert "wi_whale_chart" in {c.key for c in at.get("plotly_chart")}
    assert "wi_archive" in {b.key for b in at.get("download_button")}
    # A bad filter is a clear message, not a failure.
    at.text_input(key="wi_margin_below").set_value("lots").run()
    assert not at.exception
    assert any("margin below 'lots' is not a number" in str(e.value) for e in at.warning)
    at.text_input(key="wi_margin_below").set_value("").run()
    at.multiselect(key="wi_segments").set_value(["terrorist"]).run()
    nobody = {m.label: m.value for m in at.metric}
    assert nobody["Customers let go"] == "0" and nobody["Margin change, 90 d"] == "+0.00"  # not "-0.00"


def test_the_assumptions_come_from_the_settings(loaded: Path, tmp_path: Path) -> None:
    config = tmp_path / "assumptions.toml"
    config.write_text(loaded.read_text() + "[what_if]\nhousehold_follow_share = 1.0\n"
                      "complaint_witness_loss_share = 0.0\n[health.playbook]\nb2b_exit_notice_months = 6\n")
    col = json_of(run(config, "--json"))["collateral"]
    assert col["households"]["expected_margin_change_90d"] == -40 and "100%" in col["households"]["assumption"]
    assert col["complaint_witnesses"]["expected_margin_change_90d"] == 0
    assert col["b2b_notice"]["delayed_margin_change"] == round(70 * 6 * (365 / 12) / 90, 2)
    assert "6 months" in col["b2b_notice"]["assumption"]
    assert col["margin_change_with_collateral_90d"] == 100 - 40
