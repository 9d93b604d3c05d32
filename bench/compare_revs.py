"""Run one benchmark on an earlier revision and on the working tree, alternating, and print both side by side.

    .venv/bin/python bench/compare_revs.py --rev d7655b9 [--rounds 2] -- landing_cost --events 100000

The revision is checked out in a temporary `git worktree` (removed at the end) and runs its own copy of
`bench/<name>.py` with the same arguments, on the same machine, in turns with the working tree (base, new,
base, new, ...), so that the load of a shared machine falls on both alike. Every line a benchmark prints is
matched with the line of the same shape (its text with the numbers left out) in the other's output; each
figure is the median over the rounds, and `new/base` is the ratio of the two medians.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# A figure: digits not inside a name; it may carry a ratio "x" or "%" right after it ("1.37x", "27%").
_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?=x\b|%|(?![\w.]))")

Figures = dict[str, list[float]]


def figures(output: str) -> Figures:
    """The numbers of each printed line, keyed by the line's shape (repeated shapes numbered in order)."""
    seen: dict[str, int] = defaultdict(int)
    result: Figures = {}
    for line in output.splitlines():
        numbers = [float(n.replace(",", "")) for n in _NUMBER.findall(line)]
        if not numbers:
            continue
        shape = " ".join(_NUMBER.sub("#", line).split())
        seen[shape] += 1
        result[shape if seen[shape] == 1 else f"{shape} ({seen[shape]})"] = numbers
    return result


def run(tree: Path, name: str, args: list[str], timeout: float) -> str:
    proc = subprocess.run(
        [sys.executable, str(tree / "bench" / f"{name}.py"), *args],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"compare_revs: {name} failed in {tree} (exit {proc.returncode}): {tail[0]}")
    return proc.stdout


def medians(runs: list[Figures]) -> Figures:
    merged: dict[str, list[list[float]]] = defaultdict(list)
    for one in runs:
        for shape, numbers in one.items():
            merged[shape].append(numbers)
    return {
        shape: [statistics.median(column) for column in zip(*rows, strict=False)]
        for shape, rows in merged.items()
        if len({len(r) for r in rows}) == 1
    }


def side_by_side(base: Figures, new: Figures) -> list[str]:
    lines = []
    for shape, new_numbers in new.items():
        base_numbers = base.get(shape)
        if base_numbers is None or len(base_numbers) != len(new_numbers):
            lines.append(f"{shape}\n    new only: {_fmt(new_numbers)}")
            continue
        ratios = [f"{n / b:.2f}" if b else "-" for b, n in zip(base_numbers, new_numbers, strict=True)]
        lines.append(f"{shape}\n    base: {_fmt(base_numbers)}\n    new:  {_fmt(new_numbers)}\n"
                     f"    new/base: {' '.join(ratios)}")
    lines.extend(f"{shape}\n    base only: {_fmt(numbers)}" for shape, numbers in base.items() if shape not in new)
    return lines


def _fmt(numbers: list[float]) -> str:
    return " ".join(f"{n:,.6g}" for n in numbers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the earlier revision (a commit, tag or branch)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each tree, alternating (default 2)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one run may take")
    parser.add_argument("bench", help="the benchmark's name, bench/<name>.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments, after --")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    bench_args = args.args[1:] if args.args[:1] == ["--"] else args.args
    with tempfile.TemporaryDirectory(prefix="customer-health-rev-") as tmp:
        base_tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(base_tree), args.rev],
                       check=True)
        try:
            base_runs, new_runs = [], []
            for round_ in range(1, args.rounds + 1):
                print(f"round {round_} of {args.rounds}: {args.rev} ...", file=sys.stderr, flush=True)
                base_runs.append(figures(run(base_tree, args.bench, bench_args, args.timeout)))
                print(f"round {round_} of {args.rounds}: working tree ...", file=sys.stderr, flush=True)
                new_runs.append(figures(run(REPO, args.bench, bench_args, args.timeout)))
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)], check=False)
    print(f"bench/{args.bench}.py {' '.join(bench_args)}: base {args.rev} against the working tree, "
          f"medians of {args.rounds} alternating runs each")
    print("\n".join(side_by_side(medians(base_runs), medians(new_runs))))


if __name__ == "__main__":
    main()
