"""Customer (drill-down from any table row, or a search box): timeline of tickets, payments and visits;
health components and history; margin breakdown; next step; record an intervention; download the
evidence file; win-back dates; household. Money: trailing 90 days, currency units."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard import actions, queries, ui

TIMELINE_PERIODS = {"Last 30 days": 30, "Last 90 days": 90, "Last 180 days": 180, "Last year": 365}
COMPONENTS = ("engagement", "payment_behaviour", "support_burden", "complaint_behaviour", "profitability")
EVENT_COLOURS = {"ticket": "#ef6c00", "payment": "#2e7d32", "visit": "#1e88e5", "profile": "#6d4c41"}
STEPS = tuple(s for s in queries.NEXT_STEPS if s != "none")


def render() -> None:
    st.title("Customer")
    customer_id = choose_customer()
    if customer_id is None:
        return
    found = ui.read("customer", customer_id, what="the customer")
    if found is None:
        return
    if found.empty:
        st.warning(f"No customer `{customer_id}` in this database (yet). Check the id, or wait for its first "
                   "events to land.")
        return
    row = found.iloc[0]
    header(row)
    timeline_tab, health_tab, margin_tab, household_tab, interventions_tab = st.tabs(
        ["Timeline", "Health", "Margin", "Household & win-back", "Interventions"]
    )
    with timeline_tab:
        timeline(customer_id)
    with health_tab:
        health(row)
    with margin_tab:
        margin(row)
    with household_tab:
        household(row)
    with interventions_tab:
        interventions(row)


def choose_customer() -> str | None:
    """The customer in the URL (?customer=ID, set by drill-downs), or one found with the search box."""
    current = st.query_params.get("customer")
    search = st.text_input("Find a customer", key="cust_search", placeholder="id or name",
                           value="", width=320)
    if search.strip():
        found = ui.read("customer_search", search.strip(), 50, what="customers")
        if ui.shown(found, f"No customer matches “{search.strip()}”."):
            labels = {f"{r.name} · {r.customer_id} · {r.segment}": r.customer_id for r in found.itertuples()}
            picked = st.selectbox("Matching customers", list(labels), key="cust_pick", index=None,
                                  placeholder=f"{len(found)} match{'es' if len(found) > 1 else ''}: choose one")
            if picked is not None and labels[picked] != current:
                st.query_params["customer"] = labels[picked]
                st.rerun()
    if not current:
        st.info("Search for a customer by id or name, or select a row in any table of the other pages.",
                icon=":material/person_search:")
        return None
    return str(current)


@ui.guarded
def header(row: pd.Series) -> None:
    st.subheader(f"{row['name']} · {row['customer_id']}")
    since = row.get("segment_since")
    since_text = f" since {pd.Timestamp(since):%Y-%m-%d}" if pd.notna(since) else ""
    drifting = row.get("drifting_toward")
    drift_text = (f" · drifting toward **{drifting}**, threshold in {row['days_to_threshold']:.0f} days"
                  if pd.notna(drifting) and pd.notna(row.get("days_to_threshold")) else
                  (f" · drifting toward **{drifting}**" if pd.notna(drifting) else ""))
    st.markdown(f"{segment_badge(row['segment'])}{since_text} · {row['kind']} · plan **{row['plan']}**{drift_text}")
    cols = st.columns(6)
    change = row.get("score_change_7d")
    cols[0].metric("Health", f"{row['health_score']:.0f} / 100",
                   delta=None if pd.isna(change) else f"{change:+.0f} in 7 d")
    p_alive = row.get("p_alive")
    cols[1].metric("P(alive)", "–" if pd.isna(p_alive) else f"{p_alive:.2f}", help=churn_help(row))
    cols[2].metric("Margin, 90 d", f"{row['margin_90d']:,.0f}")
    cols[3].metric("Revenue, 90 d", f"{row['revenue_90d']:,.0f}")
    cols[4].metric("Cost to serve, 90 d", f"{row['cost_to_serve_90d']:,.0f}")
    cols[5].metric("Support minutes, 30 d", f"{row['support_minutes_30d']:,.0f}")
    step = row.get("next_step")
    reason = row.get("next_step_reason")
    if pd.notna(step) and step != "none":
        st.warning(f"**Next step: {step}**" + (f" — {reason}" if pd.notna(reason) and reason else ""),
                   icon=":material/assignment_turned_in:")
    else:
        st.success("Next step: none" + (f" — {reason}" if pd.notna(reason) and reason else ""),
                   icon=":material/check_circle:")
    evidence_downloads(str(row["customer_id"]))


def churn_help(row: pd.Series) -> str:
    """The silent-churn figures behind P(alive), for the metric's tooltip."""
    if pd.isna(row.get("p_alive")):
        return "Silent churn: no P(alive) yet (no purchase, or the churn model has not been fitted)."
    parts = ["Silent churn: probability the customer still buys (BG/NBD on the repeat purchases)."]
    if pd.notna(row.get("expected_tx_90d")):
        parts.append(f"Expected purchases: {row['expected_tx_30d']:.2f} in 30 days, {row['expected_tx_90d']:.2f} "
                     "in 90 days.")
    if pd.notna(row.get("expected_value_90d")):
        parts.append(f"Expected value, 90 days: {row['expected_value_90d']:,.2f}; at risk of silent churn: "
                     f"{row['value_at_risk_90d']:,.2f}.")
    return " ".join(parts)


