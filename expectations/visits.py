"""Visits: one row per visit (session) event (a landed batch's valid rows, or the stored table's window).

Frame columns: sql/statements/quality/batch_frame_visits.sql and table_frame_visits.sql.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.common import BOTH, add, param

NAME = "visits"
CHANNELS = ["web", "app", "store", "phone"]


def build_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME)
    for column in ("event_id", "customer_id", "session_id"):
        add(suite, gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is present"),
            critical=True)
    add(suite, gxe.ExpectColumnValuesToBeUnique(column="event_id", description="one row per event"), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=CHANNELS), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="duration_seconds", min_value=0, max_value=param("max_visit_seconds"),
        description="visit duration within [0, quality.max_visit_seconds] seconds",
    ), critical=True, scopes=BOTH)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="pages", min_value=0, max_value=param("max_pages"),
        description="pages within [0, quality.max_pages]",
    ), critical=True, scopes=BOTH)
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
