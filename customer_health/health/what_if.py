"""What if the business let some customers go (`customer-health what-if` and the portfolio page's panel).

One document, from the statements of ``sql/statements/what_if`` over the mart ``sql/60_marts/30_what_if.sql``,
for the command line and the dashboard alike: the matched customers' trailing-90-day figures and their
annualised value, the portfolio and its whale curve before and after, the collateral damage with its
assumptions (the ``[what_if]`` settings and the business accounts' notice, ``health.playbook``), the
playbook status, and the customers not ready to exit. The evidence files of the ready ones go into one
zip archive.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from customer_health.config import Settings
from customer_health.errors import UserError
from customer_health.health.dossier import dossier_stem, render_html, render_markdown
from customer_health.health.queries import dossier_data
from customer_health.jsonsafe import jsonable
from customer_health.sqlfiles import Statements
from customer_health.vocabulary import SEGMENTS

KINDS: tuple[str, ...] = ("b2b", "b2c")
# Segments a what-if may select: churned customers have left already.
SELECTABLE_SEGMENTS: tuple[str, ...] = tuple(s for s in SEGMENTS if s != "churned")
# The summary's 90-day and annual figures, as the document's top-level keys.
FIGURES: tuple[str, ...] = (
    "customers", "ready", "not_ready",
    "revenue_lost_90d", "cost_to_serve_saved_90d", "support_minutes_freed_90d", "agent_hours_freed_90d",
    "margin_change_90d",
    "revenue_lost_annual", "cost_to_serve_saved_annual", "support_minutes_freed_annual",
    "agent_hours_freed_annual", "margin_change_annual",
    "households_at_risk",
)


@dataclass(frozen=True)
class WhatIfFilters:
    """Which customers to let go: every filter given must match (none: the unprofitable tail)."""

    segments: tuple[str, ...] = ()
    margin_below: float | None = None
    plan: str | None = None
    kind: str | None = None

    def params(self) -> dict[str, Any]:
        return {"segments": list(self.segments) or None, "margin_below": self.margin_below,
                "plan": self.plan, "kind": self.kind}


def check_filters(
    segments: Iterable[str] = (), margin_below: float | str | None = None, plan: str | None = None,
    kind: str | None = None, plans: Sequence[str] | None = None,
) -> WhatIfFilters:
    """The filters, or a UserError naming the first bad value and what it may be; ``plans``: the known
    plans (a plan outside them is refused)."""
    chosen = tuple(dict.fromkeys(s.strip() for s in segments if s.strip()))
    for segment in chosen:
        if segment == "churned":
            raise UserError("segment 'churned' cannot be let go: those customers have left already "
                            f"(one of: {', '.join(SELECTABLE_SEGMENTS)})")
        if segment not in SEGMENTS:
            raise UserError(f"unknown segment {segment!r} (one of: {', '.join(SELECTABLE_SEGMENTS)})")
    below: float | None = None
    if margin_below is not None and str(margin_below).strip() != "":
        try:
            below = float(margin_below)
        except ValueError:
            raise UserError(f"margin below {margin_below!r} is not a number (an amount in the reporting "
                            "currency, e.g. 0 or -50)") from None
        if not math.isfinite(below):
            raise UserError(f"margin below {margin_below!r} must be a finite amount")
    if kind is not None and kind not in KINDS:
        raise UserError(f"unknown kind {kind!r} (one of: {', '.join(KINDS)})")
    if plan is not None and plans is not None and plan not in plans:
        raise UserError(f"unknown plan {plan!r} (one of: {', '.join(plans) or 'none yet'})")
    return WhatIfFilters(chosen, below, plan, kind)


def known_plans(db: Statements) -> list[str]:
    return [str(r[0]) for r in db.rows("what_if/plans")]


def _records(db: Statements, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    cur = db.run(name, params)
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def assumptions(settings: Settings) -> dict[str, Any]:
    """The collateral-damage assumptions in force, as values and in words."""
    w, months = settings.what_if, settings.health.playbook.b2b_exit_notice_months
    return {
        "household_follow_share": w.household_follow_share,
        "complaint_witness_loss_share": w.complaint_witness_loss_share,
        "b2b_notice_months": months,
        "household": f"{w.household_follow_share:.0%} of the 90-day margin of the other active members of a "
                     "let-go customer's household is expected to follow them (what_if.household_follow_share)",
        "complaint_witness": f"{w.complaint_witness_loss_share:.0%} of the 90-day margin of profitable customers "
                             "with an open complaint, who would see others shown the door, is expected to be "
                             "lost (what_if.complaint_witness_loss_share)",
        "b2b_notice": f"business accounts leave {months} months after notice "
                      "(health.playbook.b2b_exit_notice_months; a month is 365/12 days), bringing and costing "
                      "meanwhile what they did over the last 90 days: that much of the first year's margin "
                      "change is delayed",
    }


def what_if(db: Statements, settings: Settings, filters: WhatIfFilters, points: int | None = None) -> dict[str, Any]:
    """The what-if document (JSON-ready): FIGURES at the top level, then the portfolio, whale curves,
    collateral damage, playbook status and the matched customers, ready and not ready."""
    params = filters.params() | {
        "household_follow_share": settings.what_if.household_follow_share,
        "complaint_witness_loss_share": settings.what_if.complaint_witness_loss_share,
        "notice_months": settings.health.playbook.b2b_exit_notice_months,
        "points": points or settings.what_if.whale_curve_points,
    }
    s = _records(db, "what_if/summary", params)[0]
    curves = _records(db, "what_if/whale_curves", params)
    customers = _records(db, "what_if/customers", params)
    collateral = _records(db, "what_if/collateral", params)
    said = assumptions(settings)

    def curve(name: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in p.items() if k != "curve"} for p in curves if p["curve"] == name]

    doc = {
        "filters": {"segments": list(filters.segments), "margin_below": s["margin_below"], "plan": filters.plan,
                    "kind": filters.kind},
        "currency": settings.health.currency,
        **{k: s[k] for k in FIGURES},
        "portfolio": {
            "customers_before": s["portfolio_customers_before"], "customers_after": s["portfolio_customers_after"],
            "margin_before_90d": s["portfolio_margin_before_90d"], "margin_after_90d": s["portfolio_margin_after_90d"],
            "top_30pct_margin_share_before": s["top_30pct_margin_share_before"],
            "top_30pct_margin_share_after": s["top_30pct_margin_share_after"],
        },
        "whale_curve_before": curve("before"),
        "whale_curve_after": curve("after"),
        "collateral": {
            "households": {
                "households_at_risk": s["households_at_risk"], "members_at_risk": s["household_members_at_risk"],
                "members_margin_90d": s["household_members_margin_90d"],
                "expected_margin_change_90d": s["household_margin_change_90d"],
                "assumption": said["household"], "follow_share": said["household_follow_share"],
                "members": [c for c in collateral if c["reason"] == "household"],
            },
            "complaint_witnesses": {
                "customers": s["complaint_witnesses"], "margin_90d": s["complaint_witnesses_margin_90d"],
                "expected_margin_change_90d": s["complaint_witness_margin_change_90d"],
                "assumption": said["complaint_witness"], "loss_share": said["complaint_witness_loss_share"],
                "list": [c for c in collateral if c["reason"] == "complaint_witness"],
            },
            "b2b_notice": {
                "accounts": s["b2b_accounts"], "accounts_with_delayed_saving": s["b2b_accounts_with_delayed_saving"],
                "notice_months": said["b2b_notice_months"],
                "delayed_margin_change": s["b2b_notice_delayed_margin_change"],
                "assumption": said["b2b_notice"],
            },
            "margin_change_with_collateral_90d": s["margin_change_with_collateral_90d"],
            "margin_change_first_year": s["margin_change_first_year"],
        },
        "playbook": _records(db, "what_if/playbook", params),
        "not_ready_customers": [c for c in customers if not c["ready"]],
        "ready_customers": [c for c in customers if c["ready"]],
    }
    return jsonable(doc)


def evidence_archive(
    db: Statements, settings: Settings, customer_ids: Sequence[str], as_of: datetime | None = None,
) -> bytes:
    """A zip of the evidence files (dossier HTML and Markdown, as `customer-health dossier` writes them)
    of ``customer_ids`` (``as_of``: the report time, default now)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for customer_id in customer_ids:
            data = dossier_data(db, settings, customer_id, as_of)
            stem = dossier_stem(data)
            archive.writestr(f"{stem}.html", render_html(data))
            archive.writestr(f"{stem}.md", render_markdown(data))
    return buffer.getvalue()