def segment_badge(segment: str) -> str:
    colours = {"champion": "green", "healthy": "blue", "at_risk": "orange", "unprofitable": "violet",
               "terrorist": "red", "churned": "gray"}
    return f":{colours.get(segment, 'gray')}-badge[{str(segment).replace('_', ' ')}]"


def evidence_downloads(customer_id: str) -> None:
    """The evidence file (dossier), built when the button is pressed, as HTML and as Markdown."""
    with st.container(horizontal=True):
        st.download_button("Evidence file (HTML)", data=lambda: actions.dossier(ui.source(), customer_id)[0],
                           file_name=f"evidence-{customer_id}.html", mime="text/html", on_click="ignore",
                           key="cust_dossier_html", icon=":material/description:")
        st.download_button("Evidence file (Markdown)", data=lambda: actions.dossier(ui.source(), customer_id)[1],
                           file_name=f"evidence-{customer_id}.md", mime="text/markdown", on_click="ignore",
                           key="cust_dossier_md", icon=":material/description:")


@ui.guarded
def timeline(customer_id: str) -> None:
    label = st.selectbox("Period", list(TIMELINE_PERIODS), index=1, key="cust_timeline_period", width=200)
    since = ui.model_now() - timedelta(days=TIMELINE_PERIODS[label])
    events = ui.read("customer_timeline", customer_id, since, 1000, what="the timeline")
    if not ui.shown(events, "No tickets, payments or visits in this period."):
        return
    fig = px.scatter(events, x="occurred_at", y="event", color="event", color_discrete_map=EVENT_COLOURS,
                     hover_data=["reference", "detail", "minutes", "amount", "currency", "status"],
                     category_orders={"event": list(EVENT_COLOURS)})
    fig.update_traces(marker={"size": 11, "symbol": "line-ns-open", "line": {"width": 3}})
    fig.update_layout(height=240, showlegend=False, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_title="", yaxis_title="")
    st.plotly_chart(fig, key="cust_timeline_chart")
    ui.table(events, key="cust_timeline", file_name=f"timeline-{customer_id}",
             column_config={"minutes": st.column_config.NumberColumn(format="%.1f"),
                            "amount": st.column_config.NumberColumn(format="%.2f")})


