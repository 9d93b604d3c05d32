"""Live health (support leads): KPI tiles, customers drifting toward unprofitable or terrorist status with
their score sparkline, what moved and the next step, support minutes against the median, newly changed
segments. The figures refresh in a fragment every dashboard.refresh_seconds: filters stay as they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import queries, ui

SEGMENT_COLOURS = {
    "champion": "green", "healthy": "blue", "at_risk": "orange", "unprofitable": "violet", "terrorist": "red",
    "churned": "gray",
}
CHANGES_WINDOW = timedelta(hours=24)


def render() -> None:
    st.title("Live health")
    settings = ui.settings()
    plans = ui.read("plans", what="plans", slow=True, quiet=True)
    plan_options = ["All plans", *([] if plans is None else plans["plan"].tolist())]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        search = st.text_input("Find a customer", key="live_search", placeholder="id or name", width=260)
        segment = st.selectbox("Segment", ["All segments", *queries.SEGMENTS], key="live_segment", width=200)
        kind = st.segmented_control("Customers", ["All", "b2b", "b2c"], key="live_kind", default="All")
        plan = st.selectbox("Plan", plan_options, key="live_plan", width=200)
    filters = Filters(
        search=search.strip() or None,
        segment=None if segment == "All segments" else segment,
        kind=None if kind in (None, "All") else kind,
        plan=None if plan == "All plans" else plan,
    )
    live(filters, settings.dashboard.refresh_seconds)


@dataclass(frozen=True)
class Filters:
    search: str | None
    segment: str | None
    kind: str | None
    plan: str | None


def live(filters: Filters, refresh_seconds: float) -> None:
    @st.fragment(run_every=refresh_seconds)
    def refreshing() -> None:
        now = ui.model_now()
        overview = ui.overview()
        ui.status_banner(overview)
        if overview is None:
            return
        kpis = ui.read("kpis", now, filters.kind, filters.plan, filters.segment, what="health scores")
        if kpis is None:
            return
        if int(kpis.iloc[0]["customers"]) == 0:
            if filters.segment is not None:
                st.info(f"No customer is in the {segment_name(filters.segment)} segment (with these filters).")
                return
            st.info("No customer has a health score yet: scores appear once customer events have landed and the "
                    "health model has refreshed.")
            return
        if filters.segment is not None:
            st.caption(f":material/filter_alt: Segment filter: every figure, table and chart below is for the "
                       f"**{segment_name(filters.segment)}** segment only (segment changes: into or out of it).")
        tiles(kpis.iloc[0], filters.segment)
        if filters.search:
            matches(filters)
        drifting(now, filters)
        left, right = st.columns(2)
        with left:
            support_minutes(filters)
        with right:
            segment_changes(now, filters)
        watchlist(now, filters)
        st.caption(f"Refreshes every {refresh_seconds:g} s · figures as of {ui.clock_time(now, 'model')}"
                   + model_clock_note(now))

    refreshing()


SEGMENT_TILES = (("champion", "Champions", "champions", "segment champion"),
                 ("at_risk", "At risk", "at_risk", "segment at risk"),
                 ("unprofitable", "Unprofitable segment", "unprofitable",
                  "segment unprofitable: margin below 0 and not a terrorist (see “Margin below 0”)"),
                 ("terrorist", "Terrorists", "terrorists", "segment terrorist"))


def segment_name(segment: str) -> str:
    return segment.replace("_", " ")


def model_clock_note(now: datetime) -> str:
    """Why the model's clock is not the wall's, when they differ by more than a minute."""
    wall = ui.utc_now()
    if abs((now - wall).total_seconds()) <= 60:
        return ""
    return f" (the model's clock follows the landed events; the wall clock says {ui.clock_time(wall, 'wall')})"


@ui.guarded
def tiles(k: pd.Series, segment: str | None) -> None:
    """The headline figures; money of the active customers as on the Portfolio page (of the chosen segment when
    filtered: then labelled with it), and only the chosen segment's count tile."""
    population = "active customers (not churned), as on the Portfolio page" if segment is None else (
        f"the customers of the {segment_name(segment)} segment")
    suffix = "" if segment is None else f" ({segment_name(segment)})"
    row1 = st.columns(6)
    row1[0].metric("Active customers", f"{int(k['active_customers']):,}", help="customers not churned")
    avg = k["average_health"]
    row1[1].metric("Average health", "–" if pd.isna(avg) else f"{avg:.0f} / 100", help="of the active customers")
    row1[2].metric("Drifting", f"{int(k['drifting']):,}", help="projected to become unprofitable or terrorist")
    row1[3].metric("Segment changes, 24 h", f"{int(k['segment_changes_24h']):,}",
                   help="confirmed changes in the 24 hours before the model's now")
    row1[4].metric(f"Margin, 90 d{suffix}", f"{k['margin_90d']:,.0f}",
                   help=f"revenue minus cost to serve, trailing 90 days, currency units: {population}")
    row1[5].metric(f"Cost to serve, 90 d{suffix}", f"{k['cost_to_serve_90d']:,.0f}",
                   help=f"trailing 90 days, currency units: {population}")
    shown = [t for t in SEGMENT_TILES if segment is None or t[0] == segment]
    row2 = st.columns(6)
    for col, (_, label, column, help_text) in zip(row2, shown, strict=False):
        col.metric(label, f"{int(k[column]):,}", help=help_text)
    row2[len(shown)].metric(
        "Margin below 0", f"{int(k['margin_below_zero']):,}",
        help="active customers whose 90-day margin is below 0, terrorists included: the unprofitable tail of the "
             "Portfolio page and `customer-health what-if`, not only the unprofitable segment")


