"""Fairness on a shared queue, the receiver's ack beside many tenants, BRPOP's key count.

`python -m tests.perf --only fairness` writes var/bench/fairness.json:
- flood: tenant A (retail) floods `--flood` messages onto a shared queue (one shard:
  CHATWOOTAI_QUEUE_SHARDS=1) while tenant B (cosmetics) sends 10 spread over the
  flood; offline model, one real worker. B's reply latency (webhook POST → reply at
  the fake Chatwoot) beside the flood against B alone: p95 ratio, target ≤ 2×. How
  many of A's replies came between each B message and its reply says whether B
  waited behind A's backlog (a FIFO queue: the whole flood) or took its turn.
- ack: the receiver's (gunicorn, 3 processes) ack p99 at 300 requests/s spread
  over all of `--tenants` generated tenants, beside the same over the 4 samples.
- brpop_keys: the Redis lists a worker for every domain waits on (`BRPOP`), with
  one queue per domain (before) and with the shard queues (now), for the same
  generated tenants.

Tenants come from `tests.perf.tenant_farm.build_farm`: each on its own account, with
knowledge of its own.
"""

from __future__ import annotations

import http.client
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis

from tests.conftest import SAMPLE_DOMAINS
from tests.e2e.conftest import message_created
from tests.fakes.chatwoot import CONVERSATION_PATH, FakeChatwoot
from tests.perf.tenant_farm import build_farm

FLOODER, QUIET = "retail", "cosmetics"
QUIET_MESSAGES = 10
QUIET_SPACING_SECONDS = 1.5
"""B's messages are this far apart: 10 of them span ~15 s of A's flood."""
BUDGET = 2.0
"""B's p95 beside A's flood may be at most twice its p95 alone."""


def farm(root: Path, count: int) -> tuple[list[str], str]:
    """Generated tenants, and where they came from (recorded with the figures)."""
    return list(build_farm(root, count)), "tests.perf.tenant_farm.build_farm"


def accounts_of(domains_dir: Path, ids: list[str]) -> list[int]:
    from hub.domains.registry import DomainRegistry

    registry = DomainRegistry(domains_dir, log_problems=False)
    return [int(registry.get(d).spec.chatwoot.account_id or 0) for d in ids]


def brpop_keys(domains_dir: Path, shards: int) -> dict[str, int]:
    """What a worker for every domain waits on, one queue per domain against shards."""
    from hub.domains.registry import DomainRegistry
    from hub.queue import PRIORITY_STEPS, consumed_queues

    domains = list(DomainRegistry(domains_dir, log_problems=False).domains.values())
    now = consumed_queues(domains, shards, every_shard=True)
    steps = len(PRIORITY_STEPS)
    return {
        "domains": len(domains),
        "before_one_queue_per_domain": steps * len(domains),
        "now_queues": len(now),
        "now_keys": steps * len(now),
    }


def reply_times(chatwoot: FakeChatwoot) -> dict[tuple[int, int], float]:
    """(account, conversation) → when its first accepted reply reached the fake."""
    times: dict[tuple[int, int], float] = {}
    for record in chatwoot.requests("/messages"):
        match = CONVERSATION_PATH.match(record["path"])
        if record["method"] != "POST" or match is None or record["status"] >= 300:
            continue
        times.setdefault((int(match["account"]), int(match["conversation"])), record["time"])
    return times


def post(port: int, payload: dict[str, Any]) -> float:
    """POST a signed webhook; when it was sent (epoch seconds)."""
    from tests.perf.__main__ import signed_request

    body, headers = signed_request(payload)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = time.time()
    conn.request("POST", "/webhooks/chatwoot", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"webhook answered {response.status}")
    return sent


def quiet_phase(port: int, chatwoot: FakeChatwoot, first: int) -> dict[tuple[int, int], float]:
    """B's 10 messages, spread; (account, conversation) → send time."""
    account = 1  # cosmetics
    sent = {}
    for n in range(QUIET_MESSAGES):
        conversation = first + n
        payload = message_created(QUIET, conversation, conversation, "Qual o horário?")
        sent[(account, conversation)] = post(port, payload)
        time.sleep(QUIET_SPACING_SECONDS)
    wait_for(chatwoot, sent, 300)
    return sent


