"""Validate dataframes against the suites with Great Expectations, through its public API only.

GX is imported once per process, on first use (``get_runner()``), never at module import: the CLI
stays quick for commands that do not validate. One ephemeral context holds one pandas datasource and a
whole-dataframe batch definition; progress bars are off. Each suite, restricted to one scope and with its
parameters set, is built once; each frame becomes one batch of the columns its suite's expectations
name, validated with ``Batch.validate``. A lock serialises validations (the pipeline validates batches on
its landing thread and tables on its scheduler thread).
"""

from __future__ import annotations

import copy
import importlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from customer_health.jsonsafe import jsonable as to_jsonable
from expectations.registry import SUITES

_runner: SuiteRunner | None = None
_runner_lock = threading.Lock()
_BOUND_SUITES_KEPT = 32  # suites with their parameters set, per runner (one per suite and scope in a pipeline)


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation on one frame."""

    expectation: str  # type(columns), e.g. "expect_column_values_to_be_between(amount)"
    expectation_type: str
    column: str | None
    description: str | None
    critical: bool
    success: bool
    element_count: int | None
    unexpected_count: int | None
    observed_value: Any  # JSON-ready
    failing_positions: tuple[int, ...]  # positions (0-based) in the frame of every failing row
    failing_sample: list[dict[str, Any]]  # JSON-ready, at most the runner's sample size
    error: str | None

    def row_reason(self, row: Mapping[str, Any]) -> str:
        """Why one failing row failed: the expectation and the offending values."""
        columns = [c for c in _columns_of(self.expectation) if c in row]
        values = ", ".join(f"{c}={jsonable(row[c])!r}" for c in columns)
        return f"{self.expectation}: {values}" if values else self.expectation


@dataclass(frozen=True)
class SuiteResult:
    """One validation of one suite on one frame."""

    suite: str
    scope: str
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if o.critical and not o.success]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def success(self) -> bool:
        """No critical expectation failed (warnings do not count)."""
        return not self.critical_failures

    def outcome(self, expectation: str) -> ExpectationOutcome:
        found = [o for o in self.outcomes if o.expectation == expectation]
        if not found:
            raise KeyError(f"{self.suite}: no expectation {expectation!r}")
        return found[0]


class SuiteRunner:
    """Validates frames; one instance per process (``get_runner()``)."""

    def __init__(self, sample_rows: int = 10) -> None:
        # GX logs hundreds of INFO lines while importing; keep its warnings only.
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        # Great Expectations takes seconds to import: it loads with the first runner (the pipeline makes it
        # while the consumer joins its group), not with this module.
        import great_expectations as gx
        from great_expectations.data_context.types import base
        config = base.DataContextConfig(
            store_backend_defaults=base.InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=base.ProgressBarsConfig(globally=False, metric_calculations=False),
        )
        self._context = gx.get_context(project_config=config, mode="ephemeral")
        asset = self._context.data_sources.add_pandas("quality").add_dataframe_asset("frames")
        self._batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
        self._suites: dict[tuple[str, str], Any] = {}
        self._columns: dict[tuple[str, str], list[str] | None] = {}
        self._bound: dict[tuple[str, str, str], Any] = {}  # (suite, scope, parameters as JSON), oldest first
        self._lock = threading.Lock()
        self.sample_rows = sample_rows

    def suite(self, name: str, scope: str) -> Any:
        """The suite ``expectations/<name>.py`` restricted to the expectations of ``scope`` (its parameters
        unset: each validation runs a copy with them set)."""
        key = (name, scope)
        if key not in self._suites:
            suite = self._scoped_suite(name, scope)
            self._columns[key] = _columns_named(suite)
            self._suites[key] = self._context.suites.add(suite)
        return self._suites[key]

    def _scoped_suite(self, name: str, scope: str) -> Any:
        """A new copy of the suite of ``scope``, its expectations without ``meta`` (the scopes they were chosen
        by): GX rebuilds an expectation's configuration from all its fields dozens of times per validation."""
        if name not in SUITES:
            raise KeyError(f"unknown suite {name!r} (suites: {', '.join(SUITES)})")
        suite = importlib.import_module(f"expectations.{name}").build_suite()
        for expectation in list(suite.expectations):
            if scope not in (expectation.meta or {}).get("scopes", ()):
                suite.expectations.remove(expectation)
            else:
                expectation.meta = None
        suite.name = f"{name}.{scope}"
        return suite

    def _bound_suite(self, name: str, scope: str, parameters: Mapping[str, Any]) -> Any:
        """The suite of ``scope`` with its ``$PARAMETER`` values set from ``parameters`` (as GX would set them
        at each validation; one missing from ``parameters`` is left for GX to report)."""
        key = (name, scope, json.dumps(parameters, sort_keys=True, default=repr))
        bound = self._bound.get(key)
        if bound is None:
            self.suite(name, scope)
            bound = self._scoped_suite(name, scope)
            for expectation in bound.expectations:
                for field_name, value in expectation.dict(exclude_defaults=True).items():
                    if isinstance(value, dict) and value.get("$PARAMETER") in parameters:
                        setattr(expectation, field_name, copy.deepcopy(parameters[value["$PARAMETER"]]))
            while len(self._bound) >= _BOUND_SUITES_KEPT:
                self._bound.pop(next(iter(self._bound)))
            self._bound[key] = bound
        return bound

    def validate(
        self,
        name: str,
        scope: str,
        frame: pd.DataFrame,
        parameters: Mapping[str, Any] | None = None,
        quick_pass: bool = False,
    ) -> SuiteResult:
        """Validate the whole ``frame`` against suite ``name`` in ``scope``; never raises for bad data.

        ``quick_pass``: first validate for pass/fail only (about half the cost) and return that when every
        expectation passed; otherwise validate again for the details (observed values, failing rows).
        """
        frame = frame.reset_index(drop=True)
        started = time.perf_counter()
        with self._lock:
            values = dict(parameters or {})
            suite = self._bound_suite(name, scope, values)
            columns = self._columns[(name, scope)]
            # Only the columns the expectations read: GX fingerprints every column each time it builds a batch.
            data = frame if columns is None else frame[[c for c in columns if c in frame.columns]]
            results = None
            if quick_pass:
                quick = self._batch_definition.get_batch(batch_parameters={"dataframe": _numpy_numbers(data)})
                results = quick.validate(suite, result_format="BOOLEAN_ONLY", expectation_parameters=values).results
            if results is None or not all(r.success for r in results):
                # The details (failing values, samples) from the frame as it is.
                batch = self._batch_definition.get_batch(batch_parameters={"dataframe": data})
                details = {"result_format": "COMPLETE", "partial_unexpected_count": self.sample_rows}
                results = batch.validate(suite, result_format=details, expectation_parameters=values).results
        outcomes = sorted((self._outcome(r, frame) for r in results), key=lambda o: o.expectation)
        return SuiteResult(name, scope, len(frame), outcomes, (time.perf_counter() - started) * 1000)

    def _outcome(self, validation: Any, frame: pd.DataFrame) -> ExpectationOutcome:
        config = validation.expectation_config
        kwargs = config.kwargs
        columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k) is not None]
        columns += list(kwargs.get("column_list") or [])
        res = validation.result or {}
        positions = tuple(int(i) for i in res.get("unexpected_index_list") or () if _is_position(i))
        sample = [{str(c): jsonable(v) for c, v in frame.iloc[p].items()} for p in positions[: self.sample_rows]]
        if "observed_value" in res:
            observed = jsonable(res["observed_value"])
        elif res:
            observed = {
                "unexpected_count": res.get("unexpected_count"),
                "unexpected_percent": jsonable(res.get("unexpected_percent")),
                "examples": jsonable((res.get("partial_unexpected_list") or [])[:5]),
            }
        else:
            observed = None
        severity = getattr(config.severity, "value", config.severity)
        return ExpectationOutcome(
            expectation=f"{config.type}({', '.join(columns)})",
            expectation_type=config.type,
            column=columns[0] if columns else None,
            description=config.description,
            critical=severity == "critical",
            success=bool(validation.success),
            element_count=res.get("element_count"),
            unexpected_count=res.get("unexpected_count"),
            observed_value=observed,
            failing_positions=positions,
            failing_sample=sample,
            error=_exception_message(validation.exception_info),
        )


