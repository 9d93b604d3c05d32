"""`customer-health backtest` as a subprocess on a database built through the lander: its JSON document
and its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.health_world import World
from tests.unit.test_backtest import HORIZON, T, world  # noqa: F401 (the hand-built world fixture)

KEYS = ("as_of", "horizon_days", "horizon_end", "customers", "churn", "unprofitability", "churn_model",
        "suggested_weights")
CHURN_KEYS = ("customers", "churned", "cancelled", "silent", "churn_rate", "with_baseline", "churn_auc",
              "churn_auc_cancelled", "churn_auc_silent", "at_risk", "roc")


def run(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "customer_health.cli", "backtest", "--db", str(db), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_backtest_json_has_the_documented_keys_and_figures(world: World) -> None:  # noqa: F811
    db = world.settings.db_path
    world.close()
    done = run(db, "--as-of", f"{T:%Y-%m-%dT%H:%M:%SZ}", "--horizon-days", str(HORIZON), "--json",
               "--suggest-weights")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert tuple(doc) == KEYS and tuple(doc["churn"]) == CHURN_KEYS
    assert (doc["customers"], doc["churn"]["churned"], doc["unprofitability"]["unprofitable"]) == (10, 2, 1)
    assert set(doc["churn"]["at_risk"]) == {"flagged", "flagged_and_happened", "precision", "recall", "lift"}
    assert {"expected_transactions", "actual_transactions", "by_frequency", "fit"} <= set(doc["churn_model"])
    assert doc["suggested_weights"]["applied"] is False
    text = run(db, "--as-of", f"{T:%Y-%m-%dT%H:%M:%SZ}", "--horizon-days", str(HORIZON))
    assert text.returncode == 0 and "churn_auc" in text.stdout and "2 of 4 active customers" in text.stdout
    assert "note: only 0 of them had a usual visit rate at T" in text.stdout


def test_backtest_errors_are_one_line(world: World) -> None:  # noqa: F811
    db = world.settings.db_path
    world.close()
    for args, says in ((("--horizon-days", "30"), "at least 31 days"),
                       (("--as-of", f"{T:%Y-%m-%d}", "--horizon-days", "60"), "leaves less than 60 days"),
                       (("--as-of", "soon"), "is not a date or time"),
                       (("--horizon-days", "two"), "invalid int value")):
        done = run(db, *args)
        assert done.returncode != 0 and done.stdout == ""
        assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr, done.stderr
