"""bench/quality_batch_cost.py --baseline-rev: a git revision measured beside the working tree in one run,
each in its own process importing its own code, and the temporary worktree gone afterwards."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def worktrees() -> list[str]:
    listed = subprocess.run(["git", "-C", str(REPO), "worktree", "list", "--porcelain"], capture_output=True,
                            text=True, check=True).stdout
    return [line.split(" ", 1)[1] for line in listed.splitlines() if line.startswith("worktree ")]


def test_a_baseline_revision_is_measured_beside_the_working_tree_and_its_worktree_removed() -> None:
    before = worktrees()
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "quality_batch_cost.py"), "--baseline-rev", "HEAD", "--rounds", "2",
         "--batches", "1", "--batch-size", "200"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    # Both sides ran twice, alternating, the baseline from a worktree of its own.
    rounds = re.findall(r"round (\d)/2: (old|new) \((.+)\) \.\.\.", done.stderr)
    assert [(r, side) for r, side, _ in rounds] == [("1", "old"), ("1", "new"), ("2", "new"), ("2", "old")]
    old_tree = {path for _, side, path in rounds if side == "old"}
    assert len(old_tree) == 1 and old_tree != {str(REPO)}
    out = done.stdout
    assert "2 rounds x 1 batches of 200 events (median per batch):" in out
    assert "baseline HEAD (old) vs working tree (new), 2 rounds alternating, 2 batches of 200 events each" in out
    for label in ("batch suites (GX validate)", "batch suites (GX validate), thread CPU",
                  "batch-suite hook CPU (frames, GX, records)",
                  "landing added by batch suites"):
        assert re.search(rf"  {re.escape(label)}: old [\d.]+ ms, new [\d.]+ ms, new/old [\d.]+ \(rounds ", out), out
    assert worktrees() == before
    assert not Path(old_tree.pop()).exists()