def segment_badge(segment: str | None) -> str:
    if not segment:
        return ":gray-badge[no segment]"
    return f":{SEGMENT_COLOURS.get(segment, 'gray')}-badge[{segment.replace('_', ' ')}]"


@ui.guarded
def matches(filters: Filters) -> None:
    """Cards for the customers the search finds (at most three), updated in place at every refresh."""
    found = ui.read("customer_cards", filters.search, filters.kind, filters.plan, filters.segment, 4,
                    what="customers")
    if found is None:
        return
    if found.empty:
        st.info(f"No customer matches “{filters.search}” yet.", icon=":material/search:")
        return
    cols = st.columns(3)
    for col, row in zip(cols, found.head(3).itertuples(index=False), strict=False):
        with col, st.container(border=True, key=ui.card_key(row.customer_id)):
            st.markdown(f"**{row.name}** · `{row.customer_id}`")
            st.markdown(f"{segment_badge(row.segment)} health **{row.health_score:.0f}**"
                        + (f" · P(alive) **{row.p_alive:.2f}**" if pd.notna(row.p_alive) else "")
                        + (f" · drifting toward **{row.drifting_toward}**" if pd.notna(row.drifting_toward) else ""))
            refreshed = "" if pd.isna(row.refreshed_at) else f" · refreshed {ui.clock_time(row.refreshed_at, 'model')}"
            next_step = row.next_step if pd.notna(row.next_step) else "none"
            st.caption(f"next step: {next_step}{refreshed}")
            if st.button("Open", key=f"open-{ui.card_key(row.customer_id)}", icon=":material/open_in_new:"):
                ui.open_customer(row.customer_id)
    if len(found) > 3:
        st.caption("More customers match: see the table below.")


SPARKLINE = st.column_config.LineChartColumn("Score, 30 days", y_min=0, y_max=100, width="small")
P_ALIVE = st.column_config.NumberColumn(
    "P(alive)", format="%.2f", help="silent churn: probability the customer still buys (BG/NBD on the repeat "
    "purchases); empty before the first purchase or the first fit of the model")


@ui.guarded
def drifting(now: datetime, filters: Filters) -> None:
    st.subheader("Drifting toward unprofitable or terrorist")
    found = ui.read("drifting", now, filters.kind, filters.plan, filters.segment, filters.search, 100,
                    what="drift projections")
    if not ui.shown(found, "No customer is drifting toward unprofitable or terrorist status."):
        return
    selected = ui.table(
        found, key="live_drifting", file_name="drifting", selectable=True,
        column_config={
            "score_trend": SPARKLINE,
            "health_score": st.column_config.ProgressColumn("Health", min_value=0, max_value=100, format="%.0f"),
            "days_to_threshold": st.column_config.NumberColumn("Days to threshold", format="%.0f"),
            "score_change_7d": st.column_config.NumberColumn("Change, 7 d", format="%+.0f"),
            "what_moved": st.column_config.TextColumn("What moved (7 d)", width="medium"),
            "next_step_reason": st.column_config.TextColumn("Why", width="large"),
            "margin_90d": st.column_config.NumberColumn("Margin, 90 d", format="%.0f"),
        },
    )
    ui.drill_down(found, selected)


@ui.guarded
def support_minutes(filters: Filters) -> None:
    st.subheader("Support minutes per customer")
    top = ui.read("support_minutes", filters.kind, filters.plan, filters.segment, 20, what="support minutes")
    if not ui.shown(top, "No support time recorded in the last 90 days."):
        return
    median = float(top["portfolio_median_support_minutes_90d"].iloc[0] or 0)
    fig = go.Figure(go.Bar(x=top["support_minutes_90d"], y=top["name"] + " (" + top["customer_id"] + ")",
                           orientation="h", marker_color="#ef6c00", name="minutes, 90 days"))
    fig.add_vline(x=median, line_dash="dash", line_color="#455a64",
                  annotation_text=f"median {median:,.0f} min", annotation_position="top right")
    fig.update_layout(height=120 + 22 * len(top), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      yaxis={"autorange": "reversed"}, xaxis_title="agent minutes, trailing 90 days")
    st.plotly_chart(fig, key="live_support_chart")
    ui.table(top, key="live_support", file_name="support_minutes", height=220,
             column_config={"times_median": st.column_config.NumberColumn("× median", format="%.1f")})


@ui.guarded
def segment_changes(now: datetime, filters: Filters) -> None:
    st.subheader("Newly changed segments")
    changes = ui.read("segment_changes", now - CHANGES_WINDOW, filters.kind, filters.plan, filters.segment, 200,
                      what="segment changes")
    if not ui.shown(changes, "No segment changed in the last 24 hours."):
        return
    selected = ui.table(changes, key="live_changes", file_name="segment_changes", selectable=True,
                        column_order=["changed_at", "customer_id", "name", "from_segment", "to_segment",
                                      "health_score", "drifting_toward", "days_to_threshold"])
    ui.drill_down(changes, selected)


@ui.guarded
def watchlist(now: datetime, filters: Filters) -> None:
    st.subheader("Customers, lowest health first")
    found = ui.read("watchlist", now, filters.kind, filters.plan, filters.segment, filters.search, 200,
                    what="customers")
    if not ui.shown(found, "No customer matches these filters."):
        return
    selected = ui.table(
        found, key="live_watchlist", file_name="customers", selectable=True,
        column_config={
            "score_trend": SPARKLINE,
            "health_score": st.column_config.ProgressColumn("Health", min_value=0, max_value=100, format="%.0f"),
            "p_alive": P_ALIVE,
            "score_change_7d": st.column_config.NumberColumn("Change, 7 d", format="%+.0f"),
        },
    )
    st.caption("Select a row to open the customer.")
    ui.drill_down(found, selected)


render()
