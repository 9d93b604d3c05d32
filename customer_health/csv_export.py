"""CSV files that are safe to open in a spreadsheet: every CSV the product writes goes through here.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``). As
OWASP recommends, such cells are written with a leading single quote, which the spreadsheet shows as
text. Numeric, boolean and time columns are written as they are: a negative number stays a number.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """``value`` with a leading single quote when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot start a formula."""
    out = df.copy()
    for column in out.columns:
        series = out[column]
        if (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
                or pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series)):
            continue
        out[column] = series.map(neutralise_cell, na_action="ignore")
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """``df`` as UTF-8 CSV without the index, formula-leading text neutralised.

    Rows end in CRLF (RFC 4180), so that a carriage return inside a cell is quoted, not a row break.
    """
    return neutralise_formulas(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8")
