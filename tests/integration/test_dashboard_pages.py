"""Every page under Streamlit's AppTest, on databases built through the product's own paths
(tests/integration/test_dashboard_seed.py): no exception, the key elements, filters that filter, CSV
exports, drill-down, clear empty and error states, sign-in, and no Quack token anywhere on a page."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from customer_health.alerts.engine import AlertCandidate, AlertEngine
from customer_health.alerts.webhook import WebhookSink
from customer_health.config import AlertSettings, load_settings
from customer_health.db import open_owner, reader, serve
from dashboard import actions, queries
from dashboard.app import PAGES
from dashboard.source import DataSource
from ingest.broker import free_port
from tests.factories import BAD_MESSAGES
from tests.integration.test_dashboard_seed import SeededDb, build_seeded_db, seed_events, write_config

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TIMEOUT = 60


def page_test(config: Path, page: str | None = None, query: dict[str, str] | None = None,
              user: dict | None = None) -> AppTest:
    """AppTest of the app with ``--config config`` (as `customer-health dashboard` passes it), on ``page``."""
    sys.argv = ["app.py", "--config", str(config)]
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if user is not None:
        at.user = user
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}")
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
    return at


def texts(at: AppTest) -> str:
    """Every text the page shows (messages, markdown, metrics, table cells), for assertions."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.sidebar.caption]
    parts += [f"{m.label}: {m.value}" for m in at.metric]
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(parts)


def no_failures(at: AppTest) -> None:
    """No exception, and none of the dashboard's own failure messages (a failing expectation is data)."""
    assert not at.exception, [e.value for e in at.exception]
    failures = [e.value for e in at.error if str(e.value).startswith(("This part of the page failed", "Reading "))]
    assert not failures, failures


def labels(at: AppTest, *columns: str) -> dict[str, str]:
    """The labels the first table with all these columns shows for its columns (its column config)."""
    for frame in at.dataframe:
        if set(columns) <= set(frame.value.columns):
            config = json.loads(frame.proto.columns or "{}")
            return {name: (c.get("label") if isinstance(c, dict) else c) for name, c in config.items()}
    raise AssertionError(f"no table with columns {columns}")


