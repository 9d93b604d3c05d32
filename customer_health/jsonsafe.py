"""The one conversion of values from DuckDB, pandas and numpy into plain JSON types."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any, *, utc_z: bool = True) -> Any:
    """``value`` as plain JSON types: decimals and numpy numbers as numbers, NaN/NaT/NA as null, mappings and
    sequences element by element, anything else unknown as its ``str``.

    Times are naive UTC throughout the project; they become ISO 8601, with a 'Z' unless ``utc_z`` is False
    (a frame's values quoted as they are, e.g. in the failing rows of a suite). Dates become YYYY-MM-DD.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, datetime):  # pd.Timestamp included
        return value.isoformat() + ("Z" if utc_z and value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, utc_z=utc_z) for k, v in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [jsonable(v, utc_z=utc_z) for v in value]
    return str(value)