def wait_for(chatwoot: FakeChatwoot, sent: dict[tuple[int, int], float], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(key in reply_times(chatwoot) for key in sent):
            return
        time.sleep(0.2)


def latencies(chatwoot: FakeChatwoot, sent: dict[tuple[int, int], float]) -> list[float]:
    replies = reply_times(chatwoot)
    return [replies[key] - at for key, at in sent.items() if key in replies]


def summary(values: list[float], sent: int) -> dict[str, Any]:
    from tests.perf.__main__ import percentile

    return {
        "sent": sent,
        "replied": len(values),
        "p50_ms": round(percentile(values, 0.50) * 1000) if values else None,
        "p95_ms": round(percentile(values, 0.95) * 1000) if values else None,
        "max_ms": round(max(values) * 1000) if values else None,
    }


def bench_flood(tmp: Path, port: int, redis_url: str, flood: int) -> dict[str, Any]:
    """B alone, then B beside A's flood, on one shared queue and one real worker."""
    from tests.perf.__main__ import base_env, http_ready, start, worker_ready

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    chatwoot = FakeChatwoot(tokens={"bench-token": 3, "bench-cosmetics": 1})
    env = base_env(
        tmp,
        chatwoot.url,
        CHATWOOTAI_QUEUE_SHARDS="1",
        CHATWOOTAI_COSMETICS_TOKEN="bench-cosmetics",
        CHATWOOTAI_EMBEDDINGS="none",
    )
    cli = str(Path(sys.executable).parent / "chatwootai")
    procs = []
    try:
        procs.append(
            start([cli, "serve", "--port", str(port), "--workers", "2"], env, http_ready(port))
        )
        name = "chatwootai-fairness@bench"
        procs.append(start([cli, "worker", "--name", name], env, worker_ready(name)))
        warm = {(1, 1): post(port, message_created(QUIET, 1, 1, "Qual o horário?"))}
        wait_for(chatwoot, warm, 120)
        print("fairness: B alone…", flush=True)
        alone_sent = quiet_phase(port, chatwoot, 10_000)
        alone = latencies(chatwoot, alone_sent)
        print(f"fairness: B beside A's flood of {flood}…", flush=True)
        flood_sent: dict[tuple[int, int], float] = {}

        def send_flood() -> None:
            for n in range(flood):
                conversation = 200_000 + n
                payload = message_created(FLOODER, conversation, conversation, "Qual o horário?")
                flood_sent[(3, conversation)] = post(port, payload)

        flooding = threading.Thread(target=send_flood)
        flooding.start()
        while len(flood_sent) < min(flood, 100):  # A's backlog builds up first
            time.sleep(0.05)
        beside_sent = quiet_phase(port, chatwoot, 20_000)
        flooding.join()
        beside = latencies(chatwoot, beside_sent)
        replies = reply_times(chatwoot)
        ahead = [
            sum(1 for key in flood_sent if at < replies.get(key, float("inf")) < replies[b])
            for b, at in beside_sent.items()
            if b in replies
        ]
        backlog_at_b = [
            sum(1 for key, sent in flood_sent.items() if sent < at and replies.get(key, 1e18) > at)
            for at in beside_sent.values()
        ]
        wait_for(chatwoot, flood_sent, 900)
        flood_replied = len([key for key in flood_sent if key in reply_times(chatwoot)])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait()
        client.flushdb()
        chatwoot.close()
    alone_summary = summary(alone, len(alone_sent))
    beside_summary = summary(beside, len(beside_sent))
    ratio = (
        round(beside_summary["p95_ms"] / alone_summary["p95_ms"], 2)
        if alone_summary["p95_ms"] and beside_summary["p95_ms"]
        else None
    )
    return {
        "setup": {
            "flooder": FLOODER,
            "flood_messages": flood,
            "quiet": QUIET,
            "quiet_messages": QUIET_MESSAGES,
            "quiet_spacing_seconds": QUIET_SPACING_SECONDS,
            "shards": 1,
            "model": "offline",
            "worker": "one, default concurrency",
        },
        "b_alone": alone_summary,
        "b_beside_flood": beside_summary,
        "p95_ratio": ratio,
        "budget_ratio": BUDGET,
        "within_budget": ratio is not None and ratio <= BUDGET,
        "a_backlog_when_each_b_was_sent": backlog_at_b,
        "a_replies_between_each_b_and_its_reply": ahead,
        "flood_replied": flood_replied,
    }


def bench_ack_tenants(
    tmp: Path, port: int, redis_url: str, tenants: int, seconds: float
) -> dict[str, Any]:
    """The receiver's ack at 300 requests/s over every generated tenant, and over 4."""
    from tests.perf.__main__ import base_env, http_ready, start

    root = tmp / "tenants"
    shutil.rmtree(root, ignore_errors=True)
    ids, generator = farm(root, tenants)
    accounts = accounts_of(root, ids)
    figures: dict[str, Any] = {"generator": generator, "tenants": len(ids)}
    # The same load over every generated tenant, then over a deployment of the 4 samples
    # (`default` answers the accounts no domain maps).
    spreads = {
        "all_tenants": (root, [(d, a, 1) for d, a in zip(ids, accounts, strict=True)]),
        "four_tenants": (
            SAMPLE_DOMAINS,
            [("retail", 3, 31), ("cosmetics", 1, 11), ("health", 2, 21), ("default", 4242, 1)],
        ),
    }
    client = redis.Redis.from_url(redis_url)
    for label, (domains_dir, spread) in spreads.items():
        client.flushdb()
        chatwoot = FakeChatwoot(tokens={"bench-token": 3})
        env = base_env(tmp, chatwoot.url, CHATWOOTAI_DOMAINS_DIR=str(domains_dir))
        cli = str(Path(sys.executable).parent / "chatwootai")
        server = start(
            [cli, "serve", "--port", str(port), "--workers", "3"],
            env,
            http_ready(port),
            timeout=600,  # every process loads and validates every tenant first
        )
        try:
            loader = SpreadLoader(port, 16, spread)
            loader.run(100, 2)  # warm-up
            figures[label] = loader.run(300, seconds)
            figures[label]["domains_in_folder"] = sum(1 for _ in domains_dir.iterdir())
            figures[label]["shards_used"] = len(
                {key.split(b"\x06")[0] for key in client.scan_iter("chatwootai.shard.*")}
            )
        finally:
            server.terminate()
            server.wait()
            client.flushdb()
            chatwoot.close()
        port += 1
    figures["brpop_keys"] = brpop_keys(root, int(os.environ.get("CHATWOOTAI_QUEUE_SHARDS", "8")))
    return figures


class SpreadLoader:
    """`tests.perf.__main__.Loader`, its messages spread over (domain, account, inbox)."""

    def __new__(cls, port: int, connections: int, spread: list[tuple[str, int, int]]) -> Any:
        from tests.perf.__main__ import Loader

        counter = iter(range(10**9))
        lock = threading.Lock()

        class Spread(Loader):
            def payload(self) -> dict[str, Any]:
                with lock:
                    n = next(counter)
                domain, account, inbox = spread[n % len(spread)]
                payload = message_created("retail", 300_000 + n, 3_000_000 + n, "Qual o horário?")
                payload["account"] = {"id": account, "name": domain}
                payload["inbox"]["id"] = inbox
                payload["conversation"]["inbox_id"] = inbox
                return payload

        return Spread(port, connections)


def bench_fairness(
    tmp: Path, port: int, redis_url: str, *, flood: int, tenants: int, seconds: float
) -> dict[str, Any]:
    import tests.perf.__main__ as perf

    # `python -m tests.perf` runs that module as __main__: the copy imported here has
    # its own REDIS_URL, which its helpers (base_env, worker_ready) read.
    perf.REDIS_URL = redis_url
    result = {
        "flood": bench_flood(tmp / "flood", port, redis_url, flood),
        "ack": bench_ack_tenants(tmp / "ack", port + 1, redis_url, tenants, seconds),
    }
    result["brpop_keys"] = result["ack"].pop("brpop_keys")
    return result


__all__ = ["bench_fairness"]
