"""The evidence file of a customer (`customer-health dossier ID`): a self-contained HTML page and the
same content in Markdown.

It holds what a decision such as an exit rests on: the metrics with their windows, the health score
and its components, the segment and next step with their reasons, the interventions tried, support
minutes per month, and the timeline of complaints, compensation claims, escalations, legal threats,
failed payments, unpaid invoices and interventions. The HTML embeds its styles and loads nothing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

# (label, key in the customer document, unit, window) for the metrics table.
WINDOW_90 = "90 days"
WINDOW_30 = "30 days"
METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("Revenue (charges - refunds - chargebacks - credits)", "revenue_90d", "money", WINDOW_90),
    ("Support minutes", "support_minutes_90d", "minutes", WINDOW_90),
    ("Support minutes", "support_minutes_30d", "minutes", WINDOW_30),
    ("Portfolio median support minutes", "portfolio_median_support_minutes_90d", "minutes", WINDOW_90),
    ("Support cost", "support_cost_90d", "money", WINDOW_90),
    ("Compensation granted", "compensation_granted_90d", "money", WINDOW_90),
    ("Failed payment cost", "failed_payment_cost_90d", "money", WINDOW_90),
    ("Cost to serve", "cost_to_serve_90d", "money", WINDOW_90),
    ("Margin", "margin_90d", "money", WINDOW_90),
    ("Tickets opened", "tickets_90d", "count", WINDOW_90),
    ("Complaints", "complaints_90d", "count", WINDOW_90),
    ("Compensation requests", "compensation_requests_90d", "count", WINDOW_90),
    ("Compensation requested", "compensation_requested_amount_90d", "money", WINDOW_90),
    ("Legal threats", "legal_threats_90d", "count", WINDOW_90),
    ("Escalations to a manager (tickets)", "escalations_90d", "count", WINDOW_90),
    ("How-to tickets", "how_to_tickets_90d", "count", WINDOW_90),
    ("Complaint index", "complaint_index_90d", "index", WINDOW_90),
    ("Failed payments", "failed_payments_90d", "count", WINDOW_90),
    ("Overdue invoices", "overdue_invoices_90d", "count", WINDOW_90),
    ("Visits", "visits_90d", "count", WINDOW_90),
    ("Days since the last visit", "days_since_last_visit", "days", "all time"),
    ("Usual gap between visits", "usual_visit_gap_days", "days", "all time"),
)
TIMELINE_COLUMNS = ("occurred_at", "source", "reference", "kind", "detail", "support_minutes", "amount", "currency")


@dataclass(frozen=True)
class DossierFiles:
    html: Path | None
    markdown: Path | None


def write_dossier(data: dict[str, Any], out_dir: Path, formats: Sequence[str] = ("html", "md")) -> DossierFiles:
    """Write the evidence file(s) of ``data`` (health.queries.dossier_data) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = dossier_stem(data)
    html_path = md_path = None
    if "html" in formats:
        html_path = out_dir / f"{stem}.html"
        html_path.write_text(render_html(data), encoding="utf-8")
    if "md" in formats:
        md_path = out_dir / f"{stem}.md"
        md_path.write_text(render_markdown(data), encoding="utf-8")
    return DossierFiles(html_path, md_path)


def dossier_stem(data: dict[str, Any]) -> str:
    """The file name of ``data``'s evidence file without its suffix: the customer id and the report time."""
    customer_id = re.sub(r"[^A-Za-z0-9._-]", "_", data["customer"]["customer_id"])
    return f"dossier-{customer_id}-{data['as_of']:%Y%m%dT%H%M%SZ}"


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if unit in {"money", "minutes", ""} else f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, str) and value.endswith("Z") and "T" in value:
        return value.replace("T", " ")[:16] + " UTC"
    return str(value)


def _windows(data: dict[str, Any]) -> dict[str, str]:
    as_of = datetime.fromisoformat(data["customer"]["as_of"].removesuffix("Z"))
    start_90 = datetime.fromisoformat(data["customer"]["window_start"].removesuffix("Z"))
    start_30 = start_90 + timedelta(days=60)
    return {
        WINDOW_90: f"{start_90:%Y-%m-%d} 00:00 to {as_of:%Y-%m-%d %H:%M} UTC",
        WINDOW_30: f"{start_30:%Y-%m-%d} 00:00 to {as_of:%Y-%m-%d %H:%M} UTC",
        "all time": f"up to {as_of:%Y-%m-%d %H:%M} UTC",
    }


