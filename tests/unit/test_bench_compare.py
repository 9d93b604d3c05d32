"""bench/compare_revs.py: figures of two trees matched line by line and compared as medians."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from compare_revs import figures, medians, side_by_side  # noqa: E402


def test_lines_of_the_same_shape_are_compared_by_their_medians() -> None:
    base = [figures("landing alone: 12.0 us per event\nbatches: 5"), figures("landing alone: 14.0 us per event")]
    new = [figures("landing alone: 26.0 us per event\nnew line: 3"), figures("landing alone: 26.0 us per event")]
    text = "\n".join(side_by_side(medians(base), medians(new)))
    assert "landing alone: # us per event\n    base: 13\n    new:  26\n    new/base: 2.00" in text
    assert "new line: #\n    new only: 3" in text
    assert "batches: #\n    base only: 5" in text


def test_repeated_lines_and_thousands_separators_are_kept_apart() -> None:
    parsed = figures("kpis 1,000 5.5 ms\nkpis 1,000 7 ms\nno figure here")
    assert parsed == {"kpis # # ms": [1000.0, 5.5], "kpis # # ms (2)": [1000.0, 7.0]}


def test_ratios_and_percentages_are_figures() -> None:
    parsed = figures("slowdown: 1.37x the landing path, +27% per batch")
    assert parsed == {"slowdown: #x the landing path, +#% per batch": [1.37, 27.0]}
