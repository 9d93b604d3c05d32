"""The health commands end to end: `customer`, `customers`, `intervene`, `dossier`, `portfolio`, `refresh`,
on a file loaded with `customer-health load`, and the same answers through a running pipeline (Quack)
as from the file once it stopped."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from customer_health.cli import main
from customer_health.config import Settings
from customer_health.db import reader
from customer_health.errors import UserError
from customer_health.health import refresh
from customer_health.health.queries import CUSTOMER_KEYS
from ingest.plugins import PipelineExtensions
from ingest.service import run_pipeline
from tests.conftest import Env, wait_until
from tests.factories import customer, encode, payment, ticket, visit

NOW = datetime.now(UTC).replace(microsecond=0)


def at(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def portfolio_events() -> dict[str, list[dict[str, Any]]]:
    """Five ordinary customers, a terrorist (t1, business), a how-to heavy one (h1) and a churned one
    (g1) whose household member (k1) stays."""
    events: dict[str, list[dict[str, Any]]] = {"customers": [], "tickets": [], "payments": [], "visits": []}
    for i in range(5):
        cid = f"o{i}"
        events["customers"].append(customer(f"p-{cid}", cid, occurred_at=at(300)))
        events["payments"].append(payment(f"pay-{cid}", cid, occurred_at=at(5), amount=10))
        events["visits"].append(visit(f"v-{cid}", cid, occurred_at=at(1)))
    events["customers"] += [
        customer("p-t1", "t1", occurred_at=at(300), kind="b2b", name="Difficult GmbH"),
        customer("p-h1", "h1", occurred_at=at(300)),
        customer("p-g1", "g1", occurred_at=at(300), household_id="H", cancelled_at=at(20)),
        customer("p-k1", "k1", occurred_at=at(300), household_id="H"),
    ]
    events["payments"] += [payment("pay-t1", "t1", occurred_at=at(10), amount=500),
                           payment("pay-h1", "h1", occurred_at=at(10), amount=200)]
    for i in range(4):
        events["tickets"].append(ticket(f"tc{i}", "t1", occurred_at=at(20 - i), ticket_id=f"TC{i}",
                                        category="complaint", escalated=True, handling_minutes=10,
                                        compensation_requested=80))
    events["tickets"] += [ticket("th1", "h1", occurred_at=at(3), ticket_id="TH1", category="how_to",
                                 handling_minutes=90)]
    return events


def write_files(tmp_path: Path, events: dict[str, list[dict[str, Any]]]) -> list[str]:
    paths = []
    for event_type, rows in events.items():
        path = tmp_path / f"{event_type}.jsonl"
        path.write_bytes(b"".join(encode(e) + b"\n" for e in rows))
        paths.append(str(path))
    return paths


class InProcess:
    """`customer-health ... --config FILE` run in this process (the commands under test, without paying a
    Python start per call); returns what a subprocess would."""

    def __init__(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.config, self.capsys = config, capsys

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.capsys.readouterr()
        try:
            code = main([*args, "--config", str(self.config)])
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)


def json_of(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_health_commands_on_a_loaded_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'db_path = "{tmp_path / "h.duckdb"}"\n')
    cli = InProcess(config, capsys)
    assert cli("load", *write_files(tmp_path, portfolio_events())).returncode == 0
    assert json_of(cli("refresh", "--json"))["customers"] == 9

    everyone = json_of(cli("customers", "--json"))
    assert {c["customer_id"] for c in everyone} == {"o0", "o1", "o2", "o3", "o4", "t1", "h1", "g1", "k1"}
    segments = {c["customer_id"]: c["segment"] for c in everyone}
    assert segments["t1"] == "terrorist" and segments["g1"] == "churned" and segments["o0"] == "healthy"
    assert [c["customer_id"] for c in json_of(cli("customers", "--segment", "churned", "--json"))] == ["g1"]

    t1 = json_of(cli("customer", "t1", "--json"))
    assert list(t1) == list(CUSTOMER_KEYS)
    assert t1["complaints_90d"] == 4 and t1["escalations_90d"] == 4 and t1["support_minutes_90d"] == 40
    assert t1["revenue_90d"] == 500 and t1["cost_to_serve_90d"] == 40 and t1["margin_90d"] == 460
    assert set(t1["components"]) == {"engagement", "payment_behaviour", "support_burden", "complaint_behaviour",
                                     "profitability"}
    assert t1["next_step"] == "educate" and "never tried" in t1["next_step_reason"]
    assert json_of(cli("customer", "h1", "--json"))["next_step"] == "educate"
    g1, k1 = (json_of(cli("customer", c, "--json")) for c in ("g1", "k1"))
    assert len(g1["win_back_dates"]) == 2 and k1["household_churned"] == ["g1"]

    # Before the complaints, t1 was no terrorist.
    before = json_of(cli("customer", "t1", "--as-of", at(25), "--json"))
    assert before["evaluated"] == "computed" and before["complaints_90d"] == 0 and before["segment"] != "terrorist"

    for step in ("educate", "migrate", "renegotiate"):
        done = json_of(cli("intervene", "t1", step, "--note", f"{step} done", "--by", "alice", "--json"))
        assert done["intervention"]["recorded_by"] == "alice"
    assert done["next_step"] == "exit" and "in person" in done["next_step_reason"]

    out = tmp_path / "evidence"
    files = json_of(cli("dossier", "t1", "--out", str(out), "--json"))
    page = Path(files["html"]).read_text()
    assert "<!doctype html>" in page and "Difficult GmbH" in page and "renegotiate done" in page
    assert page.count("<tr class=\"evidence\">") == 4 + 3   # the complaints and the interventions
    assert "http" not in page                               # self-contained
    assert "| Complaints | 4 |" in Path(files["markdown"]).read_text()

    portfolio = json_of(cli("portfolio", "--json"))
    assert portfolio["summary"]["customers"] == 8 and portfolio["whale_curve"][-1]["cumulative_profit_share"] == 1

    for args, message in ((("customer", "nobody"), "no customer 'nobody'"),
                          (("customer", "t1", "--as-of", "yesterday"), "--as-of 'yesterday'"),
                          (("intervene", "nobody", "educate", "--note", "x"), "no customer 'nobody'")):
        result = cli(*args)
        assert result.returncode == 1 and message in result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def health_only(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    return refresh.PLUGIN.install(con, settings)


def test_same_answers_through_a_running_pipeline_and_from_the_file(
    env: Env, capsys: pytest.CaptureFixture[str],
) -> None:
    cli = InProcess(env.config_path, capsys)
    env.create_topics()
    producer = env.producer()
    events = portfolio_events()
    for event_type in ("customers", "tickets", "payments", "visits"):
        for e in events[event_type]:
            producer.send(env.topics[event_type], key=e["customer_id"].encode(), value=encode(e))
    producer.flush(30)
    producer.close()
    total = sum(len(v) for v in events.values())
    # The real pipeline, in a thread, with the health model as its only plug-in (what is under test).
    stop = threading.Event()
    pipeline = threading.Thread(target=run_pipeline, args=(env.settings(), stop),
                                kwargs={"extensions": health_only, "install_signal_handlers": False})
    pipeline.start()
    try:
        def landed() -> bool:
            try:
                with reader(env.settings()) as db:
                    return db.mode == "quack" and sum(db.one("status/landed_counts")) >= total
            except (UserError, duckdb.Error):  # not served yet (this process owns the file)
                return False

        wait_until(landed, interval=0.5, message="all events landed and served over Quack")
        recorded = json_of(cli("intervene", "t1", "educate", "--note", "taught via quack", "--by", "bob", "--json"))
        assert recorded["next_step"] == "migrate"
        live = {c: json_of(cli("customer", c, "--json")) for c in ("t1", "h1", "g1")}
        live_at = json_of(cli("customer", "t1", "--as-of", at(2), "--json"))
        live_all = json_of(cli("customers", "--json"))
    finally:
        stop.set()
        pipeline.join(60)
    assert not pipeline.is_alive()
    assert live["t1"]["evaluated"] == "maintained" and live["t1"]["interventions_tried"][0]["step"] == "educate"
    assert live["t1"]["segment"] == "terrorist" and live["g1"]["segment"] == "churned"
    for c, doc in live.items():
        assert json_of(cli("customer", c, "--json")) == doc
    assert json_of(cli("customer", "t1", "--as-of", at(2), "--json")) == live_at
    assert json_of(cli("customers", "--json")) == live_all