def table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page with all these columns (only selectable tables carry their key)."""
    for frame in at.dataframe:
        if set(columns) <= set(frame.value.columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}: {[list(d.value.columns) for d in at.dataframe]}")


def watchlist(at: AppTest) -> pd.DataFrame:
    return table(at, "customer_id", "score_trend", "segment_since")


def scatter(at: AppTest) -> pd.DataFrame:
    return table(at, "customer_id", "revenue_90d", "cost_to_serve_90d")


def chart(at: AppTest, y_title: str) -> dict:
    """The plotly figure (as JSON) whose y axis has this title."""
    for element in at.get("plotly_chart"):
        figure = json.loads(element.proto.spec)
        title = figure.get("layout", {}).get("yaxis", {}).get("title", {})
        if (title.get("text") if isinstance(title, dict) else title) == y_title:
            return figure
    raise AssertionError(f"no chart with the y axis {y_title!r}")


def csv_buttons(at: AppTest) -> set[str]:
    return {b.key for b in at.get("download_button") if b.key and b.key.endswith("_csv")}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDb]:
    argv = sys.argv
    yield build_seeded_db(tmp_path_factory.mktemp("dash-pages"))
    sys.argv = argv


# --- the seed and the app -------------------------------------------------------------------------------


def test_seed_lands_every_event_and_dead_letters_bad_messages(seeded: SeededDb) -> None:
    con = duckdb.connect(str(seeded.settings.db_path), read_only=True)
    try:
        landed = sum(con.execute(f"select count(*) from {t}").fetchone()[0]
                     for t in ("tickets", "payments", "visits", "customer_events"))
        (dead,) = con.execute("select count(*) from dead_letter").fetchone()
        (lag_rows,) = con.execute("select count(*) from consumer_lag").fetchone()
    finally:
        con.close()
    accepted_bad = len(BAD_MESSAGES) - seeded.dead_letters  # the contract's verdicts are its own tests'
    assert landed == len(seed_events(seeded.as_of)) + accepted_bad
    assert dead == seeded.dead_letters > 0
    assert lag_rows == 8  # 4 topics x (partition 0: events, partition 1: bad messages)


def test_navigation_has_one_page_per_file() -> None:
    pages_dir = APP.parent / "pages"
    assert sorted(file for file, _, _ in PAGES) == sorted(p.name for p in pages_dir.glob("*.py"))


# --- Live health -----------------------------------------------------------------------------------------


def test_live_page_shows_tiles_drift_support_changes_and_customers(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path)  # the default page
    no_failures(at)
    assert at.title[0].value == "Live health"
    labels = {m.label for m in at.metric}
    assert {"Active customers", "Average health", "Drifting", "Segment changes, 24 h", "Terrorists",
            "Unprofitable segment", "Margin below 0"} <= labels
    subheaders = [s.value for s in at.subheader]
    assert subheaders == ["Drifting toward unprofitable or terrorist", "Support minutes per customer",
                          "Newly changed segments", "Customers, lowest health first"]
    customers = watchlist(at)
    assert set(customers["customer_id"]) == {"c-champ", "c-drain", "c-angry", "c-fading", "c-gone"}
    assert list(customers["health_score"]) == sorted(customers["health_score"])
    assert "score_trend" in customers.columns
    support = table(at, "support_minutes_90d", "times_median")
    assert support.iloc[0]["customer_id"] == "c-drain"  # 25 tickets of 45 minutes
    assert "live_watchlist_csv" in csv_buttons(at) and "live_support_csv" in csv_buttons(at)
    assert len(at.get("plotly_chart")) >= 1
    assert "No pipeline is running" in texts(at)


def test_live_filters_narrow_every_table(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path)
    at.segmented_control(key="live_kind").set_value("b2b").run()
    no_failures(at)
    assert set(watchlist(at)["kind"]) == {"b2b"}
    at.segmented_control(key="live_kind").set_value("All").run()
    at.selectbox(key="live_plan").set_value("basic").run()
    assert set(watchlist(at)["customer_id"]) == {"c-drain"}
    at.selectbox(key="live_plan").set_value("All plans").run()
    assert watchlist(at).set_index("customer_id").loc["c-gone", "segment"] == "churned"  # cancelled
    at.selectbox(key="live_segment").set_value("churned").run()
    assert set(watchlist(at)["customer_id"]) == {"c-gone"}


def test_live_segment_filter_applies_to_every_panel(seeded: SeededDb) -> None:
    """Segment = terrorist (c-angry): the tiles, the drifting table, the support minutes and the segment changes
    are the segment's, as the customer table is, and the page says it is filtered."""
    at = page_test(seeded.config_path)
    at.selectbox(key="live_segment").set_value("terrorist").run()
    no_failures(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Active customers"] == "1" and metrics["Terrorists"] == "1"
    assert "Champions" not in metrics and "Unprofitable segment" not in metrics  # only the chosen segment's tile
    with reader(seeded.settings) as db:
        angry = queries.customer(db, "c-angry").iloc[0]
        changes = db.con.execute("select count(*) from segment_changes where changed_at >= ? - interval 24 hour "
                                 "and 'terrorist' in (to_segment, from_segment)", [seeded.as_of]).fetchone()[0]
    assert metrics["Margin, 90 d (terrorist)"] == f"{angry['margin_90d']:,.0f}"
    assert metrics["Segment changes, 24 h"] == f"{changes:,}"
    assert "Segment filter: every figure, table and chart below is for the **terrorist** segment only" in texts(at)
    assert set(table(at, "support_minutes_90d", "times_median")["customer_id"]) == {"c-angry"}
    assert changes == 0 and "No segment changed in the last 24 hours." in texts(at)  # c-fading, c-gone did
    assert set(watchlist(at)["customer_id"]) == {"c-angry"}
    at.selectbox(key="live_segment").set_value("at_risk").run()  # c-fading entered it in the last 24 hours
    no_failures(at)
    moved = table(at, "changed_at", "from_segment", "to_segment")
    assert set(moved["customer_id"]) == {"c-fading"} and set(moved["to_segment"]) == {"at_risk"}
    assert {m.label: m.value for m in at.metric}["Segment changes, 24 h"] == "1"
    assert "No customer is drifting toward unprofitable or terrorist status." in texts(at)
    assert "No support time recorded in the last 90 days." in texts(at)  # c-fading never called


def test_live_and_portfolio_money_tiles_mean_the_same_customers(seeded: SeededDb) -> None:
    """Same label, same population: the active (not churned) customers on both pages; the unprofitable segment and
    every customer with a margin below 0 are told apart."""
    live = {m.label: m.value for m in page_test(seeded.config_path).metric}
    portfolio = {m.label: m.value for m in page_test(seeded.config_path, "portfolio.py").metric}
    for label in ("Margin, 90 d", "Cost to serve, 90 d"):
        assert live[label] == portfolio[label], label
    with reader(seeded.settings) as db:
        summary = queries.portfolio_summary(db).iloc[0]
        gone = queries.customer(db, "c-gone").iloc[0]
    assert gone["segment"] == "churned" and gone["margin_90d"] != 0  # the churned customer would change the sum
    assert live["Margin below 0"] == f"{int(summary['unprofitable_customers']):,}"
    assert "Unprofitable segment" in live and "Unprofitable" not in live


def test_tables_label_their_columns_with_units_and_show_a_dash_for_missing(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path)
    no_failures(at)
    shown = labels(at, "customer_id", "score_trend", "segment_since")
    assert shown["customer_id"] == "Customer" and shown["segment_since"] == "In segment since (UTC)"
    assert shown["drifting_toward"] == "Drifting toward" and shown["support_minutes_30d"] == "Support minutes, 30 d"
    assert shown["margin_90d"] == "Margin, 90 d" and shown["score_trend"] == "Score, 30 days"
    assert labels(at, "support_minutes_90d", "times_median")["support_minutes_90d"] == "Support minutes, 90 d"
    changes = labels(at, "changed_at", "from_segment", "to_segment")
    assert changes["from_segment"] == "From segment" and changes["changed_at"] == "Changed at (UTC)"
    drifting = watchlist(at)["drifting_toward"]
    assert set(drifting) == {"—"}  # nobody drifts in the seed: a dash, not None
    assert not any(label == name for name, label in shown.items()), shown  # no raw column name left


def test_every_time_on_the_live_page_names_its_clock(seeded: SeededDb) -> None:
    """The banner's last batch is wall-clock time, the figures' as-of and the cards' refresh the model's."""
    at = page_test(seeded.config_path)
    at.text_input(key="live_search").input("c-angry").run()
    no_failures(at)
    shown = texts(at)
    assert "UTC, wall clock)" in shown.split("last batch landed", 1)[1].split("\n", 1)[0]
    assert any("figures as of" in c.value and "UTC, model clock" in c.value for c in at.caption)
    assert any("refreshed" in c.value and "UTC, model clock" in c.value for c in at.caption)


def test_clock_times_show_the_date_when_it_is_not_today() -> None:
    from dashboard.ui import clock_time, utc_now

    now = utc_now()
    assert clock_time(now, "model") == f"{now:%H:%M:%S} UTC, model clock"
    ahead = now + timedelta(days=7)
    assert clock_time(ahead, "model") == f"{ahead:%Y-%m-%d %H:%M:%S} UTC, model clock"


def test_live_search_shows_a_card_for_the_customer(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path)
    at.text_input(key="live_search").input("c-angry").run()
    no_failures(at)
    assert "**Andy Angry** · `c-angry`" in [m.value for m in at.markdown]
    assert set(watchlist(at)["customer_id"]) == {"c-angry"}
    at.text_input(key="live_search").input("nobody-like-this").run()
    assert "No customer matches “nobody-like-this” yet." in texts(at)


def test_live_card_opens_the_customer_page(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path)
    at.text_input(key="live_search").input("c-drain").run()
    at.button(key="open-card-c-drain").click().run()
    no_failures(at)
    assert at.query_params.get("customer") == "c-drain"
    assert at.subheader[0].value == "Dana Drain · c-drain"


# --- Portfolio -------------------------------------------------------------------------------------------


def test_portfolio_shows_mix_whale_curve_and_quadrants(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "portfolio.py")
    no_failures(at)
    assert at.title[0].value == "Portfolio"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == "4"  # c-gone cancelled: churned customers are left out of the money views
    assert "Top 30% margin share" in metrics and "Lost to margin below 0" in metrics
    assert [s.value for s in at.subheader][:4] == ["Segment mix now", "Segment mix over time", "Whale curve",
                                                   "Revenue against cost to serve"]
    mix = table(at, "segment", "customers", "average_health")
    assert mix["customers"].sum() == 5
    curve = table(at, "rank", "cumulative_margin_share")
    assert curve["rank"].tolist() == [1, 2, 3, 4]
    assert curve["cumulative_margin_share"].iloc[-1] == pytest.approx(1.0)
    assert len(at.get("plotly_chart")) >= 3
    assert {"pf_mix_csv", "pf_whale_csv", "pf_scatter_csv"} <= csv_buttons(at)


def test_portfolio_scatter_axes_end_near_the_points_and_no_empty_evidence_download(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "portfolio.py")
    no_failures(at)
    points = scatter(at)
    figure = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "break-even" in c.proto.spec)
    x_high, y_high = figure["layout"]["xaxis"]["range"][1], figure["layout"]["yaxis"]["range"][1]
    assert points["cost_to_serve_90d"].max() <= x_high <= 1.1 * points["cost_to_serve_90d"].max()
    assert points["revenue_90d"].max() <= y_high <= 1.1 * points["revenue_90d"].max()
    # nobody had the playbook tried: no ready customer, so no button for an empty archive, and the reason
    assert "wi_archive" not in {b.key for b in at.get("download_button")}
    assert "No matched customer is ready to exit, so there are no evidence files to download" in texts(at)


