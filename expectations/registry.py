"""The suites, by kind. (Not in __init__: an editable install made before this package existed
imports it as a namespace package, without running __init__.)"""

# Suites validating landed events, per event type: batch and table scope.
EVENT_SUITES: tuple[str, ...] = ("tickets", "payments", "visits", "customers")
# Suites of derived and pipeline-level tables: table scope only.
DERIVED_SUITES: tuple[str, ...] = ("customer_health", "health_snapshots", "topics")
SUITES: tuple[str, ...] = EVENT_SUITES + DERIVED_SUITES
