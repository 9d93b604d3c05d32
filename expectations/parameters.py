"""Suite parameters (``{"$PARAMETER": name}`` in the suites), filled in from the settings at validation."""

from __future__ import annotations

from typing import Any

from customer_health.config import QualitySettings


def suite_parameters(quality: QualitySettings, currencies: list[str]) -> dict[str, Any]:
    """Every parameter any suite uses; GX takes the ones a suite needs."""
    params: dict[str, Any] = {
        "future_tolerance_minutes": quality.future_tolerance_minutes,
        "max_amount": quality.max_amount,
        "max_compensation": quality.max_compensation,
        "max_handling_minutes": quality.max_handling_minutes,
        "max_visit_seconds": quality.max_visit_seconds,
        "max_pages": quality.max_pages,
        "currencies": list(currencies),
    }
    return params
