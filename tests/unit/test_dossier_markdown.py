"""The Markdown evidence file shows customer-supplied values as text: no raw HTML, no Markdown markup."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from customer_health.health.dossier import render_html, render_markdown

HOSTILE_NAME = "<script>alert(1)</script>"


def dossier_data(name: str, note: str, detail: str) -> dict[str, Any]:
    as_of = datetime(2026, 3, 1, 12, 0)
    return {
        "as_of": as_of,
        "since": datetime(2025, 3, 1),
        "customer": {
            "customer_id": "c-1", "name": name, "currency": "EUR", "as_of": "2026-03-01T12:00:00Z",
            "window_start": "2025-12-01T00:00:00Z", "segment": "at_risk", "segment_reason": "score below 50",
            "next_step": "educate", "next_step_reason": "how-to tickets", "components": {"engagement": 40.0},
            "moved": {"engagement": -5.0}, "complaints_90d": 4,
        },
        "interventions": [{"tried_at": "2026-02-01T10:00:00Z", "step": "educate", "recorded_by": "alice",
                           "note": note}],
        "support_months": [],
        "timeline": [{"occurred_at": datetime(2026, 2, 2), "source": "tickets", "reference": "T-1", "kind": "complaint",
                      "detail": detail, "support_minutes": 5.0, "amount": None, "currency": None, "evidence": True}],
    }


def test_html_and_markdown_control_characters_in_values_are_escaped() -> None:
    md = render_markdown(dossier_data(HOSTILE_NAME, "see [here](http://evil) **now** | x", "<img src=x onerror=1>"))
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "\\[here\\](http://evil) \\*\\*now\\*\\* \\| x" in md
    assert "| Complaints | 4 |" in md


def test_a_newline_in_a_value_cannot_end_the_table_row() -> None:
    md = render_markdown(dossier_data("Ann", "first line\n# Heading\n<b>bold</b>", "ok"))
    assert "\n# Heading" not in md and "<b>" not in md
    note_row = next(line for line in md.splitlines() if "first line" in line)
    assert note_row.startswith("| ") and note_row.endswith(" |") and "&lt;b&gt;bold&lt;/b&gt;" in note_row


def test_the_html_file_keeps_escaping_the_name() -> None:
    page = render_html(dossier_data(HOSTILE_NAME, "note", "detail"))
    assert "<script>" not in page and "&lt;script&gt;" in page
