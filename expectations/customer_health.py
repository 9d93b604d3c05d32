"""The customer_health table (the health model): one current row per customer.

Frame columns: sql/statements/quality/table_frame_customer_health.sql.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from customer_health import vocabulary
from expectations.common import add

NAME = "customer_health"
SEGMENTS = list(vocabulary.SEGMENTS)
NEXT_STEPS = list(vocabulary.NEXT_STEPS)
DRIFT_TARGETS = ["unprofitable", "terrorist"]
COMPONENTS = ["engagement", "payment_behaviour", "support_burden", "complaint_behaviour", "profitability"]


def build_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME)
    add(suite, gxe.ExpectColumnValuesToNotBeNull(column="customer_id"), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeUnique(column="customer_id", description="one health row per customer"),
        critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(
        column="has_health_row", value_set=[True], description="every customer with a profile has a health row",
    ), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(column="health_score", min_value=0, max_value=100), critical=True)
    for component in COMPONENTS:
        add(suite, gxe.ExpectColumnValuesToBeBetween(column=component, min_value=0, max_value=100), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="segment", value_set=SEGMENTS), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="next_step", value_set=NEXT_STEPS), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="drifting_toward", value_set=DRIFT_TARGETS), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(
        column="cost_to_serve_90d", min_value=0, description="cost to serve is never negative (currency units)",
    ), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(column="support_minutes_90d", min_value=0), critical=False)
    return suite
