"""docker-compose.yml cannot run here (no Docker engine); these checks keep it in step with the Procfile.

Every Procfile process is a compose service running the same command (compose writes ``$`` as
``$$``), each service has a migration step its processes wait for, HTTP processes have health
checks, the gateway waits for every API, and PostgreSQL gets a database per service.
"""

from __future__ import annotations

import re

import pytest
import yaml

from shared.migrations import SERVICES

from .stack import REPO_ROOT, is_http, parse_procfile, service_of

COMPOSE = REPO_ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def procfile() -> dict:
    return parse_procfile()


def shell_command(service: dict) -> str:
    """The command a compose service runs, as the shell will see it."""
    command = service["command"]
    if isinstance(command, list):
        assert command[:2] == ["sh", "-c"] and len(command) == 3, command
        command = command[2]
    return command.replace("$$", "$")


def test_every_procfile_process_runs_in_compose_with_the_same_command(compose, procfile):
    services = compose["services"]
    missing = sorted(set(procfile) - set(services))
    assert not missing, f"Procfile processes missing from docker-compose.yml: {missing}"
    for name, command in procfile.items():
        assert shell_command(services[name]) == command, name


def test_compose_commands_have_no_unescaped_interpolation(compose, procfile):
    for name in procfile:
        raw = compose["services"][name]["command"][2]
        assert not re.search(r"(?<!\$)\$\{", raw), f"{name}: compose would interpolate {raw!r} on the host"


def test_a_migration_step_per_service_that_its_processes_wait_for(compose, procfile):
    services = compose["services"]
    for service in SERVICES:
        step = services[f"migrate-{service}"]
        assert step["command"] == ["python", "-m", "shared.migrations", service]
        assert step["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert step.get("restart") == "no"
    for name in procfile:
        depends = services[name]["depends_on"]
        assert depends[f"migrate-{service_of(name)}"]["condition"] == "service_completed_successfully", name
        assert depends["rabbitmq"]["condition"] == "service_healthy", name


def test_health_checks_and_the_gateway_waits_for_every_api(compose, procfile):
    services = compose["services"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "rabbitmq-diagnostics" in services["rabbitmq"]["healthcheck"]["test"]
    assert services["rabbitmq"]["image"].startswith("rabbitmq:") and "management" in services["rabbitmq"]["image"]
    for name, command in procfile.items():
        if is_http(command):
            assert "/readyz" in " ".join(services[name]["healthcheck"]["test"]), name
        else:  # relays and workers: the liveness file their loops touch
            assert services[name]["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "shared.liveness"], name
    apis = [name for name, command in procfile.items() if is_http(command) and name != "gateway"]
    for api in apis:
        assert services["gateway"]["depends_on"][api]["condition"] == "service_healthy", api
    assert "8000:8000" in services["gateway"]["ports"]


def test_every_dependency_names_a_service(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"


def test_processes_find_each_other_and_the_servers_by_compose_name(compose, procfile):
    env = compose["services"]["gateway"]["environment"]
    assert env["BIND_HOST"] == "0.0.0.0"
    assert "@rabbitmq:5672" in env["AMQP_URL"] and "@postgres:5432/" in env["DATABASE_URL"]
    for service in SERVICES[1:]:
        assert env[f"{service.upper()}_URL"].startswith(f"http://{service}-api:")


def test_postgres_gets_a_database_per_service(compose):
    database = compose["services"]["postgres"]["environment"]["POSTGRES_DB"]
    init = (REPO_ROOT / "docker" / "postgres-init.sql").read_text()
    mounted = " ".join(compose["services"]["postgres"]["volumes"])
    assert "./docker/postgres-init.sql:/docker-entrypoint-initdb.d/" in mounted
    for service in SERVICES:
        assert f"CREATE DATABASE {database}_{service};" in init


def test_the_image_runs_the_code_the_commands_name():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    for path in ("shared/", "gateway/", "services/", "gunicorn.conf.py"):
        assert path in dockerfile


def test_no_default_secret_no_extra_port_and_pinned_images(compose):
    raw = COMPOSE.read_text()
    for variable in (
        "ADMIN_PASSWORD",
        "POSTGRES_PASSWORD",
        "RABBITMQ_PASSWORD",
        "JWT_PRIVATE_KEY_FILE",
        "JWT_PUBLIC_KEY_FILE",
    ):
        assert f"${{{variable}:?" in raw, f"{variable} must be required (${{{variable}:?message}})"
        assert f"${{{variable}:-" not in raw, f"{variable} has a default"
    services = compose["services"]
    published = {name: service["ports"] for name, service in services.items() if service.get("ports")}
    assert published == {
        "gateway": ["8000:8000"],
        "rabbitmq": ["127.0.0.1:15672:15672"],
        "prometheus": ["127.0.0.1:9090:9090"],  # only with --profile metrics
    }
    for name in ("postgres", "rabbitmq", "prometheus"):
        image = services[name]["image"]
        assert re.search(r":v?\d+\.\d+", image), f"{name} image {image} is not pinned to a version"


def test_prometheus_behind_a_profile_scrapes_every_process_on_its_port(compose, procfile):
    """docker/prometheus.yml: a job per Procfile process, at the port its command serves metrics on."""
    prometheus = compose["services"]["prometheus"]
    assert prometheus["profiles"] == ["metrics"]
    assert "./docker/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]
    config = yaml.safe_load((REPO_ROOT / "docker" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(procfile)
    ports = {job["dns_sd_configs"][0]["port"] for job in jobs.values()}
    assert len(ports) == len(jobs), "`make run` starts every process on one host: one port each"
    for name, command in procfile.items():
        (discovery,) = jobs[name]["dns_sd_configs"]
        assert discovery["names"] == [name] and discovery["type"] == "A", name
        port = re.search(r"_PORT:-(\d+)\}" if is_http(command) else r"\bMETRICS_PORT=\$\{\w+:-(\d+)\}", command)
        assert port, f"{name} serves no metrics port: {command}"
        assert discovery["port"] == int(port.group(1)), name
        assert jobs[name].get("metrics_path", "/metrics") == "/metrics"


def test_only_the_gateway_gets_the_token_signing_key_every_process_the_public_key(compose, procfile):
    raw = COMPOSE.read_text()
    assert "JWT_SECRET" not in raw  # tokens are signed with a key pair, not a shared secret
    secrets = compose["secrets"]
    assert secrets["jwt-private-key"]["file"].startswith("${JWT_PRIVATE_KEY_FILE:?")
    assert secrets["jwt-public-key"]["file"].startswith("${JWT_PUBLIC_KEY_FILE:?")
    services = compose["services"]
    for name in procfile:
        service = services[name]
        env = service["environment"]
        assert env["JWT_PUBLIC_KEY_FILE"] == "/run/secrets/jwt-public-key", name
        assert env.get("APP_ENV") == "production", name  # the development key pair is refused
        assert "jwt-public-key" in service["secrets"], name
        holds_private = "jwt-private-key" in service["secrets"] or "JWT_PRIVATE_KEY_FILE" in env
        assert holds_private == (name == "gateway"), f"{name} must {'' if name == 'gateway' else 'not '}sign tokens"
    assert services["gateway"]["environment"]["JWT_PRIVATE_KEY_FILE"] == "/run/secrets/jwt-private-key"
    for name, service in services.items():
        if name not in procfile:  # the servers and the migration steps sign nothing either
            assert "jwt-private-key" not in service.get("secrets", []), name
