"""docker-compose.yml and the Dockerfile, checked without Docker: structure, pinned images, health checks,
volumes, profiles, and that every command and environment variable they use exists in the project."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from customer_health.cli import build_parser
from customer_health.config import ENV_PREFIX, load_settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DEPLOYMENT_DOC = REPO / "docs" / "deployment.md"
APP_SERVICES = ("pipeline", "dashboard", "simulator")
# ${VAR}, ${VAR:-default}, ${VAR-default}; $$ is a literal dollar.
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")
PINNED_TAG = re.compile(r"^\d+\.\d+\.\d+(-[a-z0-9.-]+)?$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def interpolate(value: Any) -> str:
    """A compose value as `docker compose` would see it with no variables set (defaults applied)."""
    text = str(value)

    def default(match: re.Match[str]) -> str:
        if match.group(2) is None:
            raise AssertionError(f"${{{match.group(1)}}} has no default in docker-compose.yml")
        return match.group(3)

    return INTERPOLATION.sub(default, text.replace("$$", "\0")).replace("\0", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: interpolate(v) for k, v in env.items()}


def subcommands() -> set[str]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if a.dest == "command"]
    return set(action.choices)


def parses(argv: list[str]) -> None:
    """The arguments are a valid `customer-health` command line (argparse exits 2 otherwise)."""
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"`customer-health {' '.join(argv)}` is not a valid command line") from exc


# --- structure ------------------------------------------------------------------------------------------


def test_the_file_defines_kafka_the_pipeline_the_dashboard_and_the_demo_simulator(services: dict) -> None:
    assert set(services) == {"kafka", "pipeline", "dashboard", "simulator"}


def test_every_image_is_pinned_to_a_release(services: dict) -> None:
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and PINNED_TAG.match(tag), f"{name}: image {image!r} is not pinned to a version"
    assert re.fullmatch(r"apache/kafka:3\.9\.\d+", services["kafka"]["image"])


def test_the_app_image_is_built_from_a_pinned_base_and_runs_the_cli(services: dict) -> None:
    for name in APP_SERVICES:
        assert services[name].get("build") in (".", {"context": "."}), name
    text = DOCKERFILE.read_text(encoding="utf-8")
    (base,) = re.findall(r"^FROM\s+(\S+)", text, flags=re.M)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base), f"unpinned base image {base}"
    assert re.search(r'^ENTRYPOINT \["customer-health"\]', text, flags=re.M)
    (cmd,) = re.findall(r"^CMD (\[.*\])", text, flags=re.M)
    parses(yaml.safe_load(cmd))
    assert re.search(r"^USER app$", text, flags=re.M), "the image runs as an unprivileged user"


def test_the_dockerfile_copies_what_exists_and_leaves_local_state_out() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    for source in re.findall(r"^COPY\s+(.+?)\s+\S+$", text, flags=re.M):
        for path in source.split():
            assert (REPO / path).exists(), f"Dockerfile copies {path}, which does not exist"
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".venv", "data", ".git", "*.duckdb", "*.token"):
        assert entry in ignored, f".dockerignore must leave out {entry}"


def test_kafka_runs_in_kraft_mode_as_a_single_node(services: dict) -> None:
    env = environment(services["kafka"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("ZOOKEEPER" in key for key in env)
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@kafka:")
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"):
        assert env[key] == "1", key
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    listeners = dict(item.split("://", 1) for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    bootstrap = environment(services["pipeline"])["KAFKA_BOOTSTRAP_SERVERS"]
    assert listeners["PLAINTEXT"] == bootstrap, "the app connects to the listener advertised to containers"
    assert env["CLUSTER_ID"], "KRaft storage is formatted with a fixed cluster id"


def test_every_service_has_a_health_check_and_waits_for_healthy_dependencies(services: dict) -> None:
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check["test"][0] in ("CMD", "CMD-SHELL"), name
        for key in ("interval", "timeout", "retries", "start_period"):
            assert key in check, f"{name}: healthcheck without {key}"
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert condition["condition"] == "service_healthy", f"{name} -> {dependency}"
    assert set(services["pipeline"]["depends_on"]) == {"kafka"}
    assert set(services["dashboard"]["depends_on"]) == {"pipeline"}
    assert set(services["simulator"]["depends_on"]) == {"kafka", "pipeline"}


def test_the_database_lives_in_a_named_volume_shared_by_the_readers(compose: dict, services: dict) -> None:
    declared = set(compose["volumes"])
    used: set[str] = set()
    mounts: dict[str, dict[str, str]] = {}
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert source in declared, f"{name}: {source} is not a named volume"
            used.add(source)
            mounts.setdefault(name, {})[source] = target
    assert used == declared, "every declared volume is used"
    for name in ("pipeline", "dashboard"):
        db_path = Path(environment(services[name])["CUSTOMER_HEALTH_DB_PATH"])
        assert mounts[name]["health-data"] == str(db_path.parent), name
    assert mounts["kafka"]["kafka-data"] == environment(services["kafka"])["KAFKA_LOG_DIRS"]
    assert "health-data" not in mounts["simulator"], "the simulator only talks to Kafka"


def test_the_simulator_runs_only_in_the_demo_profile(services: dict) -> None:
    assert services["simulator"]["profiles"] == ["demo"]
    assert all("profiles" not in s for n, s in services.items() if n != "simulator")


# --- what the file uses exists in the project ------------------------------------------------------------


def test_every_command_is_a_customer_health_command_line(services: dict) -> None:
    known = subcommands()
    for name in APP_SERVICES:
        argv = [interpolate(a) for a in services[name]["command"]]
        assert argv[0] in known, f"{name}: `customer-health {argv[0]}` does not exist"
        parses(argv)
    for name, service in services.items():
        test = service["healthcheck"]["test"]
        words = test[1:] if test[0] == "CMD" else shlex.split(test[1])
        if words[0] == "customer-health":
            assert words[1] in known, f"{name}: health check runs an unknown command {words[1]}"
            parses(words[1:])


def test_every_app_environment_variable_is_read_by_the_settings(services: dict) -> None:
    for name in APP_SERVICES:
        env = environment(services[name])
        for key in env:
            assert key == "KAFKA_BOOTSTRAP_SERVERS" or key.startswith(ENV_PREFIX), f"{name}: {key} is not ours"
        settings = load_settings(None, env=env)  # raises on any CUSTOMER_HEALTH_* variable it does not know
        assert settings.kafka.bootstrap_servers == env["KAFKA_BOOTSTRAP_SERVERS"]
        assert str(settings.db_path) == env["CUSTOMER_HEALTH_DB_PATH"]
        assert settings.kafka.security_protocol == env["CUSTOMER_HEALTH_KAFKA__SECURITY_PROTOCOL"]
    dockerfile_env = dict(re.findall(r"^ENV (CUSTOMER_HEALTH_\w+)=(\S+)$", DOCKERFILE.read_text(), flags=re.M))
    assert dockerfile_env and load_settings(None, env=dockerfile_env)


def test_every_variable_the_file_interpolates_has_a_default_and_is_documented(compose: dict) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    names = {m.group(1) for m in INTERPOLATION.finditer(text)}
    assert names, "the file is configurable by environment"
    interpolate(text)  # raises for a variable without a default
    doc = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert not missing, f"docs/deployment.md does not describe {missing}"


def test_the_dashboard_reaches_the_pipeline_on_loopback_only(services: dict) -> None:
    dashboard, pipeline = services["dashboard"], services["pipeline"]
    assert dashboard["network_mode"] == "service:pipeline" and dashboard["pid"] == "service:pipeline"
    assert "ports" not in dashboard, "a service in another's network namespace publishes through it"
    dash = load_settings(None, env=environment(dashboard)).dashboard
    assert dash.host == "0.0.0.0"
    published = [interpolate(p) for p in pipeline["ports"]]
    assert any(p.endswith(f":{dash.port}") for p in published), published
    assert f"127.0.0.1:{dash.port}/_stcore/health" in " ".join(dashboard["healthcheck"]["test"])
    quack = load_settings(None, env=environment(pipeline)).quack
    assert quack.host == "127.0.0.1", "the database is served on the pipeline's loopback only"
    assert not any(p.endswith(f":{quack.port}") for p in published), "the Quack port is never published"
