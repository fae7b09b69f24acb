"""Noisy neighbours: does a flooded domain slow down another domain's replies?

The deployment the issue describes: one receiver (gunicorn), one Redis, one
PostgreSQL, and a worker per domain (`chatwootai worker --domains health`,
`… --domains retail`, default concurrency). Domain B (health) sends 2 messages
a second; we measure its reply latency, from the webhook POST to the reply POST
at the fake Chatwoot, first alone, then while domain A (retail) sends ten times
its normal rate (2 → 20 messages a second). B's loaded p95 should stay within
20% of its unloaded p95.

The model is a local OpenAI-compatible server that takes `MODEL_DELAY_SECONDS`
per call, in a process of its own: production workers spend their turns waiting
on a remote model, not on CPU, and a provider does not slow down for one tenant
because another is busy. (The offline model would make every turn pure CPU on
this 2-core machine and measure CPU sharing between processes instead, which
production avoids by giving workers their own cores.) The store is PostgreSQL
when it answers, else a SQLite file per worker.

Each round measures both phases, unloaded then loaded, so that a slow minute on
this shared machine touches both; the figures are per round and their spread.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis

from hub.chatwoot.signature import sign
from tests.conftest import ROOT, SAMPLE_DOMAINS
from tests.e2e.conftest import SECRET, message_created
from tests.fakes.chatwoot import CONVERSATION_PATH, FakeChatwoot

QUIET_DOMAIN, QUIET_RATE = "health", 2.0
NOISY_DOMAIN, NOISY_NORMAL_RATE, FLOOD_FACTOR = "retail", 2.0, 10
MODEL_DELAY_SECONDS = 0.8
"""A fast hosted model's time for a short answer; each turn here makes one call."""
BUDGET = 1.2
"""B's loaded p95 may be at most 20% above its unloaded p95."""
FLOOD_WARM_UP_SECONDS = 5.0
"""The flood runs this long before B is measured, so A's worker is saturated."""
QUESTIONS = {
    # Both routed by the keyword classifier: one model call per turn, no routing call.
    QUIET_DOMAIN: "Quero marcar uma consulta com dermatologista",
    NOISY_DOMAIN: "Qual o horário de funcionamento das lojas?",
}
DATABASE_URL = os.environ.get(
    "CHATWOOTAI_BENCH_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
MODEL_SERVER = (
    "import sys, time\n"
    "from tests.fakes.openai_server import FakeOpenAI\n"
    "server = FakeOpenAI()\n"
    "server.delay_seconds = float(sys.argv[1])\n"
    "print(server.url, flush=True)\n"
    "sys.stdin.read()\n"  # serve until the bench closes our stdin
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Stream:
    """Open-loop webhooks of one domain at a fixed rate, each a new conversation."""

    def __init__(self, port: int, domain: str, rate: float, first_conversation: int) -> None:
        self.port, self.domain, self.rate = port, domain, rate
        self.next_conversation = first_conversation
        self.sent: dict[int, float] = {}
        self.late = 0  # sends that started more than one interval behind schedule
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self.late = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[int, float]:
        """Stop sending; the conversations sent since `start`, with their send times."""
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        sent, self.sent = self.sent, {}
        return sent

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
                continue
            if delay < -interval:
                self.late += 1
            conversation = self.next_conversation
            self.next_conversation += 1
            body, headers = signed(self.domain, conversation)
            self.sent[conversation] = time.time()
            conn.request("POST", "/webhooks/chatwoot", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"webhook answered {response.status}")
            next_at += interval
        conn.close()


def signed(domain: str, conversation: int) -> tuple[bytes, dict[str, str]]:
    payload = message_created(domain, conversation, conversation, QUESTIONS[domain])
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    return body, {
        "Content-Type": "application/json",
        "X-Chatwoot-Signature": sign(SECRET, ts, body),
        "X-Chatwoot-Timestamp": ts,
        "X-Chatwoot-Delivery": str(uuid.uuid4()),
    }


def reply_times(chatwoot: FakeChatwoot) -> dict[int, float]:
    """When each conversation's first accepted reply reached the fake Chatwoot."""
    times: dict[int, float] = {}
    for record in chatwoot.requests("/messages"):
        match = CONVERSATION_PATH.match(record["path"])
        if match and record["method"] == "POST" and 200 <= record["status"] < 300:
            times.setdefault(int(match["conversation"]), record["time"])
    return times


def latencies(chatwoot: FakeChatwoot, sent: dict[int, float], timeout: float) -> list[float]:
    """Reply latency of every conversation in `sent`, waiting up to `timeout` for stragglers."""
    deadline = time.monotonic() + timeout
    while True:
        replies = reply_times(chatwoot)
        if all(c in replies for c in sent) or time.monotonic() > deadline:
            return [replies[c] - at for c, at in sent.items() if c in replies]
        time.sleep(0.2)


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(values: list[float], sent: int) -> dict[str, Any]:
    return {
        "sent": sent,
        "replied": len(values),
        "p50_ms": round(percentile(values, 0.50) * 1000),
        "p95_ms": round(percentile(values, 0.95) * 1000),
        "max_ms": round(max(values) * 1000),
    }


@contextmanager
def model_server(delay: float) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", MODEL_SERVER, str(delay)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(timeout=10)


@contextmanager
def bench_database() -> Iterator[str | None]:
    """A fresh schema on the bench PostgreSQL, migrated and seeded; None when it is down."""
    import sqlalchemy
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.pool import NullPool

    from hub.domains.registry import DomainRegistry
    from hub.store.database import create_engine, session_scope
    from hub.store.migrate import upgrade
    from hub.store.seed import seed

    admin = sqlalchemy.create_engine(
        DATABASE_URL, poolclass=NullPool, connect_args={"connect_timeout": 3}
    )
    schema = f"bench_neighbours_{uuid.uuid4().hex[:8]}"
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except OperationalError:
        admin.dispose()
        yield None
        return
    url = make_url(DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    try:
        upgrade(rendered)
        engine = create_engine(rendered)
        registry = DomainRegistry(SAMPLE_DOMAINS)
        with session_scope(engine) as session:
            for domain in (QUIET_DOMAIN, NOISY_DOMAIN):
                seed(session, registry.get(domain))
        engine.dispose()
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def start(
    argv: list[str], env: dict[str, str], ready: Callable[[], bool]
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if ready():
            return process
        if process.poll() is not None:
            raise RuntimeError(f"{argv} exited with {process.returncode}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{argv} did not become ready")


def bench_neighbours(
    tmp: Path,
    port: int,
    redis_url: str,
    rounds: int,
    seconds: float,
    noisy_concurrency: int | None = None,
) -> dict[str, Any]:
    """Rounds of (B alone, B beside A's flood); B's reply latency in each, and the ratio.

    `noisy_concurrency` sizes A's worker (default: the production default), e.g. large
    enough to keep up with the flood, which then costs CPU instead of queueing.
    """
    from hub import defaults
    from hub.conversation.fairness import FairShare, ShardKeys
    from hub.queue import create_celery, queue_for, queue_keys
    from hub.settings import Settings

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    chatwoot = FakeChatwoot(tokens={"bench-health": 2, "bench-retail": 3})
    control = create_celery(Settings(redis_url=redis_url))
    cli = str(Path(sys.executable).parent / "chatwootai")
    procs: list[subprocess.Popen[bytes]] = []
    with model_server(MODEL_DELAY_SECONDS) as model_url, bench_database() as database:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWOOTAI_")}
        env.update(
            {
                "CHATWOOTAI_REDIS_URL": redis_url,
                "CHATWOOTAI_CHATWOOT_URL": chatwoot.url,
                "CHATWOOTAI_WEBHOOK_SECRET": SECRET,
                "CHATWOOTAI_DOMAINS_DIR": str(SAMPLE_DOMAINS),
                "CHATWOOTAI_LOG_LEVEL": "WARNING",
                "CHATWOOTAI_LOG_FORMAT": "json",
                # Reply latency of the work itself: a burst window would add the same
                # 3 s to every single-message conversation, alone or beside a flood.
                "CHATWOOTAI_BURST_WINDOW_SECONDS": "0",
                "CHATWOOTAI_HEALTH_TOKEN": "bench-health",
                "CHATWOOTAI_RETAIL_TOKEN": "bench-retail",
                "CHATWOOTAI_LLM": "openai/bench-model",
                "CHATWOOTAI_LLM_BASE_URL": model_url,
                "CHATWOOTAI_LLM_API_KEY": "sk-local",
                **({"CHATWOOTAI_DATABASE_URL": database} if database else {}),
            }
        )

        def ready_http() -> bool:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            except OSError:
                return False

        def ready_worker(name: str) -> Callable[[], bool]:
            return lambda: bool(control.control.ping(destination=[name], timeout=0.5))

        try:
            server_env = {**env, "CHATWOOTAI_DATA_DIR": str(tmp / "receiver")}
            procs.append(start([cli, "serve", "--port", str(port)], server_env, ready_http))
            workers: dict[str, subprocess.Popen[bytes]] = {}
            for domain in (QUIET_DOMAIN, NOISY_DOMAIN):
                name = f"neighbours-{domain}@bench"
                argv = [cli, "worker", "--domains", domain, "--name", name]
                if domain == NOISY_DOMAIN and noisy_concurrency:
                    argv += ["--concurrency", str(noisy_concurrency)]
                worker_env = {**env, "CHATWOOTAI_DATA_DIR": str(tmp / f"worker-{domain}")}
                workers[domain] = start(argv, worker_env, ready_worker(name))
                procs.append(workers[domain])
            quiet = Stream(port, QUIET_DOMAIN, QUIET_RATE, 1_000_000)
            noisy = Stream(port, NOISY_DOMAIN, NOISY_NORMAL_RATE * FLOOD_FACTOR, 5_000_000)
            # Warm both workers (first turns build clients and caches), unmeasured.
            quiet.start()
            noisy.start()
            time.sleep(3)
            latencies(chatwoot, quiet.stop() | noisy.stop(), timeout=60)
            runs = []
            for round_ in range(rounds):
                print(f"neighbours, round {round_ + 1}: {QUIET_DOMAIN} alone…", flush=True)
                quiet.start()
                time.sleep(seconds)
                sent = quiet.stop()
                alone = summary(latencies(chatwoot, sent, timeout=60), len(sent))
                load_alone = os.getloadavg()[0]

                print(f"  … beside a {NOISY_DOMAIN} flood", flush=True)
                noisy.start()
                time.sleep(FLOOD_WARM_UP_SECONDS)
                cpu_before = {d: cpu_seconds(p.pid) for d, p in workers.items()}
                quiet.start()
                time.sleep(seconds)
                sent = quiet.stop()
                flooded = latencies(chatwoot, sent, timeout=60)
                flood_sent = noisy.stop()
                cpu = {d: round(cpu_seconds(p.pid) - cpu_before[d], 1) for d, p in workers.items()}
                noisy_replied = sum(1 for c in reply_times(chatwoot) if c in flood_sent)
                shard = queue_for(NOISY_DOMAIN, dedicated=False, shards=defaults.QUEUE_SHARDS)
                backlog = len(FairShare(client).waiting(shard, NOISY_DOMAIN))
                # The next round starts without A's backlog: its tokens and its line.
                client.delete(*queue_keys(shard), *ShardKeys(shard).pending(NOISY_DOMAIN))
                beside = summary(flooded, len(sent))
                run = {
                    "alone": alone,
                    "beside_flood": beside,
                    "p95_ratio": round(beside["p95_ms"] / alone["p95_ms"], 3),
                    "flood": {
                        "offered_per_s": NOISY_NORMAL_RATE * FLOOD_FACTOR,
                        "sent": len(flood_sent),
                        "late_sends": noisy.late,
                        "replied_meanwhile": noisy_replied,
                        "backlog_left_in_queue": backlog,
                        "replied_per_s": round(
                            noisy_replied / (FLOOD_WARM_UP_SECONDS + seconds), 1
                        ),
                    },
                    "worker_cpu_seconds_during_flood": cpu,
                    "load_average_1m": {"alone": load_alone, "beside": os.getloadavg()[0]},
                }
                runs.append(run)
                print(f"  {json.dumps(run)}", flush=True)
                # A's turns still in flight finish before the next round measures B alone.
                time.sleep(2 * MODEL_DELAY_SECONDS + 2)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()
            client.flushdb()
            chatwoot.close()
    ratios = [run["p95_ratio"] for run in runs]
    median_ratio = statistics.median(ratios)
    return {
        "setup": {
            "quiet_domain": QUIET_DOMAIN,
            "quiet_rate_per_s": QUIET_RATE,
            "noisy_domain": NOISY_DOMAIN,
            "noisy_normal_rate_per_s": NOISY_NORMAL_RATE,
            "flood_factor": FLOOD_FACTOR,
            "model_delay_seconds": MODEL_DELAY_SECONDS,
            "seconds_per_phase": seconds,
            "store": "postgresql" if database else "sqlite (one file per worker)",
            "workers": "one per domain, default concurrency",
            "noisy_worker_concurrency": noisy_concurrency or "default",
        },
        "runs": runs,
        "median_alone_p95_ms": statistics.median(run["alone"]["p95_ms"] for run in runs),
        "median_beside_flood_p95_ms": statistics.median(
            run["beside_flood"]["p95_ms"] for run in runs
        ),
        "median_p95_ratio": median_ratio,
        "p95_ratio_spread": [min(ratios), max(ratios)],
        "budget_ratio": BUDGET,
        "within_budget": median_ratio <= BUDGET,
    }
