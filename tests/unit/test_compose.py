"""docker-compose.yml and the Dockerfile, checked without Docker: structure, pinned images, health checks,
volumes, profiles, and that every command and environment variable they use exists in the project; the
`scale` profile's pipelines, dashboard, catalog and bucket agree on one lake and one consumer group, whose
secrets are in no file of the repository (lake.env, gitignored, after lake.env.example)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from customer_health.cli import build_parser
from customer_health.config import ENV_PREFIX, Settings, load_settings
from ingest.consumer import group_instance_id

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DEPLOYMENT_DOC = REPO / "docs" / "deployment.md"
LAKE_ENV = "lake.env"
# Optional for Compose (before 2.34 it read the env_file of services outside the active profiles too): the
# scale services' entrypoints refuse empty secrets themselves.
LAKE_ENV_FILE = [{"path": LAKE_ENV, "required": False}]
LAKE_ENV_EXAMPLE = REPO / "lake.env.example"
# Variable names that hold a secret: none of them may have a value (a default) written in the file.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|ROOT_USER|TOKEN")
FILE_SERVICES = ("pipeline", "dashboard", "simulator")
LAKE_SERVICES = ("lake-pipeline", "lake-dashboard")
APP_SERVICES = FILE_SERVICES + LAKE_SERVICES
SCALE_SERVICES = ("postgres", "minio", "lake-bucket", *LAKE_SERVICES)
# Jobs that run once and exit: no health check; their dependents wait for them to complete.
ONE_SHOT = ("lake-bucket",)
# ${VAR}, ${VAR:-default}, ${VAR-default}; $$ is a literal dollar.
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}")
PINNED_TAG = re.compile(r"^\d+\.\d+\.\d+(-[a-z0-9.-]+)?$")
# PostgreSQL numbers its releases major.minor; MinIO names them by their UTC time.
PINNED_POSTGRES = re.compile(r"^postgres:\d+\.\d+-bookworm$")
PINNED_MINIO = re.compile(r"^minio/(minio|mc):RELEASE\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$")


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


def lake_secrets() -> dict[str, str]:
    """lake.env as a user fills it in after lake.env.example: a distinct value per name."""
    names = [line.split("=", 1)[0] for line in LAKE_ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return {name: f"value-of-{name.lower()}" for name in names}


def container_environment(service: dict[str, Any]) -> dict[str, str]:
    """The variables a container gets: its env_file (lake.env, as lake_secrets fills it), then environment."""
    files = service.get("env_file") or []
    assert files in ([], LAKE_ENV_FILE), f"env_file {files}: only lake.env, optional"
    return (lake_secrets() if files else {}) | environment(service)


def entrypoint_assignments(service: dict[str, Any]) -> dict[str, str]:
    """NAME="$OTHER" assignments of a service's shell entrypoint, as NAME -> OTHER."""
    script = " ".join(service["entrypoint"]).replace("$$", "$")
    return dict(re.findall(r'(\w+)="\$(\w+)"', script))


def settings_of(service: dict[str, Any]) -> Settings:
    return load_settings(None, env=container_environment(service))


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


def test_the_file_defines_kafka_the_pipeline_the_dashboard_the_demo_simulator_and_the_lake(services: dict) -> None:
    assert set(services) == {"kafka", "pipeline", "dashboard", "simulator", *SCALE_SERVICES}


def test_every_image_is_pinned_to_a_release(services: dict) -> None:
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        pinned = PINNED_TAG.match(tag) or PINNED_POSTGRES.match(image) or PINNED_MINIO.match(image)
        assert repository and pinned, f"{name}: image {image!r} is not pinned to a version"
    assert re.fullmatch(r"apache/kafka:3\.9\.\d+", services["kafka"]["image"])
    assert PINNED_POSTGRES.match(services["postgres"]["image"])
    assert PINNED_MINIO.match(services["minio"]["image"]) and PINNED_MINIO.match(services["lake-bucket"]["image"])
    for name in LAKE_SERVICES:
        assert services[name]["image"] == services["pipeline"]["image"], f"{name} runs the product's image"


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
        if name in ONE_SHOT:
            assert "healthcheck" not in service and service["restart"] == "no", f"{name} runs once and exits"
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check["test"][0] in ("CMD", "CMD-SHELL"), name
        for key in ("interval", "timeout", "retries", "start_period"):
            assert key in check, f"{name}: healthcheck without {key}"
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            wanted = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert condition["condition"] == wanted, f"{name} -> {dependency}"
    assert set(services["pipeline"]["depends_on"]) == {"kafka"}
    assert set(services["dashboard"]["depends_on"]) == {"pipeline"}
    assert set(services["simulator"]["depends_on"]) == {"kafka", "pipeline"}
    assert set(services["lake-bucket"]["depends_on"]) == {"minio"}
    assert set(services["lake-pipeline"]["depends_on"]) == {"kafka", "postgres", "lake-bucket"}
    # The dashboard starts once a pipeline has created the lake's tables.
    assert set(services["lake-dashboard"]["depends_on"]) == {"postgres", "lake-bucket", "lake-pipeline"}


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
    pgdata = Path(environment(services["postgres"])["PGDATA"])
    assert Path(mounts["postgres"]["lake-catalog"]) in pgdata.parents, "the catalog lives in its volume"
    assert services["minio"]["entrypoint"][-1].endswith(f"minio server {mounts['minio']['lake-objects']}"), \
        "the bucket lives in its volume"
    for name in LAKE_SERVICES:
        assert name not in mounts, f"{name}: the lake holds the data, the container none (replicas share nothing)"