def _sections(data: dict[str, Any]) -> dict[str, Any]:
    """The content shared by both renderings."""
    c = data["customer"]
    windows = _windows(data)
    currency = c.get("currency") or ""
    metrics = [
        (label, _fmt(c.get(key), unit) + (f" {currency}" if unit == "money" and c.get(key) is not None else ""),
         f"{window}: {windows[window]}")
        for label, key, unit, window in METRICS
    ]
    components = [(name.replace("_", " "), _fmt(value), _fmt((c.get("moved") or {}).get(name)))
                  for name, value in (c.get("components") or {}).items()]
    interventions = [(_fmt(i["tried_at"]), i["step"], i["recorded_by"], i["note"]) for i in data["interventions"]]
    profile = [
        ("Customer", f"{c.get('name') or ''} ({c['customer_id']})"),
        ("Kind / plan", f"{c.get('kind') or '–'} / {c.get('plan') or '–'}"),
        ("Household", c.get("household_id") or "–"),
        ("Signed up", _fmt(c.get("signed_up_at"))),
        ("Cancelled", _fmt(c.get("cancelled_at"))),
        ("Report time", f"{data['as_of']:%Y-%m-%d %H:%M:%S} UTC"),
        ("Metrics as of", _fmt(c.get("as_of"))),
        ("Health score", f"{_fmt(c.get('health_score'))} / 100"),
        ("Segment", f"{c.get('segment')}: {c.get('segment_reason')}"),
        ("Next step", f"{c.get('next_step')}: {c.get('next_step_reason')}"),
    ]
    if c.get("exit_notice"):
        profile.append(("Exit notice", c["exit_notice"]))
    if c.get("returned_after_exit"):
        profile.append(("Returned after exit", f"yes (exit of {c.get('returned_after_exit_of')})"))
    months = [(str(m["month"])[:7], _fmt(float(m["support_minutes"] or 0), "minutes"), str(m["tickets_opened"]),
               str(m["complaints"]), str(m["escalated_events"])) for m in data["support_months"]]
    timeline = [
        (_fmt(r["occurred_at"]), r["source"], r["reference"], r["kind"], r["detail"],
         _fmt(r["support_minutes"], "minutes") if r["support_minutes"] is not None else "",
         _fmt(r["amount"], "money") if r["amount"] is not None else "", r["currency"] or "", bool(r["evidence"]))
        for r in data["timeline"]
    ]
    return {"profile": profile, "metrics": metrics, "components": components, "interventions": interventions,
            "months": months, "timeline": timeline,
            "period": f"{data['since']:%Y-%m-%d} to {data['as_of']:%Y-%m-%d %H:%M} UTC"}


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d2330;max-width:1200px}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%;font-size:.88rem}th,td{border:1px solid #dde;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f3f4f8}tr.evidence td{background:#fff4f2}
.note{color:#555;font-size:.85rem}
"""


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], row_class: Callable[[int], str] | None = None)\
        -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_class(i)}"' if row_class and row_class(i) else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body) or ''}</tbody></table>"


def render_html(data: dict[str, Any]) -> str:
    s = _sections(data)
    c = data["customer"]
    timeline_rows = [row[:-1] for row in s["timeline"]]
    evidence = [row[-1] for row in s["timeline"]]
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Evidence file: {html.escape(str(c.get('name') or c['customer_id']))}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Evidence file: {html.escape(str(c.get('name') or ''))} ({html.escape(c['customer_id'])})</h1>",
        f'<p class="note">Generated by customer-health. Times are UTC; money in {html.escape(c.get("currency") or "")}.'
        f" Timeline period: {html.escape(s['period'])}.</p>",
        "<h2>Summary</h2>", _html_table(("", ""), s["profile"]),
        "<h2>Metrics and their windows</h2>", _html_table(("Metric", "Value", "Window"), s["metrics"]),
        "<h2>Health score components (0-100)</h2>",
        _html_table(("Component", "Now", "Moved since the previous snapshot"), s["components"]),
        "<h2>Interventions tried</h2>",
        _html_table(("Tried at", "Step", "By", "Note"), s["interventions"]) if s["interventions"]
        else "<p>None recorded.</p>",
        "<h2>Support minutes per month</h2>",
        _html_table(("Month", "Support minutes", "Tickets opened", "Complaints", "Escalated events"), s["months"]),
        "<h2>Timeline</h2>",
        '<p class="note">Highlighted rows: complaints, compensation claims, escalations, legal threats, failed '
        "payments, unpaid invoices and interventions.</p>",
        _html_table(("Time", "Source", "Reference", "Kind", "Detail", "Minutes", "Amount", "Currency"), timeline_rows,
                    lambda i: "evidence" if evidence[i] else ""),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


# Characters that Markdown renderers read as markup inside a line (emphasis, code, links, images, tables,
# strike-through, escapes); < > & become HTML entities, so no value can carry raw HTML.
_MD_CONTROL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(value: Any) -> str:
    """``value`` as literal Markdown text on one line: HTML special characters as entities, Markdown
    control characters backslash-escaped."""
    text = " ".join(str(value).splitlines())
    return _MD_CONTROL.sub(r"\\\1", html.escape(text, quote=False))


def _md_cell(value: Any) -> str:
    return md_escape(value)


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(data: dict[str, Any]) -> str:
    s = _sections(data)
    c = data["customer"]
    timeline = [(*row[:-1], "yes" if row[-1] else "") for row in s["timeline"]]
    parts = [
        f"# Evidence file: {md_escape(c.get('name') or '')} ({md_escape(c['customer_id'])})",
        f"Generated by customer-health. Times are UTC; money in {md_escape(c.get('currency') or '')}. "
        f"Timeline period: {md_escape(s['period'])}.",
        "## Summary", _md_table(("Item", "Value"), s["profile"]),
        "## Metrics and their windows", _md_table(("Metric", "Value", "Window"), s["metrics"]),
        "## Health score components (0-100)",
        _md_table(("Component", "Now", "Moved since the previous snapshot"), s["components"]),
        "## Interventions tried",
        _md_table(("Tried at", "Step", "By", "Note"), s["interventions"]) if s["interventions"] else "None recorded.",
        "## Support minutes per month",
        _md_table(("Month", "Support minutes", "Tickets opened", "Complaints", "Escalated events"), s["months"]),
        "## Timeline",
        _md_table(("Time", "Source", "Reference", "Kind", "Detail", "Minutes", "Amount", "Currency", "Evidence"),
                  timeline),
    ]
    return "\n\n".join(parts) + "\n"
