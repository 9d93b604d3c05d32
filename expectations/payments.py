"""Payments: one row per payment event (a landed batch's valid rows, or the stored table's window).

Frame columns: sql/statements/quality/batch_frame_payments.sql and table_frame_payments.sql.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.common import BOTH, add, param

NAME = "payments"
KINDS = ["charge", "refund", "chargeback", "credit"]
STATUSES = ["succeeded", "failed", "pending"]


def build_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME)
    for column in ("event_id", "customer_id", "invoice_id"):
        add(suite, gxe.ExpectColumnValuesToNotBeNull(column=column, description=f"{column} is present"),
            critical=True)
    add(suite, gxe.ExpectColumnValuesToBeUnique(column="event_id", description="one row per event"), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=KINDS), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="status", value_set=STATUSES), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(
        column="currency", value_set=param("currencies"), description="an active ISO 4217 code",
    ), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="amount", min_value=0, strict_min=True, max_value=param("max_amount"),
        description="amount in (0, quality.max_amount] currency units",
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