def get_runner(sample_rows: int = 10) -> SuiteRunner:
    """The process's runner, created (and GX imported) on first call."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = SuiteRunner(sample_rows)
        _runner.sample_rows = sample_rows
        return _runner


# Magnitudes every float64 holds exactly.
_EXACT_IN_FLOAT = 2**53


def _numpy_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its integer columns as numpy int64 or float64 (NaN for a null), for a pass/fail run: GX
    compares numpy int64/float64 columns at once but other integer columns (int32; pandas' nullable Int32, as
    DuckDB gives an integer column holding a null) value by value in Python, about a second per million rows.
    Same outcome: only integers that float64 holds exactly are converted, nulls stay nulls."""
    converted = {}
    for column in frame.columns:
        dtype = frame[column].dtype
        if not pd.api.types.is_integer_dtype(dtype) or dtype in (np.int64, np.uint64):
            continue
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            converted[column] = frame[column].astype(np.int64)  # int8 to int32, uint8 to uint32: exact
        elif frame[column].isna().all() or frame[column].abs().max() < _EXACT_IN_FLOAT:
            converted[column] = frame[column].astype(np.float64)
    return frame.assign(**converted) if converted else frame


def _is_position(value: Any) -> bool:
    return isinstance(value, int | np.integer)


def _columns_named(suite: Any) -> list[str] | None:
    """The columns the suite's expectations read, or None when one may read others (a table-level
    expectation, a row condition): then the batch keeps every column."""
    columns: list[str] = []
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        named = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k) is not None]
        named += list(kwargs.get("column_list") or [])
        if not named or kwargs.get("row_condition"):
            return None
        columns += named
    return list(dict.fromkeys(columns))


def _columns_of(expectation: str) -> list[str]:
    inside = expectation[expectation.find("(") + 1: expectation.rfind(")")]
    return [c.strip() for c in inside.split(",") if c.strip()]


def _exception_message(info: Any) -> str | None:
    if not info:
        return None
    candidates = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for item in candidates:
        if item.get("raised_exception") or item.get("exception_message"):
            message = str(item.get("exception_message") or "exception while evaluating")
            return message.splitlines()[0][:500]
    return None


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types, times quoted as the frame holds them (no 'Z')."""
    return to_jsonable(value, utc_z=False)


def to_json(value: Any) -> str:
    return json.dumps(jsonable(value))