def test_portfolio_filters(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "portfolio.py")
    at.segmented_control(key="pf_kind").set_value("Business (b2b)").run()
    no_failures(at)
    assert {m.label: m.value for m in at.metric}["Customers"] == "1"
    assert set(scatter(at)["customer_id"]) == {"c-champ"}
    at.segmented_control(key="pf_kind").set_value("All").run()
    at.selectbox(key="pf_plan").set_value("standard").run()
    assert set(scatter(at)["customer_id"]) == {"c-angry", "c-fading"}
    at.selectbox(key="pf_period").set_value("Last 30 days").run()
    no_failures(at)


# --- Customer --------------------------------------------------------------------------------------------


def test_customer_page_without_a_customer_offers_search(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "customer.py")
    no_failures(at)
    assert "Search for a customer" in texts(at)
    at.text_input(key="cust_search").input("fading").run()
    at.selectbox(key="cust_pick").select_index(0).run()
    no_failures(at)
    assert at.query_params.get("customer") == "c-fading"
    assert at.subheader[0].value == "Fay Fading · c-fading"


def test_customer_page_shows_everything_about_one_customer(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "customer.py", {"customer": "c-angry"})
    no_failures(at)
    assert at.subheader[0].value == "Andy Angry · c-angry"
    assert [t.label for t in at.tabs] == ["Timeline", "Health", "Margin", "Household & win-back", "Interventions"]
    assert {"Health", "Margin, 90 d", "Revenue, 90 d", "Cost to serve, 90 d"} <= {m.label for m in at.metric}
    assert "Next step" in texts(at)
    # the confirmed segment history in event time (history points, then the current change)
    assert "Segment history" in texts(at)
    history = table(at, "changed_at", "from_segment", "to_segment")
    assert len(history) >= 1 and history["from_segment"].iloc[-1] == "—"   # newest first: the first segment last
    timeline = table(at, "occurred_at", "event", "reference")
    assert set(timeline["event"]) == {"ticket", "payment", "visit", "profile"}
    assert (timeline["event"] == "ticket").sum() == 8
    assert {"cust_dossier_html", "cust_dossier_md"} <= {b.key for b in at.get("download_button")}
    assert "cust_timeline_csv" in csv_buttons(at)
    assert len(at.get("plotly_chart")) >= 3  # timeline, components, margin waterfall


