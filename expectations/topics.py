"""Per topic (event type): freshness of the newest event and volume against its trailing average.

Both are measures of event time (occurred_at), taken at the model's now: the wall clock, or with
``[clock] source = "events"`` the latest event time landed (a topic that falls silent while the others go
on ages on the model's clock). Whether anything lands at all is a wall-clock fact: the pipeline/staleness
alert (customer_health.alerts.sources) measures it.

One row per topic. Frame columns: sql/statements/quality/table_frame_topics.sql, plus max_age_minutes
from quality.freshness_max_age_minutes.
"""

from __future__ import annotations

import great_expectations as gx
import great_expectations.expectations as gxe

from expectations.common import add

NAME = "topics"


def build_suite() -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=NAME)
    add(suite, gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="max_age_minutes", column_B="last_event_age_minutes", or_equal=True,
        ignore_row_if="either_value_is_missing",
        description="freshness: the newest event (by occurred_at) is younger than quality.freshness_max_age_minutes"
                    " at the model's now (event age, on the model's clock; a topic that never had an event is"
                    " not judged)",
    ), critical=True)
    add(suite, gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="recent_events", column_B="volume_lower_bound", or_equal=True,
        ignore_row_if="either_value_is_missing",
        description="volume: events in the last window >= trailing average / quality.volume_band (windows of"
                    " event time, ending at the model's now)",
    ), critical=False)
    add(suite, gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="volume_upper_bound", column_B="recent_events", or_equal=True,
        ignore_row_if="either_value_is_missing",
        description="volume: events in the last window <= trailing average * quality.volume_band (windows of"
                    " event time, ending at the model's now)",
    ), critical=False)
    return suite
