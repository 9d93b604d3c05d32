"""Data quality and pipeline (ops): expectation results over time, failing first with sample bad rows;
the dead-letter queue with reasons; consumer lag per partition; freshness per topic; batches; alerts; and
the model's quality: how well the health score and the churn model predicted the last H days (backtest)."""

from __future__ import annotations

import json
import math
from datetime import datetime

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from customer_health.config import Settings
from dashboard import queries, ui

PERIODS = {"Last hour": "1h", "Last 24 hours": "24h", "Last 7 days": "7d", "Last 30 days": "30d"}
# Failures are drawn in reds, oranges and ambers (one per suite), never in a colour that reads as "pass".
FAILURE_COLOURS = ("#c62828", "#ef6c00", "#f9a825", "#ad1457", "#d84315", "#ff8f00", "#b71c1c", "#e65100",
                   "#f57f17", "#880e4f")


def render() -> None:
    st.title("Data quality & pipeline")
    settings = ui.settings()
    with st.container(horizontal=True):
        period_label = st.selectbox("Period", list(PERIODS), index=1, key="dq_period", width=200)
        severity = st.selectbox("Alert severity", ["All", "critical", "warning"], key="dq_severity", width=200)
    live(PERIODS[period_label], None if severity == "All" else severity, settings.dashboard.refresh_seconds)
    dead_letter_browser()
    model_quality()


def live(period: str, severity: str | None, refresh_seconds: float) -> None:
    @st.fragment(run_every=refresh_seconds)
    def refreshing() -> None:
        settings = ui.settings()
        now = ui.utc_now()
        overview = ui.overview()
        ui.status_banner(overview)
        if overview is None:
            return
        pipeline_tiles(overview)
        segment_stability(now)
        freshness_and_lag(now, settings)
        batches(now, period)
        quality(now, period)
        alert_list(severity)

    refreshing()


@ui.guarded
def pipeline_tiles(overview: pd.DataFrame) -> None:
    row = overview.iloc[0]
    cols = st.columns(5)
    cols[0].metric("Batches landed", f"{int(row['batches']):,}")
    cols[1].metric("Messages, last hour", f"{int(row['messages_last_hour']):,}")
    latency = row["max_latency_ms_last_hour"]
    cols[2].metric("Worst latency, last hour", "–" if pd.isna(latency) else f"{latency / 1000:,.1f} s")
    cols[3].metric("Dead letters", f"{int(row['dead_lettered']):,}")
    cols[4].metric("Quarantined", f"{int(row['quarantined']):,}")


@ui.guarded
def segment_stability(now: datetime) -> None:
    flaps = ui.read("flap_rate", now, what="segment changes")
    if flaps is None:
        return
    row = flaps.iloc[0]
    rate = row["flap_rate_30d"]
    st.metric("Segment flap rate, 30 d", "–" if pd.isna(rate) else f"{rate:.2f} per customer",
              help=f"Confirmed segment changes in the last 30 days ({int(row['changes_30d']):,}, first segments "
                   f"not counted) per known customer ({int(row['customers']):,}). The segment rules' "
                   "hysteresis keeps this low: a figure wavering around a threshold changes nothing.")