def test_the_margin_tab_gives_every_figure_its_unit(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "customer.py", {"customer": "c-drain"})
    no_failures(at)
    drivers = table(at, "measure", "value", "unit").set_index(["measure", "period"])
    assert drivers.loc[("support time", "90 d"), "unit"] == "minutes"
    assert drivers.loc[("support time", "90 d"), "value"] == pytest.approx(25 * 45.0)
    assert drivers.loc[("tickets", "90 d"), "unit"] == "tickets"
    assert drivers.loc[("margin", "90 d"), "unit"] == drivers.loc[("revenue", "90 d"), "unit"] == "EUR"


def test_customer_household_lists_its_members(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "customer.py", {"customer": "c-fading"})
    no_failures(at)
    assert set(table(at, "customer_id", "household_churn_flag")["customer_id"]) == {"c-fading", "c-gone"}
    assert "Household `h-1`" in texts(at)


def test_a_cancelled_customer_shows_its_win_back_dates_with_their_offsets(seeded: SeededDb) -> None:
    """c-gone cancelled 10 days before the seed's now: contacts due 30 and 180 days after (health.win_back_days),
    both still to come."""
    with reader(seeded.settings) as db:
        row = queries.customer(db, "c-gone").iloc[0]
    cancelled = pd.Timestamp(row["cancelled_at"])
    at = page_test(seeded.config_path, "customer.py", {"customer": "c-gone"})
    no_failures(at)
    shown = [m.value for m in at.markdown if "win-back:" in m.value]
    assert shown == [f"{n}-day win-back: **{cancelled + timedelta(days=n):%Y-%m-%d}** :blue-badge[upcoming]"
                     for n in (30, 180)]


