"""The `scale` profile's pipeline health check, run as docker would run it, against a real PostgreSQL catalog:
with the container's environment (only the catalog's address and the data path changed to this machine's),
it fails while the lake holds no pipelines' log and passes once a pipeline has created it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import yaml

from customer_health.config import load_settings
from customer_health.db import attach_lake
from ingest.lake import LakeLog
from tests.unit.test_compose import COMPOSE, container_environment

REPO = Path(__file__).resolve().parents[2]


def lake_pipeline() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["lake-pipeline"]


def run_healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    test = lake_pipeline()["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1] == "python"
    base = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_HEALTH_")}
    return subprocess.run([sys.executable, *test[2:]], env=base | env, cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_the_lake_pipeline_health_check_passes_only_once_the_lake_holds_the_pipelines_log(
        lake_catalog: str, tmp_path: Path) -> None:
    env = container_environment(lake_pipeline())
    # This machine's catalog and a directory instead of the compose network's PostgreSQL and MinIO; every
    # other variable (store, password variable, S3 options) as the container has it.
    env |= {"CUSTOMER_HEALTH_DUCKLAKE__CATALOG": lake_catalog,
            "CUSTOMER_HEALTH_DUCKLAKE__DATA_PATH": f"{tmp_path / 'lake'}/",
            "CUSTOMER_HEALTH_DUCKLAKE__PASSWORD": ""}
    settings = load_settings(None, env=env)
    assert settings.store == "ducklake"

    before = run_healthcheck(env)
    assert before.returncode != 0, "a lake without the pipelines' log is not healthy"

    con = duckdb.connect()
    attach_lake(con, settings)
    LakeLog(con, settings.kafka.group_id, "pipeline-under-test").ensure_log()
    con.close()
    after = run_healthcheck(env)
    assert after.returncode == 0, after.stderr


def test_the_lake_pipeline_health_check_fails_when_the_catalog_is_unreachable(tmp_path: Path) -> None:
    env = container_environment(lake_pipeline()) | {
        "CUSTOMER_HEALTH_DUCKLAKE__CATALOG": "postgres:dbname=health host=127.0.0.1 port=1 user=health",
        "CUSTOMER_HEALTH_DUCKLAKE__DATA_PATH": f"{tmp_path / 'lake'}/"}
    done = run_healthcheck(env)
    assert done.returncode != 0
    assert env["CUSTOMER_HEALTH_DUCKLAKE__PASSWORD"] not in done.stderr, "the password never appears in an error"