@ui.guarded
def freshness_and_lag(now: datetime, settings: Settings) -> None:
    left, right = st.columns(2)
    with left:
        st.subheader("Freshness per topic")
        fresh = ui.read("freshness", now, ui.model_now(), settings.kafka.topics.by_type(), what="freshness")
        if ui.shown(fresh, "Nothing has landed yet."):
            ui.table(
                fresh, key="dq_freshness", file_name="freshness",
                column_config={
                    "seconds_since_landed": st.column_config.NumberColumn(
                        "Since last landed (s, wall clock)", format="%d"),
                    "newest_event_age_seconds": st.column_config.NumberColumn(
                        "Newest event age (s, model clock)", format="%d"),
                    "events": st.column_config.NumberColumn("Events", format="localized"),
                },
            )
        offsets = ui.read("topic_offsets", settings.kafka.group_id, what="consumer offsets")
        if offsets is not None and not offsets.empty:
            st.caption("Landed offsets per topic (this consumer group)")
            ui.table(offsets, key="dq_offsets", file_name="topic_offsets")
    with right:
        st.subheader("Consumer lag per partition")
        lag = ui.read("consumer_lag", what="consumer lag")
        if ui.shown(lag, "No lag recorded yet: the pipeline records it while consuming from Kafka."):
            total = int(lag["lag"].sum())
            st.metric("Messages behind, all partitions", f"{total:,}")
            if total > 0:
                lag = lag.assign(partition_name=lag["topic"] + "[" + lag["partition"].astype(str) + "]")
                fig = px.bar(lag, x="partition_name", y="lag", color="topic",
                             labels={"partition_name": "partition", "lag": "messages behind"})
                fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False)
                st.plotly_chart(fig, key="dq_lag_chart")
                lag = lag.drop(columns=["partition_name"])
            else:
                st.success("Every partition is caught up.", icon=":material/check_circle:")
            st.caption(f"Observed at {lag['observed_at'].max():%Y-%m-%d %H:%M:%S} UTC (wall clock). "
                       "End offsets on the embedded broker are approximate.")
            ui.table(lag, key="dq_lag", file_name="consumer_lag")


@ui.guarded
def batches(now: datetime, period: str) -> None:
    st.subheader("Ingest")
    throughput = ui.read("ingest_throughput", queries.since(now, period), what="ingest throughput")
    if throughput is not None and not throughput.empty:
        long = throughput.melt(id_vars="minute", value_vars=["landed", "dead_lettered"],
                               var_name="outcome", value_name="count")
        long = long[long["count"] > 0]  # a log axis cannot show 0
        fig = px.bar(long, x="minute", y="count", color="outcome", barmode="group",
                     labels={"count": "messages (log scale)", "minute": ""},
                     color_discrete_map={"landed": "#2e7d32", "dead_lettered": "#c62828"})
        # log scale: a backfill of many thousand messages would otherwise flatten every live batch to nothing
        # (the range from just under 1 message, else plotly's autorange cuts the smaller bars off at the bottom)
        top = math.log10(max(float(long["count"].max()), 1.0)) if not long.empty else 1.0
        fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                          yaxis={"type": "log", "range": [-0.1, top + 0.2]})
        st.plotly_chart(fig, key="dq_throughput_chart")
    recent = ui.read("ingest_batches", 200, what="ingest batches")
    if ui.shown(recent, "No batch has landed yet."):
        with st.expander(f"Latest {len(recent)} batches", expanded=False):
            ui.table(recent, key="dq_batches", file_name="ingest_batches")


@ui.guarded
def quality(now: datetime, period: str) -> None:
    st.subheader("Expectations")
    latest = ui.read("quality_latest", what="data-quality results")
    if latest is None:
        return
    over_time = ui.read("quality_over_time", queries.since(now, period), what="data-quality history")
    if over_time is not None and not over_time.empty:
        if int(over_time["failed"].sum()) == 0:
            st.success(f"No expectation failed in this period ({int(over_time['runs'].sum()):,} suite runs).",
                       icon=":material/verified:")
        else:
            fig = px.bar(over_time[over_time["failed"] > 0], x="hour", y="failed", color="suite", pattern_shape="scope",
                         color_discrete_sequence=FAILURE_COLOURS,
                         labels={"failed": "failed expectations", "hour": ""})
            fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10})
            st.plotly_chart(fig, key="dq_quality_chart")
    if ui.shown(latest, "No table suite has run yet."):
        failing = latest[~latest["success"]]
        if failing.empty:
            st.success(f"All {len(latest)} expectations of the latest table runs pass.")
        else:
            st.error(f"{len(failing)} of {len(latest)} expectations fail in the latest table runs.")
        ui.table(
            latest.drop(columns=["failing_sample"]), key="dq_quality_latest", file_name="quality_latest",
            column_config={"success": st.column_config.CheckboxColumn("passes"),
                           "critical": st.column_config.CheckboxColumn("critical")},
        )
        for i, row in enumerate(failing.itertuples(index=False)):
            sample = sample_rows(row.failing_sample)
            with st.expander(f"Sample bad rows: {row.suite} · {row.expectation}", expanded=i == 0):
                if row.error:
                    st.warning(row.error)
                if sample.empty:
                    st.caption("No sample rows stored for this expectation.")
                else:
                    ui.table(sample, key=f"dq_sample_{i}", file_name=f"failing_{row.suite}_{i}")
    failures = ui.read("quality_batch_failures", queries.since(now, period), 200, what="batch expectation failures")
    if failures is not None and not failures.empty:
        st.caption("Expectations that failed on landed batches")
        ui.table(failures.drop(columns=["failing_sample"]), key="dq_batch_failures", file_name="batch_failures")
    held = ui.read("quarantine_summary", 100, what="quarantined messages")
    if held is not None and not held.empty:
        st.caption("Quarantined messages (valid, but failed a critical expectation)")
        ui.table(held, key="dq_quarantine", file_name="quarantine")


