"""The pipeline's plug-in protocol: what a part of the product declares to run inside the pipeline.

The core (ingest) knows no plug-in. A :class:`Plugin` names the data it reads and writes (tables) and
installs its hooks on the owner connection. :func:`order_plugins` runs every plug-in after the plug-ins that
write what it reads; :func:`assemble` combines their hooks in that order, so the order of the hooks follows
the declared data, never the order of a list.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import duckdb

from customer_health.config import Settings
from ingest.lake import LakeLog
from ingest.landing import BATCH_TABLES, BatchHook, BatchResult, IdleHook

# What the pipeline itself writes, so a plug-in may read it without a producer: the batch's checked rows
# (before_land hooks see them before they land) and the tables that landing fills.
PROVIDED_BY_INGEST = frozenset(BATCH_TABLES) | frozenset({
    "tickets", "payments", "visits", "customers", "customer_events", "dead_letter",
    "ingest_batches", "consumer_offsets", "consumer_lag", "pipeline_partitions", "customer_partitions",
})


@dataclass
class PipelineExtensions:
    """What plug-ins add to the pipeline (health refresh, churn, quality, alerts).

    ``before_land``/``after_land`` run inside each batch transaction; ``on_landed`` after its commit;
    ``when_idle`` in a transaction of its own when the pipeline had nothing to land for
    ``pipeline.idle_seconds`` (work a batch put off); ``on_tick`` on every poll-loop turn (scheduled jobs
    keep their own clocks); ``on_stop`` once when the pipeline stops, before the database is closed
    (background threads end there); ``on_lake`` once with the lake's log when ``store = "ducklake"``, before
    the first batch (plug-ins keeping state in the lake).
    """

    before_land: list[BatchHook] = field(default_factory=list)
    after_land: list[BatchHook] = field(default_factory=list)
    on_landed: list[Callable[[BatchResult], None]] = field(default_factory=list)
    when_idle: list[IdleHook] = field(default_factory=list)
    on_tick: list[Callable[[], None]] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    on_lake: list[Callable[[LakeLog], None]] = field(default_factory=list)

    def extend(self, other: PipelineExtensions) -> None:
        """Append ``other``'s hooks after this one's, phase by phase."""
        self.before_land.extend(other.before_land)
        self.after_land.extend(other.after_land)
        self.on_landed.extend(other.on_landed)
        self.when_idle.extend(other.when_idle)
        self.on_tick.extend(other.on_tick)
        self.on_stop.extend(other.on_stop)
        self.on_lake.extend(other.on_lake)


ExtensionFactory = Callable[[duckdb.DuckDBPyConnection, Settings], PipelineExtensions]


@dataclass(frozen=True)
class Plugin:
    """A part of the product that runs inside the pipeline (and ``load``).

    ``reads``: the tables its hooks read that the pipeline or another plug-in writes; ``writes``: the tables
    its hooks write. ``install`` creates its hooks on the owner connection.
    """

    name: str
    reads: frozenset[str]
    writes: frozenset[str]
    install: ExtensionFactory


class PluginOrderError(ValueError):
    """The plug-ins' declarations admit no order: a read nobody writes, or plug-ins that read each other."""


def order_plugins(plugins: Sequence[Plugin], provided: Iterable[str] = PROVIDED_BY_INGEST) -> list[Plugin]:
    """The plug-ins ordered so that each comes after every other plug-in writing a table it reads.

    Plug-ins the data does not order come by name, so the result never depends on the order given.
    Raises PluginOrderError for two plug-ins of one name, a read that neither ``provided`` nor a plug-in
    writes, or a cycle.
    """
    provided = frozenset(provided)
    by_name: dict[str, Plugin] = {}
    for plugin in plugins:
        if plugin.name in by_name:
            raise PluginOrderError(f"two plug-ins are named {plugin.name!r}")
        by_name[plugin.name] = plugin
    writers: dict[str, set[str]] = {}
    for plugin in plugins:
        for table in plugin.writes:
            writers.setdefault(table, set()).add(plugin.name)
    after: dict[str, set[str]] = {name: set() for name in by_name}  # plug-in -> plug-ins it must follow
    for plugin in plugins:
        for table in sorted(plugin.reads):
            producers = writers.get(table, set()) - {plugin.name}
            if not producers and table not in provided and table not in plugin.writes:
                raise PluginOrderError(
                    f"plug-in {plugin.name!r} reads {table!r}, which no plug-in writes and the pipeline does not "
                    f"provide (plug-ins: {', '.join(sorted(by_name))}): add its producer or drop the read"
                )
            after[plugin.name] |= producers
    waiting = {name: len(deps) for name, deps in after.items()}
    followers: dict[str, set[str]] = {name: set() for name in by_name}
    for name, deps in after.items():
        for dep in deps:
            followers[dep].add(name)
    ready = [name for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[Plugin] = []
    while ready:
        name = heapq.heappop(ready)
        ordered.append(by_name[name])
        for follower in followers[name]:
            waiting[follower] -= 1
            if waiting[follower] == 0:
                heapq.heappush(ready, follower)
    if len(ordered) < len(by_name):
        raise PluginOrderError(f"plug-ins read each other's tables in a cycle: {_cycle(after, by_name)}")
    return ordered


def _cycle(after: dict[str, set[str]], by_name: dict[str, Plugin]) -> str:
    """One cycle of the "must follow" graph, each step with the tables behind it."""
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(name: str) -> list[str] | None:
        path.append(name)
        on_path.add(name)
        for dep in sorted(after[name]):
            if dep in on_path:
                return path[path.index(dep):] + [dep]
            if dep not in done:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        on_path.discard(name)
        done.add(name)
        return None

    for start in sorted(after):
        if start not in done:
            cycle = visit(start)
            if cycle:
                steps = []
                for reader, writer in zip(cycle, cycle[1:], strict=False):
                    tables = sorted(by_name[reader].reads & by_name[writer].writes)
                    steps.append(f"{reader} reads {', '.join(tables)} written by {writer}")
                return "; ".join(steps)
    return ", ".join(sorted(after))


def assemble(
    plugins: Sequence[Plugin], con: duckdb.DuckDBPyConnection, settings: Settings,
    provided: Iterable[str] = PROVIDED_BY_INGEST,
) -> PipelineExtensions:
    """Install every plug-in on ``con`` in :func:`order_plugins` order; their hooks run in that order."""
    ext = PipelineExtensions()
    for plugin in order_plugins(plugins, provided):
        ext.extend(plugin.install(con, settings))
    return ext
