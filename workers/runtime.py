"""Everything a worker process holds for its whole life, built once at start.

One CrewFactory per process (every domain's configuration validated at start; each
domain prepared at its first message, or at start when `CHATWOOTAI_KITS_WARM` says
so), one Redis client, one Chatwoot client with its connection pool.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import redis
import structlog
import urllib3

from hub.chatwoot.breaker import Breaker, BreakerSettings
from hub.chatwoot.client import ChatwootClient
from hub.conversation.deadletter import DeadLetters
from hub.conversation.fairness import FairShare
from hub.conversation.gate import TurnGate
from hub.conversation.limits import TenantLimits
from hub.conversation.lock import ConversationLocks
from hub.conversation.mailbox import Mailbox
from hub.conversation.misses import Misses
from hub.conversation.replies import ReplyLedger
from hub.conversation.takeover import Takeover
from hub.crews.answer_cache import AnswerCache
from hub.crews.factory import CrewFactory
from hub.domains.registry import DomainRegistry
from hub.kvstore import connect, redis_url
from hub.patches import install as install_patches
from hub.settings import Settings, get_settings
from hub.store.embedded import prepare_embedded_store
from hub.store.spool import TurnSpool
from hub.telemetry import Telemetry
from workers.middleware import Metrics, Middleware, Middlewares, PluginNotices, TurnLog
from workers.subscriptions import Subscriptions

log = structlog.get_logger(__name__)


@dataclass
class WorkerRuntime:
    """The long-lived parts of a worker process."""

    settings: Settings
    redis: redis.Redis
    registry: DomainRegistry
    factory: CrewFactory
    chatwoot: ChatwootClient
    replies: ReplyLedger
    takeover: Takeover
    mailbox: Mailbox
    locks: ConversationLocks
    gate: TurnGate
    misses: Misses
    limits: TenantLimits
    dead_letters: DeadLetters
    spool: TurnSpool
    """Turn records the database refused, written back when it takes them."""
    fair: FairShare
    """The tenants' lines on the shared queues, claimed by their tokens."""
    telemetry: Telemetry
    middleware: Middleware
    """What watches each turn: metrics, its log lines, the plugins' notices."""
    subscriptions: Subscriptions | None = None
    """A worker for every domain: what adds the queues of new domains."""

    @classmethod
    def build(cls, settings: Settings | None = None) -> WorkerRuntime:
        settings = settings or get_settings()
        install_patches(settings)
        client = connect(redis_url(settings))
        registry = DomainRegistry.serving(settings)
        answers = AnswerCache(client, settings) if settings.answer_cache else None
        factory = CrewFactory(registry, settings, answers=answers)
        prepare_embedded_store(settings, registry.domains.values(), factory.engine)
        failures = factory.warm_at_start()
        log.info(
            "worker runtime ready",
            domains=len(registry.domains),
            prepared=len(factory.prepared),
            failed=sorted(failures),
        )
        locks = ConversationLocks(client)
        telemetry = Telemetry(client)
        factory.knowledge_base.retrieval.observer = lambda domain_id, result: telemetry.count(
            "retrieval_cache", domain_id, result
        )
        return cls(
            settings=settings,
            redis=client,
            registry=registry,
            factory=factory,
            chatwoot=ChatwootClient(
                settings.chatwoot_url, settings=settings, breaker=breaker(client, settings)
            ),
            replies=ReplyLedger(client),
            takeover=Takeover(client, settings.conversation_ttl_seconds),
            mailbox=Mailbox(client),
            locks=locks,
            gate=TurnGate(client, locks),
            misses=Misses(client),
            limits=TenantLimits(client),
            dead_letters=DeadLetters(client),
            spool=TurnSpool(client),
            fair=FairShare(
                client,
                lease_seconds=2 * settings.visibility_timeout_seconds,
                default_cap=settings.tenant_max_concurrent,
            ),
            telemetry=telemetry,
            middleware=Middlewares([TurnLog(), Metrics(telemetry), PluginNotices(factory.plugins)]),
        )


def breaker(client: redis.Redis, settings: Settings) -> Breaker | None:
    """The circuit of the configured Chatwoot host, shared with every worker through
    Redis (none when Chatwoot is not configured: nothing is sent)."""
    if not settings.chatwoot_url:
        return None
    url = urllib3.util.parse_url(settings.chatwoot_url)
    return Breaker(
        client,
        f"{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}",
        BreakerSettings(
            failures=settings.chatwoot_breaker_failures,
            cooldown_seconds=settings.chatwoot_breaker_cooldown_seconds,
            max_cooldown_seconds=settings.chatwoot_breaker_max_cooldown_seconds,
            drain_rate=settings.chatwoot_drain_rate,
        ),
    )


_runtime: WorkerRuntime | None = None
_lock = threading.Lock()


def runtime() -> WorkerRuntime:
    """This process's runtime, built on first use (normally at worker start)."""
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = WorkerRuntime.build()
    return _runtime


def built() -> WorkerRuntime | None:
    """This process's runtime if it was built, without building it (shutdown hooks)."""
    return _runtime
