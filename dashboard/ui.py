"""What every page shares: settings, the cached data source, reads with clear empty and error states,
tables with a CSV download, the pipeline status banner and sign-in.

Caching lives here, in the page layer, with short TTLs because the data is live.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeGuard

import pandas as pd
import streamlit as st
from streamlit.elements.arrow import DataframeState

from customer_health import csv_export
from customer_health.cliutil import common_options, settings_from_args
from customer_health.config import Settings
from customer_health.errors import UserError
from dashboard import queries
from dashboard.source import DataError, DataSource

CUSTOMER_PAGE = "pages/customer.py"
P = ParamSpec("P")
LIVE_TTL_S = 1.0  # dedupes identical reads of concurrent sessions; each refresh still sees new batches
SLOW_TTL_S = 15.0  # portfolio aggregates


# --- settings and source ---------------------------------------------------------------------------------


def settings() -> Settings:
    """The customer_health Settings of this dashboard, from its command line (`streamlit run app.py --
    --config FILE --db PATH`), loaded with customer_health's own `load_settings`."""
    return _settings_for(tuple(sys.argv[1:]))


@st.cache_resource(show_spinner=False)
def _settings_for(argv: tuple[str, ...]) -> Settings:
    args, _unknown = common_options().parse_known_args(list(argv))
    return settings_from_args(args)


def source() -> DataSource:
    s = settings()
    return _source_for(_source_key(s), s)


def source_key() -> str:
    """What identifies this dashboard's data source in a cache key."""
    return _source_key(settings())


def _source_key(s: Settings) -> str:
    return f"{s.db_path.resolve()}|{s.quack.host}:{s.quack.port}"


@st.cache_resource(show_spinner=False)
def _source_for(key: str, _settings: Settings) -> DataSource:
    return DataSource(_settings)


def utc_now() -> datetime:
    """Now in naive UTC, to the second (so concurrent sessions share cached reads)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def model_now() -> datetime:
    """The model's now (``customer_health.clock.model_now``) in naive UTC, to the second: the as-of of what
    the pages show; the wall clock when the database cannot be read."""
    wall = utc_now()
    df = read("model_now", wall, what="the model's clock", quiet=True)
    if df is None or df.empty:
        return wall
    return pd.Timestamp(df["now"].iloc[0]).to_pydatetime().replace(tzinfo=None, microsecond=0)


def clock_time(ts: Any, clock: str) -> str:
    """``ts`` (naive UTC) for a caption, naming its clock ("model" or "wall"): the time, with the date when it
    is not today's on the wall clock ("13:57:08 UTC, model clock"; "2026-12-11 13:57:08 UTC, model clock")."""
    t = pd.Timestamp(ts).to_pydatetime()
    shown = f"{t:%H:%M:%S}" if t.date() == utc_now().date() else f"{t:%Y-%m-%d %H:%M:%S}"
    return f"{shown} UTC, {clock} clock"


# --- reads -----------------------------------------------------------------------------------------------


@st.cache_data(ttl=LIVE_TTL_S, show_spinner=False)
def _read_live(key: str, query: str, args: tuple[Any, ...]) -> pd.DataFrame:
    return _run(key, query, args)


@st.cache_data(ttl=SLOW_TTL_S, show_spinner=False)
def _read_slow(key: str, query: str, args: tuple[Any, ...]) -> pd.DataFrame:
    return _run(key, query, args)


def _run(key: str, query: str, args: tuple[Any, ...]) -> pd.DataFrame:
    fn: Callable[..., pd.DataFrame] = getattr(queries, query)
    return source().read(lambda db: fn(db, *args))


def read(query: str, *args: Any, what: str, slow: bool = False, quiet: bool = False) -> pd.DataFrame | None:
    """``queries.<query>(reader, *args)``, cached briefly; None after showing why it could not be read
    (``quiet``: without a message, e.g. for filter options when the page says it anyway).

    ``what`` names the data for the message ("dead letters", "health scores").
    """
    key = _source_key(settings())
    try:
        return (_read_slow if slow else _read_live)(key, query, args)
    except (UserError, DataError) as exc:
        if not quiet:
            _explain(exc, what)
        return None


def _explain(exc: Exception, what: str) -> None:
    if isinstance(exc, UserError):
        st.warning(f"Cannot read {what}: {exc}")
    else:
        st.error(f"Reading {what} failed: {exc}")


def shown(df: pd.DataFrame | None, message: str) -> TypeGuard[pd.DataFrame]:
    """True when ``df`` has rows to show; else False, after saying ``message`` (nothing when it could not be
    read: ``read`` said why)."""
    if df is None:
        return False
    if df.empty:
        st.info(message)
        return False
    return True


# --- tables ----------------------------------------------------------------------------------------------