def test_win_back_contacts_mark_past_and_upcoming_dates() -> None:
    from datetime import datetime

    from dashboard.ui import win_back_contacts

    cancelled = datetime(2026, 1, 1, 12)
    dates = [cancelled + timedelta(days=30), cancelled + timedelta(days=180)]
    shown = win_back_contacts(dates, (30, 180), cancelled, datetime(2026, 3, 1))
    assert shown["status"].tolist() == ["past", "upcoming"]
    assert shown["days_after_cancelling"].tolist() == [30, 180]
    # the configuration changed since the model computed the dates: the offsets are counted from cancelled_at
    assert win_back_contacts(dates, (14,), cancelled, datetime(2026, 3, 1))["contact"].tolist() == [
        "30-day win-back", "180-day win-back"]
    assert win_back_contacts(None, (30, 180), None, datetime(2026, 3, 1)).empty


def test_unknown_customer_is_a_message_not_an_error(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "customer.py", {"customer": "c-nobody"})
    no_failures(at)
    assert "No customer `c-nobody` in this database" in texts(at)


# --- Data quality & pipeline -----------------------------------------------------------------------------


def test_data_quality_page_shows_freshness_lag_batches_expectations_dead_letters_alerts(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "data_quality.py")
    no_failures(at)
    assert at.title[0].value == "Data quality & pipeline"
    assert [s.value for s in at.subheader] == [
        "Freshness per topic", "Consumer lag per partition", "Ingest", "Expectations", "Alerts", "Dead-letter queue",
        "Model quality"]
    fresh = table(at, "event_type", "seconds_since_landed")
    assert set(fresh["event_type"]) == {"tickets", "payments", "visits", "customers"}
    assert set(table(at, "partition", "lag", "observed_at")["lag"]) == {3}
    latest = table(at, "suite", "expectation", "success")
    assert not latest.empty and list(latest["success"]) == sorted(latest["success"])  # failing first
    dead = table(at, "dead_letter_id", "raw_preview")
    assert len(dead) == seeded.dead_letters
    assert {"dq_freshness_csv", "dq_lag_csv", "dq_dead_letters_csv", "dq_quality_latest_csv"} <= csv_buttons(at)


