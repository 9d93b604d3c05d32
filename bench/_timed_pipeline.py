"""Runs ``customer-health`` (argv[2:]) with every ``Statements.run`` timed; on exit writes, as JSON to the file
argv[1], each statement's calls, wall and CPU seconds, and the same for the steady phase alone (the calls after the
file argv[1] + ".mark" appears), so that a benchmark sees where a separate pipeline process spends its time."""

from __future__ import annotations

import atexit
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _statement_clock import StatementClock  # noqa: E402

from customer_health import sqlfiles  # noqa: E402
from customer_health.cli import main  # noqa: E402

OUT = Path(sys.argv[1])
MARK = OUT.with_name(OUT.name + ".mark")
spent: dict[str, dict[str, list[float]]] = {"all": {}, "steady": {}}
_checked = [0.0, False]  # last look at the mark (monotonic), whether it exists


def record(name: str, wall: float, cpu: float) -> None:
    now = time.monotonic()
    if not _checked[1] and now - _checked[0] > 0.5:
        _checked[0], _checked[1] = now, MARK.exists()
    for phase in ("all", "steady") if _checked[1] else ("all",):
        calls, w, c = spent[phase].get(name, [0, 0.0, 0.0])
        spent[phase][name] = [calls + 1, w + wall, c + cpu]


def _count_prepares() -> None:
    """Every statement prepared (planned) counts as a call of ``(prepare) name``."""
    prepare = sqlfiles.Statements._prepare

    def counted(statements: sqlfiles.Statements, name: str) -> str:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return prepare(statements, name)
        finally:
            record(f"(prepare) {name}", time.perf_counter() - wall, time.process_time() - cpu)

    sqlfiles.Statements._prepare = counted  # type: ignore[method-assign,assignment]


def _count_forgetting() -> None:
    """Every ``check_catalog`` that forgot the prepared statements (a catalog change, or their age) counts as a
    call of ``(forget) check_catalog``."""
    check = sqlfiles.Statements.check_catalog

    def counted(statements: sqlfiles.Statements) -> bool:
        wall, cpu = time.perf_counter(), time.process_time()
        forgot = check(statements)
        if forgot:
            record("(forget) check_catalog", time.perf_counter() - wall, time.process_time() - cpu)
        return forgot

    sqlfiles.Statements.check_catalog = counted  # type: ignore[method-assign,assignment]


_count_prepares()
_count_forgetting()
atexit.register(lambda: OUT.write_text(json.dumps(spent), encoding="utf-8"))
with StatementClock(record):
    code = main(sys.argv[2:])
sys.exit(code)