def table(
    df: pd.DataFrame,
    *,
    key: str,
    file_name: str,
    column_config: dict[str, Any] | None = None,
    column_order: Sequence[str] | None = None,
    selectable: bool = False,
    height: int | None = None,
) -> list[int]:
    """Show ``df`` with a CSV download of all its rows; returns the selected row positions. Columns carry human
    labels with their units (``column_label``) unless ``column_config`` names them; a missing text shows as
    "—" (the download keeps it blank)."""
    event = st.dataframe(
        with_dashes(df),
        key=key,
        hide_index=True,
        width="stretch",
        column_config=labelled(df.columns, column_config),
        column_order=column_order,
        height=height if height is not None else "auto",
        on_select="rerun" if selectable else "ignore",
        selection_mode="single-row",
    )
    st.download_button(
        "Download CSV", data=csv_bytes(df), file_name=f"{file_name}.csv", mime="text/csv",
        key=f"{key}_csv", on_click="ignore", icon=":material/download:",
    )
    if selectable and isinstance(event, DataframeState):
        return list(event.selection.rows)
    return []


MISSING = "—"
COLUMN_LABELS = {
    "customer_id": "Customer", "name": "Name", "kind": "Type", "plan": "Plan", "segment": "Segment",
    "segment_since": "In segment since (UTC)", "from_segment": "From segment", "to_segment": "To segment",
    "drifting_toward": "Drifting toward", "days_to_threshold": "Days to threshold", "health_score": "Health",
    "p_alive": "P(alive)", "times_median": "× median", "household_churn_flag": "Household member churned",
    "portfolio_median_support_minutes_90d": "Portfolio median support minutes, 90 d",
    "refreshed_at": "Refreshed (model clock, UTC)", "reason_code": "Reason", "event_type": "Event type",
}
_PERIOD = re.compile(r"(\d+)([dh])")


def column_label(name: str) -> str:
    """A column's label for people: ``support_minutes_90d`` -> "Support minutes, 90 d", ``changed_at`` ->
    "Changed at (UTC)", ``duration_ms`` -> "Duration (ms)"."""
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    words = name.split("_")
    period = ""
    if len(words) > 1 and (m := _PERIOD.fullmatch(words[-1])):
        period = f", {m.group(1)} {m.group(2)}"
        words = words[:-1]
    unit = ""
    if len(words) > 1 and words[-1] == "ms":
        unit, words = " (ms)", words[:-1]
    elif len(words) > 1 and words[-1] == "at":
        unit = " (UTC)"
    text = " ".join(words)
    return text[:1].upper() + text[1:] + period + unit


def labelled(columns: Sequence[str], column_config: dict[str, Any] | None) -> dict[str, Any]:
    """``column_config`` with a label for every column it does not label (``column_label``)."""
    config: dict[str, Any] = {}
    for name in map(str, columns):
        given = (column_config or {}).get(name)
        if given is None:
            config[name] = column_label(name)
        elif isinstance(given, dict) and not given.get("label"):
            config[name] = {**given, "label": column_label(name)}
        else:
            config[name] = given
    return {**(column_config or {}), **config}