def test_model_quality_shows_the_backtest_roc_and_the_churn_models_check(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "data_quality.py")
    at.number_input(key="dq_mq_horizon").set_value(31).run()  # the seed holds 60 days of events
    no_failures(at)
    assert "Model quality" in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    with reader(seeded.settings) as db:
        doc = queries.model_quality(db, seeded.settings.health, 31).iloc[0]
    expected_auc = doc["churn"]["churn_auc"]
    assert metrics["Churn AUC"] == ("–" if expected_auc is None else f"{expected_auc:.2f}")
    assert "at_risk precision / recall" in metrics and "unprofitable precision / recall" in metrics
    charts = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("true positive rate" in spec for spec in charts)
    assert any("repeat transactions before" in spec for spec in charts)
    assert any("Churn ROC:" in c.value for c in at.caption)
    # the seed's history before T is too short for visit baselines: the page says what that means
    churn = doc["churn"]
    assert churn["with_baseline"] < churn["customers"] / 2
    assert any("had a usual visit rate at that time" in w.value for w in at.warning)


def test_data_quality_page_shows_the_segment_flap_rate(seeded: SeededDb) -> None:
    """Confirmed changes (a from_segment) of the last 30 days per known customer, counted here by hand."""
    with reader(seeded.settings) as db:
        changes = db.con.execute("select customer_id, from_segment, changed_at from segment_changes").fetchall()
        customers = db.con.execute("select count(*) from customers").fetchone()[0]
    at = page_test(seeded.config_path, "data_quality.py")
    no_failures(at)
    now = seeded.as_of + timedelta(seconds=1)
    confirmed = [c for c in changes if c[1] is not None and now - timedelta(days=30) < c[2] <= now]
    assert confirmed and customers == 5   # the seed's simulated days confirm changes (c-gone cancelled)
    (metric,) = [m for m in at.metric if m.label == "Segment flap rate, 30 d"]
    assert metric.value == f"{len(confirmed) / customers:.2f} per customer"


def test_failed_expectations_are_drawn_in_warning_colours(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "data_quality.py")
    no_failures(at)
    figure = chart(at, "failed expectations")  # the seed's topics suite fails (stale topics)
    colours = {trace["marker"]["color"] for trace in figure["data"]}
    assert colours and colours <= {"#c62828", "#ef6c00", "#f9a825", "#ad1457", "#d84315", "#ff8f00", "#b71c1c",
                                   "#e65100", "#f57f17", "#880e4f"}, colours


def test_the_ingest_chart_keeps_small_batches_visible_next_to_a_backfill(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "data_quality.py")
    no_failures(at)
    figure = chart(at, "messages (log scale)")
    assert figure["layout"]["yaxis"]["type"] == "log"
    heights = [np.frombuffer(base64.b64decode(t["y"]["bdata"]), dtype=t["y"]["dtype"]) if isinstance(t["y"], dict)
               else np.asarray(t["y"], dtype=float) for t in figure["data"]]
    assert heights and all(h.min() > 0 for h in heights)  # nothing a log axis cannot draw
    low, high = figure["layout"]["yaxis"]["range"]  # in log10 units: from under 1 message to above the tallest
    assert low < 0 and 10 ** high > max(h.max() for h in heights)


def test_dead_letter_browser_filters_by_reason(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "data_quality.py")
    at.selectbox(key="dq_dl_reason").set_value("invalid_json").run()
    no_failures(at)
    dead = table(at, "dead_letter_id", "raw_preview")
    assert set(dead["reason_code"]) == {"invalid_json"}
    assert dead["raw_preview"].iloc[0] == "{not json"


# --- empty and error states ------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [file for file, _, _ in PAGES])
def test_no_database_is_a_message_on_every_page(tmp_path: Path, page: str) -> None:
    at = page_test(write_config(tmp_path), page, {"customer": "c1"})
    assert not at.exception
    shown = texts(at)
    assert "no database at" in shown and "customer-health ingest" in shown


@pytest.mark.parametrize("page", ["live_health.py", "data_quality.py", "portfolio.py"])
def test_an_empty_database_says_so(tmp_path: Path, page: str) -> None:
    config = write_config(tmp_path)
    open_owner(load_settings(config, env={})).close()
    at = page_test(config, page)
    no_failures(at)
    shown = texts(at)
    assert "The database is empty" in shown or "No customer" in shown


