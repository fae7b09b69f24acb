"""`chatwootai run|serve|worker`: the long-running processes.

`run` is the embedded all-in-one: it starts an embedded Redis when
CHATWOOTAI_REDIS_URL is unset, then the receiver (gunicorn) and a worker as
child processes sharing it, prints the webhook URL, and on Ctrl-C or SIGTERM
stops the receiver first, lets the worker finish its current messages, and
shuts Redis down last.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from types import FrameType

import click

from hub.domains.registry import DomainRegistry
from hub.kvstore import redis_url
from hub.logs import configure_logging
from hub.queue import queue_name
from hub.settings import get_settings

STOP_TIMEOUT_SECONDS = 30


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
    argv = _gunicorn_argv(host, port, workers)
    os.execv(argv[0], argv)


@click.command()
@click.option("--domains", help="comma-separated domain ids (default: every domain)")
@click.option("--concurrency", type=int, help="threads (default CHATWOOTAI_WORKER_CONCURRENCY)")
@click.option("--name", help="worker node name (default: chatwootai-<domains>@<host>)")
def worker(domains: str | None, concurrency: int | None, name: str | None) -> None:
    """A Celery worker (threads pool) consuming the given domains' queues."""
    settings = get_settings()
    configure_logging(settings)
    wanted = [d.strip() for d in domains.split(",")] if domains else None
    registry = DomainRegistry(settings.domains_dir, reload_interval=float("inf"))
    ids = wanted or sorted(registry.domains)
    unknown = [d for d in ids if d not in registry.domains]
    if unknown:
        raise click.ClickException(f"unknown domains: {', '.join(unknown)}")
    from workers import app

    label = "all" if wanted is None else "-".join(ids)
    app.worker_main(
        argv=[
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency or settings.worker_concurrency),
            "--queues",
            ",".join(queue_name(d) for d in ids),
            "--hostname",
            name or f"chatwootai-{label}@%h",
            "--loglevel",
            settings.log_level,
            "--without-mingle",
            "--without-gossip",
        ]
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Receiver and worker together; embedded Redis when CHATWOOTAI_REDIS_URL is unset."""
    settings = get_settings()
    configure_logging(settings)
    env = dict(os.environ)
    env["CHATWOOTAI_REDIS_URL"] = redis_url(settings)  # starts the embedded one if needed
    children = [
        subprocess.Popen([sys.executable, "-m", "hub", "worker"], env=env),
        subprocess.Popen(_gunicorn_argv(host, port, 2), env=env),
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
        f"  Redis: {env['CHATWOOTAI_REDIS_URL']}\n"
        f"  Ctrl-C stops everything.\n"
    )
    while not stopping and all(child.poll() is None for child in children):
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
    codes = [child.returncode for child in children]
    if not stopping:
        raise click.ClickException(f"a child process exited unexpectedly: {codes}")
