"""The pipeline's static group membership id (kafka.static_membership, kafka.group_instance_id)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from customer_health.config import Settings
from ingest.consumer import group_instance_id


def settings(db_path: Path, **kafka: object) -> Settings:
    return Settings(db_path=db_path).with_overrides(**{f"kafka__{k}": v for k, v in kafka.items()})


def test_the_member_id_is_stable_per_host_and_database_and_valid_for_kafka(tmp_path: Path) -> None:
    first = group_instance_id(settings(tmp_path / "a.duckdb"))
    assert first is not None
    assert first == group_instance_id(settings(tmp_path / "sub" / ".." / "a.duckdb"))  # the same file: same member
    assert first != group_instance_id(settings(tmp_path / "b.duckdb"))  # another pipeline: another member
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())
    assert first.startswith(f"customer-health-{host[:100]}-")
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,249}", first)  # what Kafka and kafka-python accept


def test_an_explicit_id_wins_and_static_membership_can_be_turned_off(tmp_path: Path) -> None:
    assert group_instance_id(settings(tmp_path / "a.duckdb", group_instance_id="pipeline-eu-1")) == "pipeline-eu-1"
    assert group_instance_id(settings(tmp_path / "a.duckdb", static_membership=False)) is None
