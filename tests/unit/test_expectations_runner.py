"""The runner uses Great Expectations through its public API only: nothing of GX is replaced while it
validates (not even for a moment), and no private GX module or name is imported."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd
import pytest

from expectations.runner import get_runner

EXPECTATIONS = Path(__file__).resolve().parents[2] / "expectations"
TICKET_LIMITS = {"future_tolerance_minutes": 10, "max_handling_minutes": 1440, "max_compensation": 1e5}


def test_no_attribute_of_great_expectations_classes_changes_during_a_validation() -> None:
    from great_expectations.datasource.fluent.interfaces import Batch
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.validator.v1_validator import Validator
    from great_expectations.validator.validator import Validator as LegacyValidator

    watched = [Expectation, Batch, Validator, LegacyValidator]
    before = {(cls, name): value for cls in watched for name, value in vars(cls).items()}
    seen: set[Any] = set()
    changed: list[str] = []

    def compare(frame: FrameType, event: str, arg: Any) -> None:
        # Compared at the first call of every GX function: a replacement made and undone inside the
        # validation is seen too.
        if event != "call" or frame.f_code in seen or "great_expectations" not in frame.f_code.co_filename:
            return
        seen.add(frame.f_code)
        now = {(cls, name): value for cls in watched for name, value in vars(cls).items()}
        changed.extend(f"{cls.__name__}.{name} (in {frame.f_code.co_name})"
                       for (cls, name), value in now.items() if before.get((cls, name)) is not value)

    frame = pd.DataFrame({"ordinal": [0, 1], "event_id": ["e0", "e1"], "customer_id": ["c0", "c1"],
                          "handling_minutes": [3.0, -1.0], "compensation_requested": [None, None],
                          "compensation_granted": [None, None], "minutes_ahead_of_now": [-1.0, -2.0]})
    runner = get_runner()
    runner.suite("tickets", "batch")  # built before watching: the suites are made once per process
    sys.setprofile(compare)
    try:
        result = runner.validate("tickets", "batch", frame, TICKET_LIMITS, quick_pass=True)
    finally:
        sys.setprofile(None)
    assert {o.expectation for o in result.failures} == {"expect_column_values_to_be_between(handling_minutes)"}
    assert len(seen) > 100  # the validation did run through GX while watched
    assert changed == []


def gx_imports(path: Path) -> list[str]:
    """Every GX module and name ``path`` imports (``import``, ``from ... import``, importlib literals)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [f"{node.module}.{a.name}" for a in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append(node.args[0].value)
    return [name for name in found if name.split(".")[0] == "great_expectations"]


def test_the_suites_and_the_runner_import_no_private_great_expectations_name() -> None:
    imports = {path.name: gx_imports(path) for path in sorted(EXPECTATIONS.glob("*.py"))}
    assert imports["runner.py"] and imports["common.py"]  # the check reads real imports
    private = [(file, name) for file, names in imports.items() for name in names
               if any(part.startswith("_") for part in name.split("."))]
    assert private == []


def test_each_validation_uses_its_own_parameters_and_a_missing_one_is_named() -> None:
    frame = pd.DataFrame({"ordinal": [0, 1], "event_id": ["e0", "e1"], "customer_id": ["c0", "c1"],
                          "handling_minutes": [3.0, 500.0], "compensation_requested": [None, None],
                          "compensation_granted": [None, None], "minutes_ahead_of_now": [-1.0, -2.0]})
    runner = get_runner()
    expectation = "expect_column_values_to_be_between(handling_minutes)"
    for limit, failing in ((1440, ()), (100, (1,)), (1440, ()), (2, (1, 0)), (100, (1,))):
        result = runner.validate("tickets", "batch", frame, {**TICKET_LIMITS, "max_handling_minutes": limit},
                                 quick_pass=True)
        assert sorted(result.outcome(expectation).failing_positions) == sorted(failing), limit
    without = {k: v for k, v in TICKET_LIMITS.items() if k != "max_handling_minutes"}
    with pytest.raises(Exception, match=r"No value found for \$PARAMETER max_handling_minutes"):
        runner.validate("tickets", "batch", frame, without)


@pytest.mark.parametrize("dtype", ["int32", "Int32", "int16", "Int64"])
def test_integer_columns_of_any_dtype_pass_and_fail_as_int64_does(dtype: str) -> None:
    """The quick pass/fail run validates integer columns as numpy numbers (runner._numpy_numbers): the outcome,
    the failing rows and their values are those of the frame as given, nulls included."""
    limits = {"future_tolerance_minutes": 10, "max_visit_seconds": 86_400.0, "max_pages": 10_000}
    pages: list[int | None] = [3, 10_000, 0] if dtype.islower() else [3, None, 10_000]
    frame = pd.DataFrame({"ordinal": [0, 1, 2], "event_id": ["e0", "e1", "e2"], "customer_id": ["c0", "c1", "c2"],
                          "session_id": ["s0", "s1", "s2"], "duration_seconds": [1.0, 2.0, 3.0],
                          "pages": pd.array(pages, dtype=dtype), "minutes_ahead_of_now": [-1.0, -1.0, -1.0]})
    runner = get_runner()
    assert runner.validate("visits", "batch", frame, limits, quick_pass=True).success
    frame.loc[2, "pages"] = 10_001
    result = runner.validate("visits", "batch", frame, limits, quick_pass=True)
    failed = result.outcome("expect_column_values_to_be_between(pages)")
    assert not result.success and failed.failing_positions == (2,)
    assert failed.row_reason(frame.iloc[2]) == "expect_column_values_to_be_between(pages): pages=10001"
