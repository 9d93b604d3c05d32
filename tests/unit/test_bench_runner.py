"""bench/run_all.py: figures become table rows, options a benchmark lacks are not passed, and a missing or
failing benchmark is listed instead of stopping the suite."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("run_all", REPO / "bench" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module
    spec.loader.exec_module(module)
    return module


def test_label_value_lines_become_measure_and_result(run_all) -> None:
    rows = run_all.figures("produce rate:    43,943 events/s\n\nno label here\nlatency at 1,000/s: p50 9 ms\n")
    assert rows == [("produce rate", "43,943 events/s"), ("", "no label here"), ("latency at 1,000/s", "p50 9 ms")]


def test_only_the_options_a_benchmark_offers_are_passed(run_all, tmp_path: Path) -> None:
    script = tmp_path / "fake.py"
    script.write_text("import argparse\np = argparse.ArgumentParser()\np.add_argument('--events', nargs='+')\n"
                      "p.add_argument('--db')\np.parse_args()\n")
    wanted = ("--customers", "10", "--events", "100", "1000", "--db", "x.duckdb", "--dbx", "y")
    assert run_all.supported(script, wanted) == ["--events", "100", "1000", "--db", "x.duckdb"]


def test_missing_and_failing_benchmarks_are_listed_in_the_table(run_all, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(run_all, "BENCH", tmp_path)
    (tmp_path / "good.py").write_text("print('rate: 5 events/s')\n")
    (tmp_path / "bad.py").write_text("import sys\nprint('half: 1')\nsys.exit('broke here')\n")
    outcomes = [run_all.run(run_all.Benchmark(n, "test"), False, 60, tmp_path) for n in ("good", "bad", "gone")]
    assert [o.status for o in outcomes] == ["ok", "failed", "missing"]
    text = run_all.table(outcomes, markdown=True)
    assert "| rate | 5 events/s |" in text and "FAILED | exit 1: broke here" in text and "MISSING" in text