@ui.guarded
def health(row: pd.Series) -> None:
    customer_id = str(row["customer_id"])
    left, right = st.columns([2, 3])
    with left:
        st.markdown("**Components** (0–100, higher is healthier)")
        components = parse_components(row.get("components"))
        fig = go.Figure(go.Bar(x=[components.get(c) for c in COMPONENTS], y=[c.replace("_", " ") for c in COMPONENTS],
                               orientation="h", marker_color="#1565c0", text=[
                                   "–" if components.get(c) is None else f"{components[c]:.0f}" for c in COMPONENTS]))
        fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis={"range": [0, 100]},
                          yaxis={"autorange": "reversed"})
        st.plotly_chart(fig, key="cust_components_chart")
    with right:
        st.markdown("**Health over time**")
        history = ui.read("customer_snapshots", customer_id, ui.model_now() - timedelta(days=365),
                          what="the health history")
        if ui.shown(history, "No history point yet: points are evaluated at 00:00 UTC of each day."):
            fig = px.line(history, x="snapshot_at", y="health_score", markers=True,
                          hover_data=["segment", "margin_90d"], range_y=[0, 100])
            fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title="",
                              yaxis_title="health")
            st.plotly_chart(fig, key="cust_history_chart")
    changes = ui.read("customer_segment_changes", customer_id, what="segment changes")
    if changes is not None and not changes.empty:
        st.markdown("**Segment history** (confirmed changes, in event time)")
        ui.table(changes, key="cust_changes", file_name=f"segment-changes-{customer_id}")
    if history is not None and not history.empty:
        with st.expander("Snapshots"):
            ui.table(history, key="cust_snapshots", file_name=f"snapshots-{customer_id}")