def with_dashes(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with "—" for the missing values of its text columns (lists and numbers left as they are)."""
    shown = df.copy()
    for name in shown.columns:
        if shown[name].dtype == object or isinstance(shown[name].dtype, pd.StringDtype):
            shown[name] = [MISSING if not isinstance(v, list | tuple | dict) and not hasattr(v, "__array__")
                           and pd.isna(v) else v for v in shown[name].astype(object)]
    return shown


def csv_bytes(df: pd.DataFrame) -> bytes:
    """The table as a download: formula-leading text is neutralised (customer_health.csv_export)."""
    return csv_export.csv_bytes(df)


def open_customer(customer_id: str) -> None:
    """Drill down: switch to the Customer page showing ``customer_id``."""
    st.switch_page(CUSTOMER_PAGE, query_params={"customer": customer_id})


def card_key(customer_id: str) -> str:
    """The key of a customer's card (a CSS class ``st-key-<key>`` in the page): letters, digits, - and _."""
    return "card-" + re.sub(r"[^A-Za-z0-9_-]", "_", customer_id)


def drill_down(df: pd.DataFrame, selected: list[int], id_column: str = "customer_id") -> None:
    if selected:
        open_customer(str(df.iloc[selected[0]][id_column]))


# --- formatting ------------------------------------------------------------------------------------------


def win_back_contacts(dates: Any, offsets: Sequence[int], cancelled_at: Any, now: datetime) -> pd.DataFrame:
    """The customer's win-back contacts (``win_back_dates`` of customer_health), one row each, soonest first:
    contact ("30-day win-back"), due, days_after_cancelling (counted from ``cancelled_at``: exact whatever the
    dashboard's settings; else the configured ``health.win_back_days`` when they match the dates) and status
    (past, today or upcoming at ``now``). No rows when the customer has no win-back dates (not cancelled)."""
    columns = ["contact", "due", "days_after_cancelling", "status"]
    if dates is None or isinstance(dates, str) or not hasattr(dates, "__iter__"):
        return pd.DataFrame(columns=columns)
    due = [pd.Timestamp(d).to_pydatetime() for d in dates if d is not None and pd.notna(d)]
    if not due:
        return pd.DataFrame(columns=columns)
    days: list[int | None]
    if cancelled_at is not None and pd.notna(cancelled_at):
        days = [(d - pd.Timestamp(cancelled_at).to_pydatetime()).days for d in due]
    elif len(offsets) == len(due):
        days = [int(n) for n in offsets]
    else:
        days = [None] * len(due)
    rows = []
    for at, n in sorted(zip(due, days, strict=True), key=lambda p: p[0]):
        status = "past" if at.date() < now.date() else "today" if at.date() == now.date() else "upcoming"
        rows.append({"contact": "win-back" if n is None else f"{n}-day win-back", "due": at,
                     "days_after_cancelling": n, "status": status})
    return pd.DataFrame(rows, columns=columns)


# --- status ----------------------------------------------------------------------------------------------


@st.cache_data(ttl=10, show_spinner=False)
def _broker_reachable(key: str, bootstrap_servers: str) -> bool:
    return source().broker_reachable()


def status_banner(overview: pd.DataFrame | None) -> None:
    """Where the figures come from and how fresh they are: live pipeline, file, broker down, empty."""
    s = settings()
    info = source().last
    last_batch = None if overview is None or overview.empty else overview.iloc[0]["last_batch_at"]
    as_of = f"last batch landed {_ago(last_batch)}" if pd.notna(last_batch) else "no batch has landed yet"
    if info.mode == "quack":
        if not _broker_reachable(_source_key(s), s.kafka.bootstrap_servers):
            st.warning(
                f"The pipeline is running but the Kafka broker at {s.kafka.bootstrap_servers} is unreachable: "
                f"no new events arrive until it is back ({as_of}).", icon=":material/cloud_off:"
            )
        else:
            st.caption(f":green[●] Live from the pipeline at {info.uri}; {as_of}.")
    elif info.mode == "lake":
        st.caption(f":green[●] From the lake ({s.ducklake.data_path}), refreshed every "
                   f"{s.dashboard.refresh_seconds:g} s; {as_of}.")
    elif info.mode == "file":
        st.info(
            f"No pipeline is running: reading {s.db_path} read-only; {as_of}. "
            "Start it with `customer-health ingest` for live figures.", icon=":material/pause_circle:"
        )
    if overview is not None and not overview.empty and int(overview.iloc[0]["batches"]) == 0:
        st.info(
            "The database is empty: no events have landed. Start the pipeline (`customer-health ingest`) "
            "or backfill files (`customer-health load FILE...`).", icon=":material/inbox:"
        )


def _ago(ts: Any) -> str:
    seconds = max(0, int((utc_now() - pd.Timestamp(ts).to_pydatetime()).total_seconds()))
    if seconds < 120:
        text = f"{seconds} s ago"
    elif seconds < 7200:
        text = f"{seconds // 60} min ago"
    elif seconds < 172800:
        text = f"{seconds // 3600} h ago"
    else:
        text = f"{seconds // 86400} days ago"
    return f"{text} ({pd.Timestamp(ts):%Y-%m-%d %H:%M:%S} UTC, wall clock)"


def overview() -> pd.DataFrame | None:
    return read("pipeline_overview", utc_now(), what="the pipeline status")


# --- sign-in ---------------------------------------------------------------------------------------------


def auth_enabled() -> bool:
    return settings().dashboard.auth


def signed_in() -> bool:
    return bool(st.user.get("is_logged_in", False))


def current_identity() -> str | None:
    """The signed-in user's identity as stored with what they record (email, else subject, else name)."""
    if not signed_in():
        return None
    for claim in ("email", "sub", "name"):
        value = st.user.get(claim)
        if value:
            return str(value)
    return None


def sign_in_sidebar() -> None:
    """Sign-in state and the sign-in/out button (only when sign-in is switched on in config)."""
    if not auth_enabled():
        return
    provider = settings().dashboard.auth_provider or None
    with st.sidebar:
        if signed_in():
            st.caption(f"Signed in as {current_identity()}")
            if st.button("Sign out", key="sign_out"):
                st.logout()
        elif st.button("Sign in", key="sign_in", type="primary"):
            st.login(provider)


def may_view() -> bool:
    """False (after showing the sign-in prompt) when sign-in is on, required to read, and missing."""
    dash = settings().dashboard
    if not dash.auth or dash.auth_anonymous_read or signed_in():
        return True
    st.title("Customer health")
    st.info("Sign in to see customer data: this dashboard shows personal and financial information.")
    if st.button("Sign in", key="sign_in_main", type="primary"):
        st.login(dash.auth_provider or None)
    return False


# --- sections --------------------------------------------------------------------------------------------

_log = logging.getLogger("dashboard")


def guarded(section: Callable[P, None]) -> Callable[P, None]:
    """A page section that shows a one-line error (token redacted, logged) instead of a traceback,
    so one failing part does not take the page down."""

    @functools.wraps(section)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            section(*args, **kwargs)
        except Exception as exc:  # Streamlit's rerun/stop are BaseExceptions and pass through
            message = source().redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            _log.error("section %s failed: %s: %s", section.__name__, type(exc).__name__, message)
            st.error(f"This part of the page failed: {message}", icon=":material/error:")

    return run
