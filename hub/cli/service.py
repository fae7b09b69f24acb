"""`chatwootai run|serve|worker|flower`: the long-running processes.

`run` is the embedded all-in-one: it starts an embedded Redis when
CHATWOOTAI_REDIS_URL is unset, then the receiver (gunicorn) and a worker as
child processes sharing it, prints the webhook URL, and on Ctrl-C or SIGTERM
stops the receiver first, lets the worker finish its current messages, and
shuts Redis down last. The children run in their own session: a Ctrl-C in the
terminal reaches `run` alone, which then stops them in that order (gunicorn
would otherwise take the SIGINT as "quit now" and drop the webhooks in flight).
Nothing outlives `run`: killed outright (SIGKILL), its embedded Redis stops
(`hub.embedded_redis`) and, on Linux, its children get SIGTERM.

`serve` and `run` give gunicorn's processes a fresh PROMETHEUS_MULTIPROC_DIR
when none is set, so any of them answers /metrics with the sum of all.

`flower` is Celery's dashboard on the same broker. Task events are off in our
Celery config (they cost Redis PUBLISHes per message); Flower broadcasts
`enable_events` every few seconds, so workers report tasks only while a Flower
watches, including workers started after it. Tasks show ids only: the receiver
sends an `argsrepr` without customer text.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from types import FrameType

import click

from hub import defaults
from hub.cli.console import console_argv, has_users
from hub.crews.llm import is_offline
from hub.domains.registry import CACHE_FOLDER, DomainRegistry
from hub.exceptions import ConfigurationError
from hub.kvstore import redis_url
from hub.logs import configure_logging
from hub.orphans import ending_with
from hub.queue import consumed_queues, create_celery
from hub.settings import get_settings
from hub.web.metrics import MULTIPROCESS_ENV
from hub.web.signatures import UNSIGNED_WARNING, SecretRule

STOP_TIMEOUT_SECONDS = 30
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _gunicorn_argv(host: str, port: int, workers: int) -> list[str]:
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or "gunicorn"
    return [
        gunicorn,
        "hub.web:create_app()",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        # Each webhook is ~2 ms of CPU and never waits on a model: one request at a time
        # per process (sync workers) beats threads fighting over the GIL.
        "--worker-class",
        "sync",
        "--graceful-timeout",
        "20",
        "--keep-alive",
        "5",
    ]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=(os.cpu_count() or 1) + 1,
    show_default="CPUs + 1",
    type=int,
    help="gunicorn processes",
)
def serve(host: str, port: int, workers: int) -> None:
    """The receiver alone, under gunicorn."""
    _warn_if_unsigned()
    _metrics_dir(os.environ)
    argv = _gunicorn_argv(host, port, workers)
    os.execv(argv[0], argv)


def _warn_if_unsigned() -> None:
    """Say loudly, before anything starts, that webhooks will be taken unsigned."""
    settings = get_settings()
    try:
        registry = DomainRegistry(
            settings.domains_dir,
            reload_interval=float("inf"),
            log_problems=False,
            cache_dir=settings.data_dir / CACHE_FOLDER,
        )
    except ConfigurationError:
        return  # the receiver itself reports the missing folder
    if SecretRule(settings, registry).mode == "off":
        click.secho(f"\nWARNING: {UNSIGNED_WARNING}\n", err=True, fg="red", bold=True)


def _metrics_dir(env: dict[str, str] | os._Environ[str]) -> str | None:
    """Give gunicorn's processes a shared, empty metrics directory unless one is set;
    returns the directory made here (the caller's to remove), or None."""
    if env.get(MULTIPROCESS_ENV):
        return None
    made = tempfile.mkdtemp(prefix="chatwootai-metrics-")
    env[MULTIPROCESS_ENV] = made
    return made


def _default_concurrency(registry: DomainRegistry, ids: list[str]) -> int:
    """8 threads when a domain waits on a model server; 4 when all use the offline model,
    which waits on nothing (more threads only contend for the GIL)."""
    settings = get_settings()
    domains = [registry.get(domain_id) for domain_id in ids]
    offline = all(is_offline(domain, settings) for domain in domains) and not any(
        agent.llm not in (None, "offline")
        for domain in domains
        for crew in domain.spec.crews.values()
        for agent in crew.agents.values()
    )
    return defaults.OFFLINE_WORKER_CONCURRENCY if offline else defaults.WORKER_CONCURRENCY


def node_name(domain_ids: list[str] | None) -> str:
    """A worker's Celery node name: the domains it serves, so Flower and `celery inspect`
    show which business a worker is for (`chatwootai-health@host`, `chatwootai-all@host`)."""
    label = "all" if domain_ids is None else "-".join(domain_ids)
    return f"chatwootai-{label}@%h"


@click.command()
@click.option("--domains", help="comma-separated domain ids (default: every domain)")
@click.option(
    "--concurrency",
    type=int,
    help="threads (default CHATWOOTAI_WORKER_CONCURRENCY; unset: 8, or 4 with the offline model)",
)
@click.option("--name", help="worker node name (default: chatwootai-<domains>@<host>)")
def worker(domains: str | None, concurrency: int | None, name: str | None) -> None:
    """A Celery worker (threads pool) consuming the given domains' queues.

    Without --domains: every shard queue and every dedicated queue. With it: those
    domains' dedicated queues, and the shards of the shared ones (whose other tenants
    it then serves too: pin a tenant with `queue: dedicated`)."""
    settings = get_settings()
    configure_logging(settings)
    wanted = [d.strip() for d in domains.split(",")] if domains else None
    registry = DomainRegistry(
        settings.domains_dir,
        reload_interval=float("inf"),
        cache_dir=settings.data_dir / CACHE_FOLDER,
    )
    ids = wanted or sorted(registry.domains)
    unknown = [d for d in ids if d not in registry.domains]
    if unknown:
        raise click.ClickException(f"unknown domains: {', '.join(unknown)}")
    from workers import app
    from workers.subscriptions import ALL_DOMAINS_CONF

    # Without --domains, the queues of domains added later are consumed too.
    app.conf[ALL_DOMAINS_CONF] = wanted is None
    app.worker_main(
        argv=[
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency or settings.worker_concurrency or _default_concurrency(registry, ids)),
            "--queues",
            ",".join(
                consumed_queues(
                    [registry.get(d) for d in ids], settings.queue_shards, every_shard=not wanted
                )
            ),
            "--hostname",
            name or node_name(wanted),
            "--loglevel",
            settings.log_level,
            "--without-mingle",
            "--without-gossip",
        ]
    )