def parse_components(value: object) -> dict[str, float]:
    """Components from the JSON text the query returns (or a mapping), missing ones left out."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {k: float(v) for k, v in value.items() if isinstance(v, int | float)}


@ui.guarded
def margin(row: pd.Series) -> None:
    revenue = float(row["revenue_90d"])
    parts = margin_parts(row)
    fig = go.Figure(go.Waterfall(
        orientation="v",
        measure=["absolute", *["relative"] * len(parts), "total"],
        x=["revenue", *parts, "margin"],
        y=[revenue, *[-v for v in parts.values()], 0],
        connector={"line": {"color": "#90a4ae"}},
        decreasing={"marker": {"color": "#c62828"}}, increasing={"marker": {"color": "#2e7d32"}},
        totals={"marker": {"color": "#1565c0" if row["margin_90d"] >= 0 else "#6a1b9a"}},
    ))
    fig.update_layout(height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10}, yaxis_title="currency units, 90 d")
    st.plotly_chart(fig, key="cust_margin_chart")
    drivers = margin_drivers(row, ui.settings().health.currency)
    ui.table(drivers, key="cust_drivers", file_name=f"margin-{row['customer_id']}",
             column_config={"measure": st.column_config.TextColumn("Measure"),
                            "value": st.column_config.NumberColumn("Value", format="%.2f"),
                            "unit": st.column_config.TextColumn("Unit"),
                            "period": st.column_config.TextColumn("Period")})


# (column, measure, unit: "money" is the reporting currency, period)
MARGIN_DRIVERS = (
    ("revenue_90d", "revenue", "money", "90 d"),
    ("support_minutes_90d", "support time", "minutes", "90 d"),
    ("support_minutes_30d", "support time", "minutes", "30 d"),
    ("portfolio_median_support_minutes_90d", "portfolio median support time", "minutes", "90 d"),
    ("tickets_90d", "tickets", "tickets", "90 d"),
    ("how_to_tickets_90d", "how-to tickets", "tickets", "90 d"),
    ("complaints_90d", "complaints", "tickets", "90 d"),
    ("escalations_90d", "escalations", "tickets", "90 d"),
    ("legal_threats_90d", "legal threats", "tickets", "90 d"),
    ("compensation_requests_90d", "compensation requests", "requests", "90 d"),
    ("compensation_requested_amount_90d", "compensation requested", "money", "90 d"),
    ("compensation_granted_90d", "compensation granted", "money", "90 d"),
    ("failed_payments_90d", "failed payments", "payments", "90 d"),
    ("overdue_invoices", "overdue invoices", "invoices", "now"),
    ("cost_to_serve_90d", "cost to serve", "money", "90 d"),
    ("margin_90d", "margin", "money", "90 d"),
)


def margin_drivers(row: pd.Series, currency: str) -> pd.DataFrame:
    """The figures behind the margin, each with its unit (minutes, a count, or ``currency``) and period."""
    return pd.DataFrame([
        {"measure": measure, "value": row.get(column), "unit": currency if unit == "money" else unit,
         "period": period}
        for column, measure, unit, period in MARGIN_DRIVERS if column in row.index
    ], columns=["measure", "value", "unit", "period"])


def margin_parts(row: pd.Series) -> dict[str, float]:
    """Cost to serve split into the parts the health table names; the remainder is 'other costs'."""
    known = {"support": "support_cost_90d", "compensation": "compensation_granted_90d",
             "failed payments": "failed_payment_cost_90d"}
    parts = {label: float(row[col]) for label, col in known.items() if col in row.index and pd.notna(row[col])}
    other = float(row["cost_to_serve_90d"]) - sum(parts.values())
    if abs(other) >= 0.005 or not parts:
        parts["other costs" if parts else "cost to serve"] = other
    return parts


@ui.guarded
def household(row: pd.Series) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown("**Win-back**")
        contacts = ui.win_back_contacts(row.get("win_back_dates"), ui.settings().health.win_back_days,
                                        row.get("cancelled_at"), ui.model_now())
        if contacts.empty:
            st.caption("No win-back contacts: the customer has not cancelled.")
        else:
            for c in contacts.itertuples(index=False):
                badge = ":gray-badge[past]" if c.status == "past" else (
                    ":orange-badge[due today]" if c.status == "today" else ":blue-badge[upcoming]")
                st.markdown(f"{c.contact}: **{c.due:%Y-%m-%d}** {badge}")
            st.caption("Days after the cancellation (health.win_back_days); past or upcoming on the model's clock.")
        if bool(row.get("returned_after_exit") or False):
            st.info("This customer came back after an exit.")
    with right:
        st.markdown("**Household**")
        household_id = row.get("household_id")
        if pd.isna(household_id) or not household_id:
            st.caption("Not part of a household.")
            return
        st.markdown(f"Household `{household_id}`")
        if bool(row.get("household_churn_flag") or False):
            st.warning("Someone else in this household churned: the risk of this customer leaving is higher.")
    if pd.notna(row.get("household_id")) and row.get("household_id"):
        members = ui.read("household", str(row["household_id"]), what="the household")
        if ui.shown(members, "No other customer in this household."):
            selected = ui.table(members, key="cust_household", file_name=f"household-{row['household_id']}",
                                selectable=True)
            if selected and str(members.iloc[selected[0]]["customer_id"]) != str(row["customer_id"]):
                ui.open_customer(str(members.iloc[selected[0]]["customer_id"]))


@ui.guarded
def interventions(row: pd.Series) -> None:
    customer_id = str(row["customer_id"])
    flash = st.session_state.pop("cust_recorded", None)
    if flash:
        st.success(flash, icon=":material/task_alt:")
    done = ui.read("customer_interventions", customer_id, what="interventions")
    if ui.shown(done, "Nothing recorded for this customer yet."):
        ui.table(done, key="cust_interventions", file_name=f"interventions-{customer_id}")
    st.markdown("**Record an intervention**")
    identity = ui.current_identity()
    if ui.auth_enabled() and identity is None:
        st.warning("Sign in to record an intervention: the record keeps who made it.", icon=":material/lock:")
        if st.button("Sign in", key="cust_sign_in"):
            st.login(ui.settings().dashboard.auth_provider or None)
        return
    default_step = row.get("next_step")
    with st.form("cust_intervention", clear_on_submit=True):
        step = st.selectbox("Step", STEPS, index=STEPS.index(default_step) if default_step in STEPS else 0,
                            key="cust_step")
        note = st.text_area("Note", key="cust_note", placeholder="what was agreed, offered or said")
        if identity is None:
            recorded_by = st.text_input("Recorded by", key="cust_recorded_by", placeholder="your name")
        else:
            recorded_by = identity
            st.caption(f"Recorded as {identity} (signed in)")
        submitted = st.form_submit_button("Record", type="primary")
    if submitted:
        if not note.strip() or not str(recorded_by).strip():
            st.error("A note and who records it are both needed.")
            return
        problem = actions.note_problem(step, note)
        if problem:
            st.error(f"Not recorded: {problem[0].upper()}{problem[1:]}.")
            return
        try:
            actions.record(ui.source(), customer_id, step, note.strip(), str(recorded_by).strip())
        except actions.ActionError as exc:
            st.error(f"Not recorded: {exc}")
            return
        st.cache_data.clear()  # the next step and the list of interventions change at once
        st.session_state["cust_recorded"] = f"Recorded “{step}” for {customer_id} by {str(recorded_by).strip()}."
        st.rerun()


render()