def test_live_pipeline_with_broker_down_warns_and_never_shows_the_token(seeded: SeededDb, tmp_path: Path) -> None:
    token = "quack-token-that-must-stay-secret-42"
    config = write_config(tmp_path, db_path=seeded.settings.db_path, quack_port=free_port(), token=token)
    settings = load_settings(config, env={})
    owner = open_owner(settings)
    server = serve(owner, settings)
    try:
        pages = [page_test(config, page, {"customer": "c-angry"})
                 for page in (None, "portfolio.py", "customer.py", "data_quality.py")]
    finally:
        server.stop()
        owner.close()
    for at in pages:
        assert not at.exception
        assert token not in texts(at)
    for at in (pages[0], pages[1], pages[3]):
        assert "the Kafka broker at 127.0.0.1:1 is unreachable" in texts(at)


# --- sign-in ---------------------------------------------------------------------------------------------


def _auth_config(tmp_path: Path, seeded: SeededDb, anonymous_read: bool) -> Path:
    path = tmp_path / "auth.toml"
    path.write_text(
        f'db_path = "{seeded.settings.db_path}"\n[kafka]\nbootstrap_servers = "127.0.0.1:1"\n'
        f"[dashboard]\nauth = true\nauth_anonymous_read = {'true' if anonymous_read else 'false'}\n",
        encoding="utf-8",
    )
    return path


def test_sign_in_required_hides_the_data(seeded: SeededDb, tmp_path: Path) -> None:
    at = page_test(_auth_config(tmp_path, seeded, anonymous_read=False), user={"is_logged_in": False})
    assert not at.exception
    assert "Sign in to see customer data" in texts(at)
    assert not at.dataframe and not at.metric


def test_recording_needs_a_signed_in_user_and_shows_whose_name_it_stores(seeded: SeededDb, tmp_path: Path) -> None:
    config = _auth_config(tmp_path, seeded, anonymous_read=True)
    anonymous = page_test(config, "customer.py", {"customer": "c-angry"}, user={"is_logged_in": False})
    assert not anonymous.exception
    assert "Sign in to record an intervention" in texts(anonymous)
    assert not anonymous.get("form")
    signed_in = page_test(config, "customer.py", {"customer": "c-angry"},
                          user={"is_logged_in": True, "email": "lead@example.com", "name": "Lee Lead"})
    no_failures(signed_in)
    assert "Recorded as lead@example.com (signed in)" in texts(signed_in)
    home = page_test(config, user={"is_logged_in": True, "email": "lead@example.com"})
    assert "Signed in as lead@example.com" in [c.value for c in home.sidebar.caption]
    assert home.sidebar.button(key="sign_out")


def _recorded(seeded: SeededDb, customer_id: str) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(seeded.settings.db_path), read_only=True)
    try:
        return con.execute("select step, note, recorded_by from interventions where customer_id = ? "
                           "order by intervention_id", [customer_id]).fetchall()
    finally:
        con.close()


def test_a_signed_in_user_records_an_intervention_under_their_identity(seeded: SeededDb, tmp_path: Path) -> None:
    config = _auth_config(tmp_path, seeded, anonymous_read=False)
    at = page_test(config, "customer.py", {"customer": "c-drain"},
                   user={"is_logged_in": True, "email": "lead@example.com", "name": "Lee Lead"})
    at.selectbox(key="cust_step").set_value("educate")
    at.text_area(key="cust_note").input("Walked them through the setup guide")
    at.form_submit_button[0].click().run()
    no_failures(at)
    assert "Recorded “educate” for c-drain by lead@example.com." in texts(at)
    assert _recorded(seeded, "c-drain") == [("educate", "Walked them through the setup guide", "lead@example.com")]
    shown = table(at, "recorded_at", "step", "recorded_by")
    assert shown["recorded_by"].tolist() == ["lead@example.com"]


def test_without_sign_in_the_recorder_names_themselves(seeded: SeededDb) -> None:
    at = page_test(seeded.config_path, "customer.py", {"customer": "c-fading"})
    at.text_area(key="cust_note").input("Called, no answer")
    at.form_submit_button[0].click().run()
    assert "A note and who records it are both needed." in texts(at)
    assert _recorded(seeded, "c-fading") == []
    at.text_area(key="cust_note").input("Called, no answer")
    at.text_input(key="cust_recorded_by").input("Sam Support")
    at.form_submit_button[0].click().run()
    no_failures(at)
    assert [r[2] for r in _recorded(seeded, "c-fading")] == ["Sam Support"]


