"""Many tenants on one worker: start time, memory, and a tenant added while it runs.

For each tenant count (10 and 1,000 by default), the generated tenants of
`tests.perf.tenant_farm` (each its own account, token and knowledge) and the offline
model:
- the domain registry's load in process: every file validated (`cold`), then from the
  validated-domains cache (`cached`), per domain;
- a worker for every domain (`chatwootai worker`, no `--domains`) from process start
  to answering a Celery ping, first with an empty data dir (the cache is written),
  then again (the cache is read): `ready_seconds`;
- one message for each of `answered` different tenants through the receiver (the
  worker prepares each tenant's kit at its first message), then the worker's resident
  memory, the memory per prepared tenant and the seconds per tenant's first answer;
- a tenant written into the domains folder while both run, answered without a restart.

Dense embeddings are off (`CHATWOOTAI_EMBEDDINGS=none`): embedding 200 tenants'
distinct knowledge at their first message is minutes of CPU on this machine, the
cost of `chatwootai kb ingest` rather than of a worker's start. Writes
var/bench/tenants.json.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis
import structlog

from hub.chatwoot.signature import sign
from tests.conftest import ROOT
from tests.e2e.conftest import SECRET, message_created
from tests.fakes.chatwoot import FakeChatwoot
from tests.perf.tenant_farm import (
    FIRST_ACCOUNT,
    build_farm,
    tenant_environment,
    tenant_tokens,
)

OUT = ROOT / "var" / "bench"
REDIS_URL = os.environ.get("CHATWOOTAI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
QUESTION = "Qual o horário de funcionamento?"
KITS_MAX = 256
"""Above the tenants answered, so every prepared kit stays and its memory is counted."""


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def environment(data: Path, domains: Path, chatwoot_url: str, count: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATWOOTAI_")}
    env.update(
        {
            "CHATWOOTAI_REDIS_URL": REDIS_URL,
            "CHATWOOTAI_CHATWOOT_URL": chatwoot_url,
            "CHATWOOTAI_WEBHOOK_SECRET": SECRET,
            "CHATWOOTAI_DOMAINS_DIR": str(domains),
            "CHATWOOTAI_DATA_DIR": str(data),
            "CHATWOOTAI_LOG_LEVEL": "WARNING",
            "CHATWOOTAI_LOG_FORMAT": "json",
            "CHATWOOTAI_BURST_WINDOW_SECONDS": "0",
            "CHATWOOTAI_EMBEDDINGS": "none",
            "CHATWOOTAI_KITS_MAX": str(KITS_MAX),
            # Both counts alike: every kit prepared at its tenant's first message (`auto`
            # would prepare the 10 tenants at start).
            "CHATWOOTAI_KITS_WARM": "none",
            "CHATWOOTAI_RELOAD_INTERVAL_SECONDS": "1",
            **tenant_environment(count),
        }
    )
    return env


def ping(node: str) -> bool:
    from hub.queue import create_celery
    from hub.settings import Settings

    app = create_celery(Settings(redis_url=REDIS_URL))
    return bool(app.control.ping(destination=[node], timeout=0.5))


def start_worker(
    env: dict[str, str], name: str, log: Path
) -> tuple[subprocess.Popen[bytes], float]:
    """A worker for every domain; the seconds from its start to answering a ping."""
    cli = str(Path(sys.executable).parent / "chatwootai")
    node = name.replace("%h", socket.gethostname())
    with log.open("ab") as output:
        started = time.monotonic()
        process = subprocess.Popen(
            [cli, "worker", "--name", name, "--concurrency", "4"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=output,
        )
    while time.monotonic() - started < 600:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited with {process.returncode}; see {log}")
        if ping(node):
            return process, time.monotonic() - started
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the worker did not become ready")


def start_receiver(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    cli = str(Path(sys.executable).parent / "chatwootai")
    with log.open("ab") as output:
        process = subprocess.Popen(
            [cli, "serve", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=output,
        )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the receiver exited with {process.returncode}; see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the receiver did not become ready")


def post(port: int, index: int, message_id: int) -> None:
    payload = message_created("retail", 1 + index, message_id, QUESTION)
    account = FIRST_ACCOUNT + index
    payload["account"] = {"id": account, "name": f"tenant {index}"}
    body = json.dumps(payload).encode()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Chatwoot-Signature": sign(SECRET, ts, body),
        "X-Chatwoot-Timestamp": ts,
        "X-Chatwoot-Delivery": f"tenants-{index}-{message_id}",
    }
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/webhooks/chatwoot", body=body, headers=headers)
    response = conn.getresponse()
    answer = response.read()
    if response.status != 200 or b"queued" not in answer:
        raise RuntimeError(f"tenant {index}: {response.status} {answer[:200]!r}")


def wait_replies(chatwoot: FakeChatwoot, indexes: list[int], timeout: float) -> float:
    """Seconds until every one of these tenants got a reply (raises past `timeout`)."""
    started = time.monotonic()
    waiting = set(indexes)
    while waiting:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{len(waiting)} tenants unanswered, e.g. {sorted(waiting)[:5]}")
        answered = {i for i in waiting if chatwoot.messages(1 + i, account_id=FIRST_ACCOUNT + i)}
        waiting -= answered
        time.sleep(0.1)
    return time.monotonic() - started


def registry_load(domains: Path, cache: Path) -> dict[str, float]:
    """Seconds per domain to load the folder: every file validated, then from the cache."""
    from hub.domains.registry import DomainRegistry

    count = sum(1 for p in domains.iterdir() if not p.name.startswith("_"))
    started = time.perf_counter()
    DomainRegistry(domains, log_problems=False, cache_dir=cache)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    DomainRegistry(domains, log_problems=False, cache_dir=cache)
    cached = time.perf_counter() - started
    return {
        "cold_seconds": round(cold, 2),
        "cached_seconds": round(cached, 2),
        "cold_ms_per_domain": round(1000 * cold / count, 2),
        "cached_ms_per_domain": round(1000 * cached / count, 2),
    }


def bench_count(tmp: Path, count: int, answered: int, port: int) -> dict[str, Any]:
    base = tmp / f"tenants-{count}"
    shutil.rmtree(base, ignore_errors=True)
    domains, data = base / "domains", base / "var"
    data.mkdir(parents=True)
    started = time.perf_counter()
    build_farm(domains, count)
    figures: dict[str, Any] = {
        "tenants": count,
        "farm_seconds": round(time.perf_counter() - started, 1),
    }
    figures["registry"] = registry_load(domains, base / "registry-cache")
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    chatwoot = FakeChatwoot(tokens=tenant_tokens(count + 1))
    env = environment(data, domains, chatwoot.url, count + 1)
    log = base / "processes.log"
    name = f"tenants{count}@%h"
    worker, cold = start_worker(env, name, log)  # writes the validated-domains cache
    figures["ready_seconds_empty_data_dir"] = round(cold, 1)
    worker.terminate()
    worker.wait(60)
    worker, ready = start_worker(env, name, log)
    receiver = None
    try:
        figures["ready_seconds"] = round(ready, 1)
        figures["start_ms_per_tenant"] = round(1000 * ready / count, 1)
        figures["rss_mb_ready"] = round(rss_mb(worker.pid), 1)
        receiver = start_receiver(env, port, log)
        indexes = list(range(min(answered, count)))
        started = time.monotonic()
        for index in indexes:
            post(port, index, 1_000 + index)
        wait_replies(chatwoot, indexes, timeout=900)
        seconds = time.monotonic() - started
        figures["answered"] = len(indexes)
        figures["answer_seconds"] = round(seconds, 1)
        figures["first_answer_ms_per_tenant"] = round(1000 * seconds / len(indexes), 1)
        figures["rss_mb_answered"] = round(rss_mb(worker.pid), 1)
        figures["mb_per_prepared_tenant"] = round(
            (figures["rss_mb_answered"] - figures["rss_mb_ready"]) / len(indexes), 2
        )
        build_farm(domains, count + 1)  # a new tenant, written while both run
        started = time.monotonic()
        post(port, count, 5_000)
        wait_replies(chatwoot, [count], timeout=120)
        figures["added_tenant_answered_seconds"] = round(time.monotonic() - started, 1)
        figures["rss_mb_end"] = round(rss_mb(worker.pid), 1)
    finally:
        for process in (receiver, worker):
            if process is not None:
                process.terminate()
                process.wait(60)
        chatwoot.close()
        client.flushdb()
    return figures


def bench_tenants(tmp: Path, counts: list[int], answered: int, port: int) -> dict[str, Any]:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    results: dict[str, Any] = {
        "model": "offline",
        "embeddings": "none",
        "kits_max": KITS_MAX,
        "kits_warm": "none",
        "targets": {"ready_seconds": 30, "rss_mb_answered": 1024},
    }
    for count in counts:
        print(f"{count} tenants…", flush=True)
        results[str(count)] = bench_count(tmp, count, answered, port)
        print(json.dumps(results[str(count)]), flush=True)
    return results


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counts", default="10,1000")
    parser.add_argument("--answered", type=int, default=200)
    parser.add_argument("--port", type=int, default=8951)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    counts = [int(c) for c in args.counts.split(",")]
    path = OUT / "tenants.json"
    results: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    results.update(bench_tenants(OUT / "tmp", counts, args.answered, args.port))
    path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"written to {OUT / 'tenants.json'}")


if __name__ == "__main__":
    main()
