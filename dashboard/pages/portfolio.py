"""Portfolio (executives): segment mix now and over time; the whale curve with the top-30% share and the
profit lost to the unprofitable tail; revenue against cost to serve with quadrants; "what if we let them
go?" (the figures of `customer-health what-if`, before/after whale curves, collateral damage, the customers
not ready to exit and the ready ones' evidence files). Filters: plan, business vs consumer, period (for the
charts over time). Money: trailing 90 days, currency units."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from customer_health.errors import UserError
from customer_health.health.what_if import SELECTABLE_SEGMENTS, WhatIfFilters, check_filters, what_if
from dashboard import actions, queries, ui
from dashboard.source import DataError

PERIODS = {"Last 30 days": "30d", "Last 90 days": "90d", "Last 180 days": "180d", "Last year": "365d"}
SEGMENT_COLOURS = {
    "champion": "#2e7d32", "healthy": "#1e88e5", "at_risk": "#fb8c00", "unprofitable": "#8e24aa",
    "terrorist": "#c62828", "churned": "#9e9e9e",
}
KIND_LABELS = {"All": None, "Business (b2b)": "b2b", "Consumer (b2c)": "b2c"}


def render() -> None:
    st.title("Portfolio")
    plans = ui.read("plans", what="plans", slow=True, quiet=True)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        plan = st.selectbox("Plan", ["All plans", *([] if plans is None else plans["plan"].tolist())],
                            key="pf_plan", width=200)
        kind_label = st.segmented_control("Customers", list(KIND_LABELS), key="pf_kind", default="All")
        period = st.selectbox("Period", list(PERIODS), index=1, key="pf_period", width=200)
    kind = KIND_LABELS.get(kind_label or "All")
    plan_value = None if plan == "All plans" else plan
    now = ui.model_now()
    ui.status_banner(ui.overview())
    summary = ui.read("portfolio_summary", kind, plan_value, what="portfolio figures", slow=True)
    if summary is None:
        return
    if int(summary.iloc[0]["customers"]) == 0:
        st.info("No customer matches these filters (or no customer has a health score yet).")
        return
    headline(summary.iloc[0])
    left, right = st.columns(2)
    with left:
        segment_mix(kind, plan_value)
    with right:
        mix_over_time(queries.since(now.replace(minute=0, second=0), PERIODS[period]), kind, plan_value)
    whale_curve(summary.iloc[0], kind, plan_value)
    revenue_vs_cost(summary.iloc[0], kind, plan_value)
    value_at_risk(kind, plan_value)
    flows(queries.since(now.replace(minute=0, second=0), PERIODS[period]), kind, plan_value, period)
    what_if_panel([] if plans is None else plans["plan"].tolist())


@ui.guarded
def headline(s: pd.Series) -> None:
    cols = st.columns(6)
    cols[0].metric("Customers", f"{int(s['customers']):,}")
    cols[1].metric("Revenue, 90 d", f"{s['revenue_90d']:,.0f}")
    cols[2].metric("Cost to serve, 90 d", f"{s['cost_to_serve_90d']:,.0f}")
    cols[3].metric("Margin, 90 d", f"{s['margin_90d']:,.0f}")
    share = s["top_30pct_margin_share"]
    cols[4].metric("Top 30% margin share", "–" if pd.isna(share) else f"{share:.0%}",
                   help="margin of the most profitable 30% of customers over the total margin; above 100% "
                        "when the rest destroy profit")
    cols[5].metric("Lost to margin below 0", f"{s['profit_lost_to_unprofitable']:,.0f}",
                   help=f"sum of the negative margins of the {int(s['unprofitable_customers']):,} customers with a "
                        "margin below 0, terrorists included (not only the unprofitable segment)")


@ui.guarded
def segment_mix(kind: str | None, plan: str | None) -> None:
    st.subheader("Segment mix now")
    mix = ui.read("segment_mix", kind, plan, what="the segment mix", slow=True)
    if not ui.shown(mix, "No customers."):
        return
    fig = px.bar(mix, x="segment", y="customers", color="segment", color_discrete_map=SEGMENT_COLOURS,
                 hover_data=["margin_90d", "average_health"], category_orders={"segment": list(queries.SEGMENTS)})
    fig.update_layout(height=300, showlegend=False, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    st.plotly_chart(fig, key="pf_mix_chart")
    ui.table(mix, key="pf_mix", file_name="segment_mix",
             column_config={c: st.column_config.NumberColumn(format="%.0f")
                            for c in ("revenue_90d", "cost_to_serve_90d", "margin_90d", "average_health")})


@ui.guarded
def mix_over_time(since: datetime, kind: str | None, plan: str | None) -> None:
    st.subheader("Segment mix over time")
    history = ui.read("segment_mix_over_time", since, kind, plan, what="health history", slow=True)
    if not ui.shown(history, "No history points in this period yet."):
        return
    fig = px.bar(history, x="day", y="customers", color="segment", color_discrete_map=SEGMENT_COLOURS,
                 category_orders={"segment": list(queries.SEGMENTS)})
    fig.update_layout(bargap=0.1)
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title="")
    st.plotly_chart(fig, key="pf_mix_time_chart")
    ui.table(history, key="pf_mix_time", file_name="segment_mix_over_time", height=160)


@ui.guarded
def value_at_risk(kind: str | None, plan: str | None) -> None:
    st.subheader("Expected 90-day value at risk, by segment")
    risk = ui.read("value_at_risk_by_segment", kind, plan, what="silent-churn figures", slow=True)
    if not ui.shown(risk, "No customers."):
        return
    if int(risk["scored_customers"].sum()) == 0:
        st.info("No customer has a silent-churn score yet: they appear once the churn model has been fitted "
                "(the pipeline fits it on a schedule, or `customer-health churn-model fit`).")
        return
    long = risk.melt(id_vars="segment", value_vars=["expected_value_90d", "value_at_risk_90d"],
                     var_name="figure", value_name="value")
    long["figure"] = long["figure"].map({"expected_value_90d": "expected value",
                                         "value_at_risk_90d": "at risk of silent churn"})
    fig = px.bar(long, x="segment", y="value", color="figure", barmode="group",
                 color_discrete_map={"expected value": "#1e88e5", "at risk of silent churn": "#c62828"},
                 category_orders={"segment": list(queries.SEGMENTS)})
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title="",
                      yaxis_title="next 90 days", legend_title_text="")
    st.plotly_chart(fig, key="pf_value_at_risk_chart")
    st.caption("Expected value: expected purchases in the next 90 days x each customer's average charge. At risk: "
               "(1 - P(alive)) x the purchases expected were the customer still active x average charge.")
    ui.table(risk, key="pf_value_at_risk", file_name="value_at_risk_by_segment",
             column_config={"average_p_alive": st.column_config.NumberColumn("Average P(alive)", format="%.2f"),
                            **{c: st.column_config.NumberColumn(format="%.0f")
                               for c in ("expected_value_90d", "value_at_risk_90d")}})


@ui.guarded
def whale_curve(s: pd.Series, kind: str | None, plan: str | None) -> None:
    st.subheader("Whale curve")
    curve = ui.read("whale_curve", kind, plan, 400, what="the whale curve", slow=True)
    if not ui.shown(curve, "No customers."):
        return
    peak = curve.loc[curve["cumulative_margin"].idxmax()]
    fig = go.Figure(go.Scatter(x=curve["customer_share"] * 100, y=curve["cumulative_margin_share"] * 100,
                               mode="lines", line={"color": "#1565c0", "width": 3}, name="cumulative margin",
                               customdata=curve[["rank", "cumulative_margin"]],
                               hovertemplate="top %{x:.1f}% of customers (%{customdata[0]})<br>"
                                             "%{y:.0f}% of total margin (%{customdata[1]:,.0f})<extra></extra>"))
    fig.add_hline(y=100, line_dash="dot", line_color="#455a64", annotation_text="total margin")
    fig.add_vline(x=30, line_dash="dash", line_color="#ef6c00",
                  annotation_text=f"top 30%: {s['top_30pct_margin_share']:.0%} of margin")
    fig.add_annotation(x=peak["customer_share"] * 100, y=peak["cumulative_margin_share"] * 100,
                       text=f"peak {peak['cumulative_margin']:,.0f}; the tail loses "
                            f"{s['profit_lost_to_unprofitable']:,.0f}", showarrow=True, arrowhead=2)
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="customers, most profitable first (%)", yaxis_title="cumulative margin (% of total)")
    st.plotly_chart(fig, key="pf_whale_chart")
    ui.table(curve, key="pf_whale", file_name="whale_curve", height=160)


@ui.guarded
def revenue_vs_cost(s: pd.Series, kind: str | None, plan: str | None) -> None:
    st.subheader("Revenue against cost to serve")
    points = ui.read("revenue_vs_cost", kind, plan, 5000, what="revenue and cost to serve", slow=True)
    if not ui.shown(points, "No customers."):
        return
    rev_median, cost_median = float(s["median_revenue_90d"]), float(s["median_cost_to_serve_90d"])
    fig = px.scatter(points, x="cost_to_serve_90d", y="revenue_90d", color="segment", render_mode="auto",
                     color_discrete_map=SEGMENT_COLOURS, custom_data=["customer_id", "name", "margin_90d"],
                     category_orders={"segment": list(queries.SEGMENTS)},
                     labels={"cost_to_serve_90d": "cost to serve, 90 d", "revenue_90d": "revenue, 90 d"})
    fig.update_traces(hovertemplate="%{customdata[1]} (%{customdata[0]})<br>revenue %{y:,.0f} · cost %{x:,.0f}"
                                    "<br>margin %{customdata[2]:,.0f}<extra></extra>", marker={"size": 6})
    fig.add_hline(y=rev_median, line_dash="dash", line_color="#607d8b")
    fig.add_vline(x=cost_median, line_dash="dash", line_color="#607d8b")
    top = max(float(points["revenue_90d"].max()), float(points["cost_to_serve_90d"].max()))
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="break-even",
                             line={"color": "#c62828", "dash": "dot"}, hoverinfo="skip"))
    for x, y, text in (
        (0.02, 0.98, "high revenue, cheap to serve"), (0.98, 0.98, "high revenue, costly to serve"),
        (0.02, 0.02, "low revenue, cheap to serve"), (0.98, 0.02, "low revenue, costly to serve"),
    ):
        fig.add_annotation(xref="paper", yref="paper", x=x, y=y, text=text, showarrow=False,
                           xanchor="left" if x < 0.5 else "right", font={"color": "#607d8b"})
    # the axes end just past the points (the break-even line, drawn to the larger of both, would stretch them)
    fig.update_layout(height=480, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_range=axis_range(points["cost_to_serve_90d"]),
                      yaxis_range=axis_range(points["revenue_90d"]))
    event = st.plotly_chart(fig, key="pf_scatter_chart", on_select="rerun", selection_mode="points")
    total = int(points["customers_total"].iloc[0])
    st.caption(f"Quadrants split at the median revenue ({rev_median:,.0f}) and median cost to serve "
               f"({cost_median:,.0f}); below the red line customers cost more than they bring. "
               + (f"Showing {len(points):,} of {total:,} customers (the extremes and a sample). " if total > len(points)
                  else "") + "Click a point to open the customer.")
    chosen = [p.get("customdata", [None])[0] for p in (event.selection.points if event else [])]
    chosen = [c for c in chosen if c]
    if chosen:
        ui.open_customer(str(chosen[0]))
    ui.table(points.drop(columns=["customers_total"]), key="pf_scatter", file_name="revenue_vs_cost", height=200)


def axis_range(values: pd.Series) -> list[float]:
    """From 0 (or below it, for negative values) to 5% past the largest value."""
    low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
    pad = 0.05 * ((high - low) or 1.0)
    return [low - (pad if low < 0 else 0.0), high + pad]


@ui.guarded
def flows(since: datetime, kind: str | None, plan: str | None, period: str) -> None:
    st.subheader(f"Segment moves, {period.lower()}")
    moves = ui.read("segment_flows", since, kind, plan, what="segment changes", slow=True)
    if not ui.shown(moves, "No customer changed segment in this period."):
        return
    ui.table(moves, key="pf_flows", file_name="segment_flows")


@st.cache_data(ttl=ui.SLOW_TTL_S, show_spinner=False)
def _what_if(source_key: str, filters: WhatIfFilters) -> dict:
    """The document of `customer-health what-if --json` (the health model's own function, as actions uses)."""
    return ui.source().read(lambda db: what_if(db, ui.settings(), filters))


@ui.guarded
def what_if_panel(plans: list[str]) -> None:
    st.subheader("What if we let them go?")
    st.caption("The customers matching every filter (never the churned), over the trailing 90 days and a year "
               "(x 365 / 90); with no segment and no margin filter, the unprofitable tail (margin below 0). "
               "The same figures as `customer-health what-if`.")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        segments = st.multiselect("Segments", list(SELECTABLE_SEGMENTS), key="wi_segments", width=320)
        margin_below = st.text_input("Margin, 90 d, below", key="wi_margin_below", width=160,
                                     placeholder="e.g. 0", help="an amount in the reporting currency")
        plan = st.selectbox("Plan", ["All plans", *plans], key="wi_plan", width=200)
        kind_label = st.segmented_control("Customers", list(KIND_LABELS), key="wi_kind", default="All")
    try:
        filters = check_filters(segments, margin_below or None, None if plan == "All plans" else plan,
                                KIND_LABELS.get(kind_label or "All"), plans)
        doc = _what_if(ui.source_key(), filters)
    except (UserError, DataError) as exc:
        st.warning(f"What if: {exc}")
        return
    cur, pf, col = doc["currency"], doc["portfolio"], doc["collateral"]
    cols = st.columns(5)
    cols[0].metric("Customers let go", f"{doc['customers']:,}")
    cols[1].metric("Not ready to exit", f"{doc['not_ready']:,}",
                   help="matched customers with educate, migrate or renegotiate never tried")
    cols[2].metric("Revenue lost, 90 d", f"{doc['revenue_lost_90d']:,.2f}")
    cols[3].metric("Cost to serve saved, 90 d", f"{doc['cost_to_serve_saved_90d']:,.2f}")
    cols[4].metric("Margin change, 90 d", f"{doc['margin_change_90d']:+,.2f}", help="the effect on the portfolio")
    cols = st.columns(5)
    cols[0].metric("Agent hours freed, 90 d", f"{doc['agent_hours_freed_90d']:,.2f}",
                   help=f"{doc['support_minutes_freed_90d']:,.2f} support minutes")
    cols[1].metric("Margin change, a year", f"{doc['margin_change_annual']:+,.2f}",
                   help=f"revenue lost {doc['revenue_lost_annual']:,.2f}, cost saved "
                        f"{doc['cost_to_serve_saved_annual']:,.2f}, agent hours {doc['agent_hours_freed_annual']:,.2f}")
    cols[2].metric("Portfolio margin before, 90 d", f"{pf['margin_before_90d']:,.2f}")
    cols[3].metric("Portfolio margin after, 90 d", f"{pf['margin_after_90d']:,.2f}")
    cols[4].metric("Households at risk", f"{doc['households_at_risk']:,}")
    before, after = pd.DataFrame(doc["whale_curve_before"]), pd.DataFrame(doc["whale_curve_after"])
    fig = go.Figure()
    for curve, name, colour in ((before, "before", "#1565c0"), (after, "after", "#2e7d32")):
        if not curve.empty:
            fig.add_trace(go.Scatter(x=curve["customer_share"] * 100, y=curve["cumulative_margin"], mode="lines",
                                     name=name, line={"color": colour, "width": 3}))
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="customers, most profitable first (%)", yaxis_title=f"cumulative margin ({cur})")
    st.plotly_chart(fig, key="wi_whale_chart")
    share_b, share_a = pf["top_30pct_margin_share_before"], pf["top_30pct_margin_share_after"]
    st.caption(f"{pf['customers_before']:,} customers before, {pf['customers_after']:,} after; the top 30% make "
               f"{'–' if share_b is None else f'{share_b:.0%}'} of the margin before, "
               f"{'–' if share_a is None else f'{share_a:.0%}'} after.")
    h, w, b = col["households"], col["complaint_witnesses"], col["b2b_notice"]
    st.markdown("**Collateral damage**")
    st.markdown(
        f"- Households: {h['members_at_risk']:,} other members of {h['households_at_risk']:,} households, margin "
        f"{h['members_margin_90d']:,.2f}: expected {h['expected_margin_change_90d']:+,.2f}. *{h['assumption']}.*\n"
        f"- Profitable customers with open complaints: {w['customers']:,}, margin {w['margin_90d']:,.2f}: expected "
        f"{w['expected_margin_change_90d']:+,.2f}. *{w['assumption']}.*\n"
        f"- Business accounts: {b['accounts']:,} ({b['accounts_with_delayed_saving']:,} whose saving waits for the "
        f"notice): {b['delayed_margin_change']:+,.2f} of the change delayed. *{b['assumption']}.*\n"
        f"- Margin change with the collateral damage, 90 d: {col['margin_change_with_collateral_90d']:+,.2f}; "
        f"in the first year after notice: {col['margin_change_first_year']:+,.2f}.")
    ui.table(pd.DataFrame(doc["playbook"]), key="wi_playbook", file_name="what_if_playbook")
    st.markdown(f"**Not ready to exit** ({doc['not_ready']:,}): a step the playbook tries before an exit was "
                "never tried.")
    not_ready = pd.DataFrame(doc["not_ready_customers"])
    if ui.shown(not_ready, "Every matched customer has had educate, migrate and renegotiate tried."):
        ui.table(not_ready.drop(columns=["steps_tried"]), key="wi_not_ready", file_name="what_if_not_ready")
    ready = [c["customer_id"] for c in doc["ready_customers"]]
    if not ready:
        st.caption("No matched customer is ready to exit, so there are no evidence files to download: each needs "
                   "educate, migrate and renegotiate tried first.")
        return
    st.download_button(f"Evidence files of the {len(ready):,} ready customers (zip)",
                       data=lambda: actions.evidence_archive(ui.source(), ready),
                       file_name="what-if-evidence.zip", mime="application/zip", key="wi_archive",
                       on_click="ignore", icon=":material/download:")


render()