def test_the_simulator_runs_only_in_the_demo_profile_and_the_lake_only_in_the_scale_profile(services: dict) -> None:
    assert services["simulator"]["profiles"] == ["demo"]
    for name in SCALE_SERVICES:
        assert services[name]["profiles"] == ["scale"], name
    default = [n for n, s in services.items() if "profiles" not in s]
    assert sorted(default) == ["dashboard", "kafka", "pipeline"], "the default profile is Kafka and the file store"


# --- what the file uses exists in the project ------------------------------------------------------------


def test_every_command_is_a_customer_health_command_line(services: dict) -> None:
    known = subcommands()
    for name in APP_SERVICES:
        argv = [interpolate(a) for a in services[name]["command"]]
        assert argv[0] in known, f"{name}: `customer-health {argv[0]}` does not exist"
        parses(argv)
    for name, service in services.items():
        if name in ONE_SHOT:
            continue
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
        assert settings.store == ("ducklake" if name in LAKE_SERVICES else "duckdb"), name
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


# --- the `scale` profile: one lake, one consumer group ---------------------------------------------------


def test_the_lake_services_attach_the_catalog_in_the_postgres_service_with_its_password(services: dict) -> None:
    postgres = environment(services["postgres"])
    (password_from,) = [v for k, v in entrypoint_assignments(services["postgres"]).items() if k == "POSTGRES_PASSWORD"]
    postgres["POSTGRES_PASSWORD"] = container_environment(services["postgres"])[password_from]
    assert entrypoint_assignments(services["postgres"]) == {"POSTGRES_PASSWORD": "CUSTOMER_HEALTH_DUCKLAKE__PASSWORD"}
    assert services["postgres"]["entrypoint"][-1].endswith("exec docker-entrypoint.sh postgres"), \
        "the image's own entrypoint starts the server"
    for name in LAKE_SERVICES:
        lake = settings_of(services[name]).ducklake
        kind, _, conninfo = lake.catalog.partition(":")
        assert kind == "postgres", f"{name}: the catalog is a PostgreSQL database"
        params = dict(item.split("=", 1) for item in conninfo.split())
        assert params["host"] == "postgres" and params["port"] == "5432", name
        assert params["dbname"] == postgres["POSTGRES_DB"] and params["user"] == postgres["POSTGRES_USER"], name
        assert "password" not in params, f"{name}: the password comes from CUSTOMER_HEALTH_DUCKLAKE__PASSWORD"
        assert lake.password.get_secret_value() == postgres["POSTGRES_PASSWORD"], name
        assert "CUSTOMER_HEALTH_DUCKLAKE__PASSWORD" not in environment(services[name]), f"{name}: from lake.env"


