"""The dashboard's "Download CSV" files cannot carry spreadsheet formulas (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pandas as pd

from dashboard.ui import csv_bytes

HOSTILE = ["=cmd|' /C calc'!A0", "@SUM(1)", "+1+1", '=HYPERLINK("http://x","y")', "-2+3", "\tTAB", "\rCR"]


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_formula_leading_text_cells_are_quoted_and_numbers_stay_numbers() -> None:
    n = len(HOSTILE)
    df = pd.DataFrame({
        "name": HOSTILE,
        "margin_90d": [-12.5] * n,
        "visits_90d": [-1] * n,
        "note": ["plain text"] * n,
    })
    header, *rows = _rows(csv_bytes(df))
    assert header == ["name", "margin_90d", "visits_90d", "note"]
    assert [r[0] for r in rows] == ["'" + v for v in HOSTILE]
    assert all(r[1] == "-12.5" and r[2] == "-1" and r[3] == "plain text" for r in rows)


def test_object_columns_with_missing_values_and_hostile_headers() -> None:
    df = pd.DataFrame({"=1+1": ["ok", None], "id": ["c-1", "=2"]})
    header, *rows = _rows(csv_bytes(df))
    assert header == ["'=1+1", "id"]
    assert rows == [["ok", "c-1"], ["", "'=2"]]


def test_a_carriage_return_inside_a_cell_does_not_split_the_row() -> None:
    header, *rows = _rows(csv_bytes(pd.DataFrame({"note": ["one\rtwo", "three\nfour"], "n": [1, 2]})))
    assert rows == [["one\rtwo", "1"], ["three\nfour", "2"]]
