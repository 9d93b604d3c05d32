"""The health_snapshots table: daily and segment-change snapshots, recent window.

Frame columns: sql/statements/quality/table_frame_health_snapshots.sql.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.common import add
from expectations.customer_health import SEGMENTS

NAME = "health_snapshots"


def build_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME)
    add(suite, gxe.ExpectColumnValuesToNotBeNull(column="customer_id"), critical=True)
    add(suite, gxe.ExpectColumnValuesToNotBeNull(column="snapshot_at"), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeBetween(column="health_score", min_value=0, max_value=100), critical=True)
    add(suite, gxe.ExpectColumnValuesToBeInSet(column="segment", value_set=SEGMENTS), critical=True)
    add(suite, gxe.ExpectCompoundColumnsToBeUnique(
        column_list=["customer_id", "snapshot_at"], description="one snapshot per customer and instant",
    ), critical=False)
    return suite
