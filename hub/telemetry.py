"""Metrics every process records and the receiver's /metrics exposes.

Workers run in other processes (and hosts) than the receiver, so their
measurements go to Redis: one hash per metric, fields `domain|…`, incremented
with one pipelined round trip per observation. The receiver's collector reads
them at scrape time and renders Prometheus counters and cumulative histograms.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import redis
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from hub import defaults

PREFIX = f"{defaults.REDIS_KEY_PREFIX}:metrics"
SECONDS_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

HISTOGRAMS: dict[str, str] = {
    "queue_wait_seconds": "Time from the receiver accepting a message to a worker starting it",
    "crew_seconds": "Time the HubCrew took to produce a reply (routing included)",
}
COUNTERS: dict[str, str] = {
    "messages_handled": "Messages handled by workers, by domain and outcome",
    "model_tokens": "Model tokens spent, by domain and kind (prompt, completion)",
}


class Telemetry:
    """Records observations in Redis; never raises (metrics must not break a reply).

    Inside `with telemetry.batch():` (one per message) the increments of the
    thread wait and go to Redis in one round trip when the block ends.
    """

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._local = threading.local()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        self._local.pending = []
        try:
            yield
        finally:
            pending: list[tuple[str, str, float]] = self._local.pending
            self._local.pending = None
            self._send(pending)

    def observe(self, name: str, domain: str, seconds: float) -> None:
        bucket = next((b for b in SECONDS_BUCKETS if seconds <= b), float("inf"))
        key = f"{PREFIX}:{name}"
        self._add([(key, f"{domain}|le={bucket}", 1), (key, f"{domain}|sum", seconds)])

    def count(self, name: str, domain: str, outcome: str, amount: int = 1) -> None:
        self._add([(f"{PREFIX}:{name}", f"{domain}|{outcome}", amount)])

    def _add(self, increments: list[tuple[str, str, float]]) -> None:
        pending = getattr(self._local, "pending", None)
        if pending is None:
            self._send(increments)
        else:
            pending.extend(increments)

    def _send(self, increments: list[tuple[str, str, float]]) -> None:
        if not increments:
            return
        pipe = self.redis.pipeline(transaction=False)
        for key, field, amount in increments:
            if isinstance(amount, int):
                pipe.hincrby(key, field, amount)
            else:
                pipe.hincrbyfloat(key, field, amount)
        with contextlib.suppress(redis.RedisError):
            pipe.execute()


class RedisMetricsCollector(Collector):
    """Prometheus collector over the hashes `Telemetry` writes."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def collect(self) -> Iterator[Metric]:
        try:
            raw = {
                name: self.redis.hgetall(f"{PREFIX}:{name}") for name in (*HISTOGRAMS, *COUNTERS)
            }
        except redis.RedisError:
            return
        for name, documentation in HISTOGRAMS.items():
            yield _histogram(name, documentation, raw[name])
        for name, documentation in COUNTERS.items():
            counter = CounterMetricFamily(
                f"chatwootai_{name}", documentation, labels=["domain", "outcome"]
            )
            for field, value in sorted(raw[name].items()):
                domain, outcome = str(field).split("|", 1)
                counter.add_metric([domain, outcome], float(value))
            yield counter


def _histogram(name: str, documentation: str, fields: Mapping[Any, Any]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(f"chatwootai_{name}", documentation, labels=["domain"])
    counts: dict[str, dict[float, float]] = defaultdict(dict)
    sums: dict[str, float] = {}
    for field, value in fields.items():
        domain, part = str(field).split("|", 1)
        if part == "sum":
            sums[domain] = float(value)
        else:
            counts[domain][float(part.removeprefix("le="))] = float(value)
    for domain in sorted(counts):
        family.add_metric([domain], _cumulative(counts[domain]), sums.get(domain, 0.0))
    return family


def _cumulative(per_bucket: dict[float, float]) -> Sequence[tuple[str, float]]:
    total = 0.0
    buckets = []
    for bound in (*SECONDS_BUCKETS, float("inf")):
        total += per_bucket.get(bound, 0.0)
        buckets.append(("+Inf" if bound == float("inf") else str(bound), total))
    return buckets
