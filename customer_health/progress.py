"""Progress of long work (load, simulate, the benchmark suite) on the terminal, drawn by rich.

Shown only when the stream (stderr by default) is a terminal: piped or redirected output, logs and
tests see nothing of it. The last state stays on screen when the work ends.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

T = TypeVar("T")

# Redraws per second; also how often a per-item tracker hands its count to rich (seconds).
REFRESH_PER_SECOND = 4
_PUSH_INTERVAL_S = 1.0 / REFRESH_PER_SECOND


class _RateColumn(ProgressColumn):
    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} {self.unit}/s")


class Tracker:
    """Where long work reports how far it is: ``advance`` per item (cheap), ``update`` for totals."""

    def __init__(self, progress: Progress, task: Any) -> None:
        self._progress, self._task = progress, task
        self._pending = 0.0
        self._pushed_at = 0.0

    def advance(self, amount: float = 1) -> None:
        self._pending += amount
        now = time.monotonic()
        if now - self._pushed_at >= _PUSH_INTERVAL_S:
            self.flush(now)

    def update(self, completed: float | None = None, **fields: Any) -> None:
        """Set the amount done so far and the extra fields shown after it (``landed=...``)."""
        self.flush()
        details = "  ".join(f"{k.replace('_', '-')} {v:,}" if isinstance(v, int) else f"{k} {v}"
                            for k, v in fields.items())
        self._progress.update(self._task, completed=completed, details=details)

    def flush(self, now: float | None = None) -> None:
        if self._pending:
            self._progress.advance(self._task, self._pending)
            self._pending = 0.0
        self._pushed_at = time.monotonic() if now is None else now

    def track(self, items: Iterable[T]) -> Iterator[T]:
        """``items``, advancing by one per item."""
        for item in items:
            self.advance()
            yield item


@contextmanager
def progress(description: str, unit: str = "rows", total: float | None = None,
             stream: TextIO | None = None) -> Iterator[Tracker]:
    """A progress display for the work inside the ``with``; silent unless ``stream`` is a terminal."""
    stream = sys.stderr if stream is None else stream
    on_terminal = stream.isatty()
    columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    else:
        columns += [TextColumn("{task.completed:,.0f} " + unit)]
    # The details wrap within their column on a narrow terminal, so that the rate and time stay shown.
    columns += [_RateColumn(unit), TimeElapsedColumn(),
                TextColumn("{task.fields[details]}", table_column=Column(no_wrap=False))]
    console = Console(file=stream, force_terminal=on_terminal or None)
    bar = Progress(*columns, console=console, disable=not on_terminal, refresh_per_second=REFRESH_PER_SECOND)
    with bar, _logs_above(bar, stream, on_terminal):
        tracker = Tracker(bar, bar.add_task(description, total=total, details=""))
        try:
            yield tracker
        finally:
            tracker.flush()


class _AboveTheDisplay:
    """A stream whose every line rich prints above its display as it is: not wrapped (the terminal wraps it),
    no markup."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._partial = ""

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._console.out(line, highlight=False)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._console.out(self._partial, highlight=False)
            self._partial = ""


@contextmanager
def _logs_above(bar: Progress, stream: TextIO, on_terminal: bool) -> Iterator[None]:
    """While the display is drawn, log lines written to its stream are printed above it, each on a line of its
    own (not glued to the display's line): the logging handlers hold the stream itself, which rich's own
    redirection of ``sys.stderr`` does not reach."""
    handlers = [h for h in logging.getLogger().handlers
                if on_terminal and isinstance(h, logging.StreamHandler) and h.stream is stream]
    for handler in handlers:
        handler.setStream(_AboveTheDisplay(bar.console))  # type: ignore[arg-type]
    try:
        yield
    finally:
        for handler in handlers:
            handler.flush()
            handler.setStream(stream)
