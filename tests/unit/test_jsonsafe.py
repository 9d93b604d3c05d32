"""The one JSON-safe conversion (customer_health.jsonsafe) of values from DuckDB, pandas and numpy."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import numpy as np
import pandas as pd

from customer_health.jsonsafe import jsonable


def test_values_become_plain_json_types() -> None:
    value = {
        "at": datetime(2026, 11, 25, 10, 0, 5), "day": date(2026, 11, 25), "amount": Decimal("12.50"),
        "nan": math.nan, "inf": np.float64(math.inf), "n": np.int64(3), "ok": np.bool_(True),
        "nat": pd.NaT, "na": pd.NA, "ts": pd.Timestamp("2026-11-25 10:00"), "array": np.array([1.5, np.nan]),
        "tuple": (Decimal("1"), None), "id": UUID(int=1), 7: "key",
    }
    doc = jsonable(value)
    assert doc == {
        "at": "2026-11-25T10:00:05Z", "day": "2026-11-25", "amount": 12.5, "nan": None, "inf": None, "n": 3,
        "ok": True, "nat": None, "na": None, "ts": "2026-11-25T10:00:00Z", "array": [1.5, None],
        "tuple": [1.0, None], "id": "00000000-0000-0000-0000-000000000001", "7": "key",
    }
    assert type(doc["n"]) is int and type(doc["ok"]) is bool
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN, no unknown type


def test_frame_values_can_be_quoted_without_the_utc_z() -> None:
    assert jsonable([pd.Timestamp("2026-11-25 10:00"), datetime(2026, 1, 2)], utc_z=False) == [
        "2026-11-25T10:00:00", "2026-01-02T00:00:00"]