# --- what the pages compute agrees with the health model -------------------------------------------------


def test_segment_mix_over_time_is_the_health_models_daily_mix(seeded: SeededDb) -> None:
    """Last segment of each customer-day, as health/segment_mix: history from the simulated days."""
    with reader(seeded.settings) as db:
        mine = queries.segment_mix_over_time(db, seeded.as_of.replace(hour=0, minute=0, second=0)
                                             - timedelta(days=365))
        theirs = db.df("health/segment_mix", {"days": 366})
        filtered = queries.segment_mix_over_time(db, seeded.as_of - timedelta(days=365), "b2b")
    assert mine["day"].nunique() > 3  # one batch per 10 simulated days: several days of history
    assert mine.to_dict("records") == theirs.to_dict("records")
    assert filtered.groupby("day")["customers"].sum().max() == 1  # one business customer


def test_the_evidence_file_downloads_as_html_and_markdown(seeded: SeededDb) -> None:
    html, markdown = actions.dossier(DataSource(seeded.settings), "c-angry")
    assert html.lstrip().lower().startswith("<!doctype html") and "Andy Angry" in html
    assert "Andy Angry" in markdown and "c-angry" in markdown
    html, _ = actions.dossier(DataSource(seeded.settings), "c-nobody")
    assert "could not be built" in html


def test_a_process_holding_the_file_without_serving_it_is_a_message(tmp_path: Path) -> None:
    """No pipeline reachable: another process owns the database and does not serve it over Quack."""
    config = write_config(tmp_path)
    settings = load_settings(config, env={})
    open_owner(settings).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(60)", str(settings.db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        at = page_test(config)
    finally:
        holder.kill()
        holder.wait()
    assert not at.exception
    assert "is locked by another process that does not serve it over Quack" in texts(at)


def test_a_note_too_short_to_say_what_was_done_is_refused_by_the_form_and_the_cli(seeded: SeededDb) -> None:
    before = _recorded(seeded, "c-fading")
    at = page_test(seeded.config_path, "customer.py", {"customer": "c-fading"})
    at.selectbox(key="cust_step").set_value("exit")
    at.text_area(key="cust_note").input("   ok   ")
    at.text_input(key="cust_recorded_by").input("Sam Support")
    at.form_submit_button[0].click().run()
    assert "Not recorded: The note must say the reason for the exit, in at least 3 words" in texts(at)
    assert _recorded(seeded, "c-fading") == before
    for note in ("", "   ", "done it"):
        result = subprocess.run(
            [sys.executable, "-m", "customer_health.cli", "intervene", "c-fading", "educate", "--note", note,
             "--by", "sam", "--config", str(seeded.config_path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert "--note: the note must say what was done, in at least 3 words or 10 characters" in result.stderr
    assert _recorded(seeded, "c-fading") == before


def test_data_quality_page_lists_alerts_that_were_never_delivered(tmp_path: Path) -> None:
    seeded = build_seeded_db(tmp_path, with_quality=False)
    con = open_owner(seeded.settings)
    try:
        settings = AlertSettings(webhook_max_attempts=1)
        sink = WebhookSink(con.cursor, settings, f"http://127.0.0.1:{free_port()}/hook")  # nothing listens
        sink.start()
        engine = AlertEngine(settings, sink)
        report = engine.dispatch(con, [AlertCandidate("pipeline", s, "critical", f"Alert {s}") for s in "xy"],
                                 seeded.as_of)
        engine.deliver(report)
        sink.close()
    finally:
        con.close()
    at = page_test(seeded.config_path, "data_quality.py")
    no_failures(at)
    undelivered = table(at, "receivers", "last_error")
    assert sorted(undelivered["alert_id"]) == sorted(a.alert_id for a in report.sent)
    assert set(undelivered["delivery_status"]) == {"failed"}
    assert "customer-health alerts retry" in texts(at)
