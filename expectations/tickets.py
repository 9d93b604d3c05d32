"""Tickets: one row per support-ticket event (a landed batch's valid rows, or the stored table's window).

Frame columns: sql/statements/quality/batch_frame_tickets.sql and table_frame_tickets.sql.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.common import BOTH, add, param

NAME = "tickets"
ACTIONS = ["opened", "updated", "resolved", "reopened"]
CATEGORIES = ["how_to", "bug", "billing", "complaint", "compensation_request", "cancellation", "legal_threat", "other"]
CHANNELS = ["phone", "email", "chat", "in_person", "social"]


def build_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME)
    for column in ("event_id", "customer_id", "ticket_id"):
        add(suite, gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is present"),
            critical=True)
    add(suite, gxe.ExpectColumnValuesToBeUnique(column="event_id", description="one row per event"), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="action", value_set=ACTIONS), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="category", value_set=CATEGORIES), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=CHANNELS), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="handling_minutes", min_value=0, max_value=param("max_handling_minutes"),
        description="agent minutes per ticket event within [0, quality.max_handling_minutes]",
    ), critical=True, scopes=BOTH)
    for column in ("compensation_requested", "compensation_granted"):
        add(suite, gxe.ExpectColumnValuesToBeBetween(
            column=column, min_value=0, max_value=param("max_compensation"),
            description=f"{column} within [0, quality.max_compensation]",
        ), critical=True, scopes=BOTH)
    add(suite, gxe.ExpectColumnValuesToBeBetween(column="sentiment", min_value=-1, max_value=1), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="minutes_ahead_of_now", max_value=param("future_tolerance_minutes"),
        description="occurred_at not in the future beyond quality.future_tolerance_minutes (after the later of"
                    " the wall clock and the model's clock)",
    ), critical=True, scopes=BOTH)
    add(suite, gxe.ExpectColumnValuesToBeInSet(
        column="customer_status", value_set=["known", "awaiting_profile"],
        description="the customer has a profile within quality.customer_grace_minutes of landing",
    ), critical=False)
    return suite