def test_the_lake_services_write_to_the_bucket_the_one_shot_job_creates_on_minio(services: dict) -> None:
    minio_env = container_environment(services["minio"])
    minio = {k: minio_env[v] for k, v in entrypoint_assignments(services["minio"]).items()}
    assert set(minio) == {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
    assert services["minio"]["entrypoint"][-1].endswith("exec /usr/bin/docker-entrypoint.sh minio server /data")
    job = services["lake-bucket"]
    job_env = container_environment(job)
    script = interpolate(" ".join(job["command"]))
    (alias,) = re.findall(r'mc alias set (\S+) (\S+) "\$(\w+)" "\$(\w+)"', script)
    name, url, key_from, secret_from = alias
    assert f"mc mb --ignore-existing \"{name}/$LAKE_BUCKET\"" in script, "the job creates the bucket, idempotently"
    endpoint = urlsplit(url)
    assert endpoint.hostname == "minio" and endpoint.scheme == "http"
    assert job_env[key_from] == minio["MINIO_ROOT_USER"]
    assert job_env[secret_from] == minio["MINIO_ROOT_PASSWORD"]
    for service in LAKE_SERVICES:
        lake = settings_of(services[service]).ducklake
        data = urlsplit(lake.data_path)
        assert data.scheme == "s3" and data.netloc == job_env["LAKE_BUCKET"], f"{service}: {lake.data_path}"
        assert lake.data_path.endswith("/"), "DuckLake's data path is a prefix"
        assert lake.s3_endpoint == f"{endpoint.hostname}:{endpoint.port}", service
        assert lake.s3_use_ssl is (endpoint.scheme == "https"), service
        assert lake.s3_url_style == "path", f"{service}: MinIO is addressed by path, not by virtual host"
        assert lake.s3_access_key_id == minio["MINIO_ROOT_USER"], service
        assert lake.s3_secret_access_key.get_secret_value() == minio["MINIO_ROOT_PASSWORD"], service


def test_the_pipeline_replicas_share_one_consumer_group_apart_from_the_file_pipeline(services: dict) -> None:
    service = services["lake-pipeline"]
    replicas = int(interpolate(service["deploy"]["replicas"]))
    assert replicas == 3
    assert "ports" not in service and "hostname" not in service and "container_name" not in service, \
        "replicas of one service cannot share a published port, a host name or a container name"
    settings = settings_of(service)
    assert settings.kafka.group_id != settings_of(services["pipeline"]).kafka.group_id, \
        "the file pipeline, when it runs too, must not take partitions from the lake's pipelines"
    assert settings.kafka.partitions >= replicas, "a pipeline beyond the partition count has nothing to land"
    # Every replica is one service, so one group id; and each a dynamic member: one configured static id
    # would be every replica's, and two live members with one id fence each other.
    assert not settings.kafka.group_instance_id
    assert group_instance_id(settings) is None


def test_the_lake_dashboard_reads_the_lake_the_pipelines_write(services: dict) -> None:
    dashboard, pipeline = services["lake-dashboard"], services["lake-pipeline"]
    reads, writes = settings_of(dashboard), settings_of(pipeline)
    assert reads.store == writes.store == "ducklake"
    assert reads.ducklake == writes.ducklake, "one lake: the same catalog, data path and S3 settings"
    assert "network_mode" not in dashboard and "pid" not in dashboard, \
        "it attaches the lake itself, not a pipeline's Quack server"
    assert reads.dashboard.host == "0.0.0.0"
    (published,) = [interpolate(p) for p in dashboard["ports"]]
    bind, host_port, container_port = published.rsplit(":", 2)
    assert bind == "127.0.0.1" and int(container_port) == reads.dashboard.port
    file_ports = [interpolate(p).rsplit(":", 2)[1] for p in services["pipeline"]["ports"]]
    assert host_port not in file_ports, "both dashboards can run side by side"
    assert f"127.0.0.1:{reads.dashboard.port}/_stcore/health" in " ".join(dashboard["healthcheck"]["test"])


def test_the_catalog_and_the_bucket_are_not_published(services: dict) -> None:
    for name in ("postgres", "minio", "lake-bucket"):
        assert "ports" not in services[name], f"{name} is reached on the compose network only"


def test_no_secret_is_written_in_the_file_and_the_scale_profile_reads_its_own_from_a_gitignored_lake_env(
    services: dict,
) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for match in INTERPOLATION.finditer(text.replace("$$", "\0")):
        if SECRET_NAME.search(match.group(1)):
            assert not match.group(3), f"${{{match.group(1)}}} has a default secret in docker-compose.yml"
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET_NAME.search(key):
                assert value == "", f"{name}: {key} has a value written in docker-compose.yml"
    for name in SCALE_SERVICES:
        assert services[name].get("env_file") == LAKE_ENV_FILE, f"{name} reads the lake's secrets from {LAKE_ENV}"
    for name in ("pipeline", "dashboard", "simulator", "kafka"):
        assert "env_file" not in services[name], f"{name}: the default profile needs no lake.env"
    gitignored = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert LAKE_ENV in gitignored, "lake.env is never committed"
    assert LAKE_ENV in (REPO / ".dockerignore").read_text(encoding="utf-8").split(), "nor built into the image"
    example = [line for line in LAKE_ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    assert example and all(line.endswith("=") for line in example), "the example holds names, no values"
    secrets = lake_secrets()
    lake = load_settings(None, env=secrets | {"CUSTOMER_HEALTH_STORE": "ducklake"}).ducklake
    assert {lake.password.get_secret_value(), lake.s3_access_key_id, lake.s3_secret_access_key.get_secret_value()} \
        == set(secrets.values()), "every name of lake.env is a lake secret the settings read"
    assert f"`{LAKE_ENV}`" in DEPLOYMENT_DOC.read_text(encoding="utf-8"), "docs/deployment.md describes lake.env"
