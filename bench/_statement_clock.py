"""Where a benchmark's time goes, statement by statement: every ``sqlfiles.Statements.run`` call timed by name."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from customer_health import sqlfiles

# (statement name, wall seconds, CPU seconds of every thread of this process) of one call
Record = Callable[[str, float, float], None]


class StatementClock:
    """While entered, every ``Statements.run`` call is handed to ``record`` (None: not counted). It wraps whatever
    runs statements when entered: a clock entered inside another leaves the outer one counting too."""

    def __init__(self, record: Record | None = None) -> None:
        self.record = record
        self._run: Any = None  # what ran statements before __enter__, restored by __exit__

    def __enter__(self) -> StatementClock:
        self._run = original = sqlfiles.Statements.run

        def timed(statements: Any, name: str, params: Any = None) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(statements, name, params)
            finally:
                if self.record is not None:
                    self.record(name, time.perf_counter() - wall, time.process_time() - cpu)

        sqlfiles.Statements.run = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        sqlfiles.Statements.run = self._run  # type: ignore[method-assign]


def summed(spent: dict[str, tuple[float, float]]) -> Record:
    """A record adding each call's (wall, CPU) seconds into ``spent[name]``."""

    def add(name: str, wall: float, cpu: float) -> None:
        wall0, cpu0 = spent.get(name, (0.0, 0.0))
        spent[name] = (wall0 + wall, cpu0 + cpu)

    return add