def sample_rows(failing_sample: str | None) -> pd.DataFrame:
    """The stored sample of failing rows (JSON: a list of objects, or an object) as a table."""
    if not failing_sample:
        return pd.DataFrame()
    try:
        value = json.loads(failing_sample)
    except ValueError:
        return pd.DataFrame({"sample": [failing_sample]})
    if isinstance(value, dict):
        value = value.get("rows", [value])
    if not isinstance(value, list):
        value = [value]
    return pd.DataFrame([v if isinstance(v, dict) else {"value": v} for v in value])


@ui.guarded
def alert_list(severity: str | None) -> None:
    st.subheader("Alerts")
    found = ui.read("alerts", severity, 200, what="alerts")
    if ui.shown(found, "No alerts."):
        ui.table(found, key="dq_alerts", file_name="alerts")
        undelivered = ui.read("undelivered_alerts", 200, what="undelivered alerts")
        if undelivered is not None and not undelivered.empty:
            st.markdown(f"**{len(undelivered):,} alert(s) never reached every webhook receiver** (failed, still "
                        "pending, or held by the circuit breaker); send them again with "
                        "`customer-health alerts retry [--id ALERT_ID ...]`.")
            ui.table(undelivered, key="dq_undelivered_alerts", file_name="undelivered_alerts")