@click.command()
@click.option("--port", default=5555, show_default=True, type=int)
@click.option("--address", default="127.0.0.1", show_default=True, help="interface to listen on")
def flower(port: int, address: str) -> None:
    """Flower, Celery's dashboard: workers, tasks (ids only) and queues, on the broker.

    Basic auth comes from CHATWOOTAI_FLOWER_BASIC_AUTH (user:password). Without it
    Flower's dashboard can shut workers down and its API is off, so it is refused
    on any address but loopback.
    """
    settings = get_settings()
    configure_logging(settings)
    auth = settings.flower_basic_auth.get_secret_value() if settings.flower_basic_auth else ""
    if not auth and address not in LOOPBACK:
        raise click.ClickException(
            f"refusing to serve Flower on {address} without a password: "
            "set CHATWOOTAI_FLOWER_BASIC_AUTH=user:password"
        )
    pairs = [pair.partition(":") for pair in auth.split(",")] if auth else []
    if not all(user and password for user, _, password in pairs):
        raise click.ClickException(
            "CHATWOOTAI_FLOWER_BASIC_AUTH must be user:password[,user:password]"
        )
    # The receiver's app (no task code): Flower learns task names from the events.
    # Its broker URL is ours, embedded Redis and unix socket included.
    app = create_celery(settings)
    argv = ["flower", f"--port={port}", f"--address={address}"]
    if auth:
        # Parsed in this process, never exec'd: the password stays out of `ps`.
        argv.append(f"--basic_auth={auth}")
    app.start(argv=argv)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--console-port",
    default=defaults.CONSOLE_PORT,
    show_default=True,
    type=int,
    help="the operator console's port (0: no console)",
)
def run(host: str, port: int, console_port: int) -> None:
    """Receiver, worker and console together; embedded Redis when CHATWOOTAI_REDIS_URL
    is unset."""
    settings = get_settings()
    configure_logging(settings)
    _warn_if_unsigned()
    try:
        # Without users the console answers loopback only, whatever --host says.
        console_host = host if has_users(settings) else "127.0.0.1"
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from error
    env = dict(os.environ)
    env["CHATWOOTAI_REDIS_URL"] = redis_url(settings)  # starts the embedded one if needed
    metrics_dir = _metrics_dir(env)
    # Their own session keeps a terminal's Ctrl-C from them; SIGTERM from the kernel if
    # `run` is killed outright, as its Redis stops then too (Linux).
    ending = ending_with(os.getpid())
    commands = [[sys.executable, "-m", "hub", "worker"], _gunicorn_argv(host, port, 2)]
    if console_port:  # started before the receiver, stopped after it
        commands.insert(1, console_argv(console_host, console_port))
    children = [
        subprocess.Popen(argv, env=env, start_new_session=True, preexec_fn=ending)
        for argv in commands
    ]
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    click.echo(
        f"\nChatwootAI is running.\n"
        f"  Webhook URL for Chatwoot's Agent Bot: http://{host}:{port}/webhooks/chatwoot\n"
        f"  Health: http://{host}:{port}/readyz   Metrics: http://{host}:{port}/metrics\n"
        + (f"  Console: http://{console_host}:{console_port}/\n" if console_port else "")
        + f"  Redis: {env['CHATWOOTAI_REDIS_URL']}\n"
        f"  Ctrl-C stops everything.\n"
    )
    essential = [children[0], children[-1]]  # the worker and the receiver
    console_child = children[1] if console_port else None
    while not stopping and all(child.poll() is None for child in essential):
        if console_child is not None and console_child.poll() is not None:
            click.secho(  # the bot goes on answering without its console
                f"WARNING: the console stopped (exit {console_child.returncode}); "
                f"is port {console_port} taken? The receiver and worker go on.",
                err=True,
                fg="yellow",
            )
            console_child = None
        time.sleep(0.2)
    for child in reversed(children):  # receiver first, then the worker drains
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    codes = [child.returncode for child in essential]
    if metrics_dir is not None:
        shutil.rmtree(metrics_dir, ignore_errors=True)
    if not stopping:
        raise click.ClickException(f"a child process exited unexpectedly: {codes}")
