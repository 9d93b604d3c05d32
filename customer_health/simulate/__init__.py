"""Simulator of customer-health events (contract v1): a seeded population of archetypes that emits
customer profiles, support tickets, payments and visits, as a history backfill or a live stream.

Public API: :class:`SimulationSettings`, :class:`SimEvent`, :func:`generate_history`,
:func:`generate_live`, :func:`generate_world`, :func:`write_jsonl`, :func:`produce`, and :func:`build_population`
for the ground truth (each customer's archetype) behind the events.
"""

from .history import generate_history
from .live import generate_live
from .population import Customer, build_population
from .settings import ARCHETYPES, TOPICS, SimEvent, SimulationSettings
from .sinks import produce, write_jsonl
from .world import generate_world

__all__ = [
    "ARCHETYPES",
    "TOPICS",
    "Customer",
    "SimEvent",
    "SimulationSettings",
    "build_population",
    "generate_history",
    "generate_live",
    "generate_world",
    "produce",
    "write_jsonl",
]
