"""Helpers shared by the suite modules: where an expectation applies and how bad its failure is."""

from __future__ import annotations

from collections.abc import Iterable

import great_expectations as gx
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity

BATCH = "batch"
TABLE = "table"
BOTH = (BATCH, TABLE)


def add(
    suite: gx.ExpectationSuite,
    expectation: Expectation,
    *,
    critical: bool,
    scopes: Iterable[str] = (TABLE,),
) -> None:
    """Add ``expectation`` to ``suite``, critical (fails `check`, quarantines batch rows) or a warning.

    ``scopes``: ``batch`` (every landed batch, before landing) and/or ``table`` (stored tables).
    """
    expectation.severity = FailureSeverity.CRITICAL if critical else FailureSeverity.WARNING
    expectation.meta = {**(expectation.meta or {}), "scopes": list(scopes)}
    suite.add_expectation(expectation)


def param(name: str) -> dict[str, str]:
    """A suite parameter, filled in at validation time from the settings (see expectations.parameters)."""
    return {"$PARAMETER": name}
