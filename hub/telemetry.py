"""Metrics every process records and the receiver's /metrics exposes.

Workers run in other processes (and hosts) than the receiver, so their
measurements go to Redis: one hash per metric, fields `domain|…`. A worker
process sums its increments in memory and sends them every second, in one
pipelined round trip, from a background thread (`Telemetry.start()`): a message
costs a few dictionary updates instead of a round trip of its own, and Redis
takes one write per series a second, not several per message. The receiver's
collector reads the hashes at scrape time and renders Prometheus counters and
cumulative histograms, so every receiver process answers a scrape alike.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import redis
import structlog
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from hub import defaults

log = structlog.get_logger(__name__)

PREFIX = f"{defaults.REDIS_KEY_PREFIX}:metrics"
FLUSH_SECONDS = 1.0
"""How often a worker's summed metrics go to Redis: what a crash can lose, and how
far behind a scrape may be (Prometheus scrapes every 15 s or so)."""
SECONDS_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class CounterSpec(NamedTuple):
    """A worker counter: the label beside `domain`, and its HELP text."""

    label: str
    documentation: str


HISTOGRAMS: dict[str, str] = {
    "queue_wait_seconds": (
        "Time from the receiver accepting a message to a worker starting its turn "
        "(the burst window included)"
    ),
    "crew_seconds": "Time the HubCrew took to produce a reply (routing included)",
    "reply_seconds": (
        "Time from the receiver accepting a message to the customer-facing answer "
        "(a reply or a handoff notice) reaching Chatwoot"
    ),
}
COUNTERS: dict[str, CounterSpec] = {
    "messages_handled": CounterSpec(
        "outcome",
        "Messages handled by workers, by domain and outcome (replied, handed_off, "
        "duplicate: answered already, or with its burst; silent; "
        "busy: left to the worker holding its conversation; deferred: the customer was "
        "still typing, its burst's newest message comes back later; dead_letter)",
    ),
    "replies": CounterSpec(
        "kind",
        "Customer-facing messages workers posted to Chatwoot, by domain and kind "
        "(answer: the crew's reply; handoff: the notice that a person takes over)",
    ),
    "handoffs": CounterSpec(
        "reason",
        "Conversations handed to a person, by domain and why (rule: a domain rule matched; "
        "customer_asked: the customer asked for a person; crew: an agent chose to; "
        "plugin: a plugin decided before the crew (e.g. very negative sentiment); "
        "failure: the crew failed and the fallback message was sent; unanswered: the bot "
        "could not answer handoff.max_failures turns in a row; late: a reply held back "
        "past the domain's conversation.late_reply_seconds, with late_reply: handoff; "
        "limit: the domain was over one of its limits)",
    ),
    "failures": CounterSpec(
        "reason",
        "Failures met while handling messages, by domain and reason: model_timeout, "
        "model_error, crew_error and tool_error (each answered with the fallback and a "
        "handoff), "
        "chatwoot_error and redis_error (per failed attempt; the task retries), "
        "store_unavailable (a turn the database refused, spooled until it is back), "
        "dead_lettered (messages given up on, kept in the dead-letter list)",
    ),
    "dead_letters": CounterSpec(
        "reason",
        "Messages given up on and kept in the dead-letter list, by domain and why "
        "(chatwoot_unavailable: Chatwoot failed for the whole retry time; "
        "chatwoot_refused: a final 4xx; redis_unavailable; invalid_payload; unexpected)",
    ),
    "model_tokens": CounterSpec(
        "kind", "Model tokens spent, by domain and kind (prompt, completion)"
    ),
    "tenant_limited": CounterSpec(
        "limit",
        "Turns answered with the domain's limit message and a handoff, by domain and the "
        "limit it was over (messages_per_minute, tokens_per_day)",
    ),
    "replies_rejected": CounterSpec(
        "reason",
        "Model replies the reply gate refused before posting, by domain and reason (empty, "
        "tool_call, scaffolding, recital, language, unsupported_fact)",
    ),
    "reply_fallbacks": CounterSpec(
        "source",
        "Turns whose model reply was refused, by domain and what was posted instead (retry: "
        "the model's second reply; offline: the offline model's extractive answer; unknown: "
        "the domain's unknown message; handoff: the domain's handoff message)",
    ),
    "answer_cache": CounterSpec(
        "result",
        "Turns and the answer cache, by domain and result (hit: served a stored answer, "
        "no model; store: not held, and its answer was stored; miss: not held, and its "
        "answer could not be stored (a tool, a name, a fallback); skip: the turn took no "
        "part (history, pictures, personal data, the moment))",
    ),
    "retrieval_cache": CounterSpec(
        "result",
        "Knowledge searches, by domain and whether the retrieval cache held the query's "
        "passages (hit) or the knowledge base was searched (miss)",
    ),
}
DERIVED_FAILURES = {"dead_letter": "dead_lettered"}
"""`failures` reasons read from `messages_handled` outcomes at scrape time: the task
counts a dead letter once, as an outcome, and both series show it."""


class Telemetry:
    """Records observations in Redis; never raises (metrics must not break a reply).

    Started (`start()`, as worker processes are), increments are summed in memory
    per series and a background thread sends the sums every `flush_seconds`; one
    that fails (Redis down) is kept for the next. `stop()` sends what is left.
    Not started (tests, tools), increments go at once, or inside
    `with telemetry.batch():` together when the block ends.
    """

    def __init__(self, client: redis.Redis, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.redis = client
        self.flush_seconds = flush_seconds
        self._local = threading.local()
        self._totals: dict[tuple[str, str], float] = {}
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._flusher: threading.Thread | None = None

    def start(self) -> None:
        """Sum increments in memory from now on and send them from a background thread."""
        with self._guard:
            if self._flusher is not None and self._flusher.is_alive():
                return
            self._stopping = threading.Event()
            self._flusher = threading.Thread(
                target=self._flush_every_interval, name="metrics-flusher", daemon=True
            )
            self._flusher.start()

    @property
    def started(self) -> bool:
        """Summing in memory, with a background thread sending the sums."""
        return self._flusher is not None

    def stop(self) -> None:
        """Stop the background thread and send what it had not sent yet."""
        flusher, self._flusher = self._flusher, None
        self._stopping.set()
        if flusher is not None:
            flusher.join(timeout=self.flush_seconds + 5)
        self.flush()

    def flush(self) -> None:
        """Send the summed increments now, in one round trip; kept for later if Redis fails."""
        with self._guard:
            totals, self._totals = self._totals, {}
        if not totals:
            return
        try:
            self._write([(key, field, amount) for (key, field), amount in totals.items()])
        except redis.RedisError as error:
            self._sum(totals.items())
            log.warning("metrics not sent; kept for the next attempt", error=str(error))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold this thread's increments until the block ends; a nested block joins the
        outer one (an eager Celery retry runs the task again inside the first run).
        Started, the background thread sends them anyway."""
        if getattr(self._local, "pending", None) is not None:
            yield
            return
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
        """Add `amount` to counter `name` for `domain` and the value of its second label."""
        self._add([(f"{PREFIX}:{name}", f"{domain}|{outcome}", amount)])

    def _add(self, increments: list[tuple[str, str, float]]) -> None:
        if self._flusher is not None:
            self._sum(((key, field), amount) for key, field, amount in increments)
            return
        pending = getattr(self._local, "pending", None)
        if pending is None:
            self._send(increments)
        else:
            pending.extend(increments)

    def _sum(self, increments: Iterable[tuple[tuple[str, str], float]]) -> None:
        with self._guard:
            totals = self._totals
            for series, amount in increments:
                totals[series] = totals.get(series, 0) + amount

    def _flush_every_interval(self) -> None:
        stopping = self._stopping
        while not stopping.wait(self.flush_seconds):
            self.flush()

    def _send(self, increments: list[tuple[str, str, float]]) -> None:
        if not increments:
            return
        with contextlib.suppress(redis.RedisError):
            self._write(increments)

    def _write(self, increments: list[tuple[str, str, float]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key, field, amount in increments:
            if isinstance(amount, int):
                pipe.hincrby(key, field, amount)
            else:
                pipe.hincrbyfloat(key, field, amount)
        pipe.execute()


class RedisMetricsCollector(Collector):
    """Prometheus collector over the hashes `Telemetry` writes (one round trip a scrape)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def collect(self) -> Iterator[Metric]:
        names = (*HISTOGRAMS, *COUNTERS)
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(f"{PREFIX}:{name}")
        pipe.llen(defaults.TURN_SPOOL_KEY)
        try:
            *hashes, spooled = pipe.execute()
        except redis.RedisError:
            return
        raw: dict[str, dict[Any, Any]] = dict(zip(names, hashes, strict=True))
        yield GaugeMetricFamily(
            "chatwootai_turn_spool_length",
            "Turn records waiting in Redis for the database (written back when it returns)",
            value=float(spooled),
        )
        raw["failures"] = {**raw["failures"], **_derived_failures(raw["messages_handled"])}
        for name, documentation in HISTOGRAMS.items():
            yield _histogram(name, documentation, raw[name])
        for name, spec in COUNTERS.items():
            counter = CounterMetricFamily(
                f"chatwootai_{name}", spec.documentation, labels=["domain", spec.label]
            )
            for field, value in sorted(raw[name].items()):
                domain, label = str(field).split("|", 1)
                counter.add_metric([domain, label], float(value))
            yield counter


def _derived_failures(handled: Mapping[Any, Any]) -> dict[str, Any]:
    derived: dict[str, Any] = {}
    for field, value in handled.items():
        domain, outcome = str(field).split("|", 1)
        if outcome in DERIVED_FAILURES:
            derived[f"{domain}|{DERIVED_FAILURES[outcome]}"] = value
    return derived


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