@ui.guarded
def dead_letter_browser() -> None:
    """Outside the refreshing fragment: browsing (filters, row reading) is not interrupted by refreshes."""
    st.subheader("Dead-letter queue")
    reasons = ui.read("dead_letter_reasons", what="dead letters")
    if not ui.shown(reasons, "No dead letters: every message so far passed the contract."):
        return
    fig = px.bar(reasons, x="dead_letters", y="reason_code", color="event_type", orientation="h",
                 labels={"dead_letters": "dead letters", "reason_code": ""})
    fig.update_layout(height=80 + 28 * reasons["reason_code"].nunique(), margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(fig, key="dq_dead_letter_chart")
    with st.container(horizontal=True):
        codes = ["All reasons", *sorted(reasons["reason_code"].unique())]
        types = ["All types", *sorted(reasons["event_type"].unique())]
        code = st.selectbox("Reason", codes, key="dq_dl_reason", width=240)
        kind = st.selectbox("Event type", types, key="dq_dl_type", width=200)
        st.button("Refresh", key="dq_dl_refresh", icon=":material/refresh:")
    found = ui.read(
        "dead_letters", None if code == "All reasons" else code, None if kind == "All types" else kind, 500,
        what="dead letters",
    )
    if ui.shown(found, "No dead letters match these filters."):
        st.caption(f"{len(found):,} newest dead letters (at most 500); raw bytes as text, "
                   "bytes that are not UTF-8 as \\xNN.")
        ui.table(found, key="dq_dead_letters", file_name="dead_letters",
                 column_config={"raw_preview": st.column_config.TextColumn("raw", width="large")})


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


@ui.guarded
def model_quality() -> None:
    """Outside the refreshing fragment: a backtest reads the whole history (cached for minutes)."""
    st.subheader("Model quality")
    horizon = int(st.number_input("Horizon (days)", min_value=31, max_value=365, value=60, step=1,
                                  key="dq_mq_horizon", width=200))
    found = ui.read("model_quality", ui.settings().health, horizon, what="the backtest", slow=True)
    if not ui.shown(found, "No events have landed yet: nothing to backtest."):
        return
    doc = found.iloc[0].to_dict()
    churn, unprofitable = doc["churn"], doc["unprofitability"]
    st.caption(f"The health model as of {doc['as_of'][:16].replace('T', ' ')} UTC (the latest event time minus "
               f"{horizon} days) against what happened in the {horizon} days after: `customer-health backtest`.")
    cols = st.columns(5)
    cols[0].metric("Churn AUC", _share(churn["churn_auc"]),
                   help="P(a customer who churned scored lower than one who stayed); 0.5 is chance")
    cols[1].metric("AUC, cancelled", _share(churn["churn_auc_cancelled"]))
    cols[2].metric("AUC, gone silent", _share(churn["churn_auc_silent"]))
    risk = churn["at_risk"]
    cols[3].metric("at_risk precision / recall", f"{_share(risk['precision'])} / {_share(risk['recall'])}",
                   help=f"lift {_share(risk['lift'])}: how much likelier an at_risk customer churned")
    cols[4].metric("unprofitable precision / recall",
                   f"{_share(unprofitable['precision'])} / {_share(unprofitable['recall'])}")
    with_baseline = churn.get("with_baseline")
    if churn["customers"] and with_baseline is not None and with_baseline < churn["customers"] / 2:
        st.warning(f"Only {with_baseline:,} of the {churn['customers']:,} active customers had a usual visit rate at "
                   "that time (health.fading_min_visits visits before its 30-day window): the score cannot see the "
                   "others fade, which is most of what predicts silent churn. These figures say little until more "
                   "history before it has landed.")
    left, right = st.columns(2)
    with left:
        st.caption(f"Churn ROC: {churn['churned']:,} of {churn['customers']:,} active customers churned "
                   f"({churn['cancelled']:,} cancelled, {churn['silent']:,} gone silent)")
        roc = pd.DataFrame(doc["churn"]["roc"], columns=["false_positive_rate", "true_positive_rate"])
        if ui.shown(roc, "No churn and no stay to compare: the ROC needs both."):
            fig = go.Figure()
            fig.add_trace(go.Scatter(x=roc["false_positive_rate"], y=roc["true_positive_rate"], mode="lines",
                                     name="health score"))
            fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dot"}))
            fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                              xaxis_title="false positive rate", yaxis_title="true positive rate")
            st.plotly_chart(fig, key="dq_mq_roc")
    with right:
        model = doc["churn_model"]
        st.caption("Churn model: expected against actual transactions per customer in the horizon, by repeat "
                   "transactions before it")
        check = pd.DataFrame(model["by_frequency"],
                             columns=["frequency", "customers", "expected_transactions", "actual_transactions"])
        if ui.shown(check, "No succeeded charge before the backtest's time: the churn model has nothing to fit."):
            long = check.melt(id_vars=["frequency", "customers"],
                              value_vars=["expected_transactions", "actual_transactions"],
                              var_name="series", value_name="transactions")
            fig = px.bar(long, x="frequency", y="transactions", color="series", barmode="group",
                         hover_data=["customers"],
                         labels={"frequency": "repeat transactions before", "transactions": "per customer"})
            fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10})
            st.plotly_chart(fig, key="dq_mq_transactions")
            converged = model["fit"] is None or model["fit"]["converged"]
            st.caption(f"In total: expected {model['expected_transactions']:,.1f}, actual "
                       f"{model['actual_transactions']:,.0f} for {model['customers']:,} customers"
                       + ("." if converged else "; the fit did not converge: read these expectations with care."))


render()
