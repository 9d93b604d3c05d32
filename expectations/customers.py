"""Customer profile events: one row per profile upsert (a landed batch's valid rows, or the stored
customer_events window).

Frame columns: sql/statements/quality/batch_frame_customers.sql and table_frame_customers.sql.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.common import BOTH, add, param

NAME = "customers"
KINDS = ["b2b", "b2c"]


def build_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME)
    for column in ("event_id", "customer_id", "name", "plan"):
        add(suite, gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is present"),
            critical=True)
    add(suite, gxe.ExpectColumnValuesToBeUnique(column="event_id", description="one row per event"), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=KINDS), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="minutes_ahead_of_now", max_value=param("future_tolerance_minutes"),
        description="occurred_at not in the future beyond quality.future_tolerance_minutes (after the later of"
                    " the wall clock and the model's clock)",
    ), critical=True, scopes=BOTH)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="signed_up_minutes_ahead_of_now", max_value=param("future_tolerance_minutes"),
        description="signed_up_at not in the future beyond quality.future_tolerance_minutes (after the later of"
                    " the wall clock and the model's clock)",
    ), critical=True, scopes=BOTH)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="cancelled_minutes_after_signup", min_value=0,
        description="cancelled_at, when set, is not before signed_up_at",
    ), critical=True, scopes=BOTH)
    return suite
