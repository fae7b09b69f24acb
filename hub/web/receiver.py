"""Receiver: the decisions behind POST /webhooks/chatwoot, independent of Flask.

For each webhook, in order: parse (400), verify the signature or URL token of
the conversation's domain (401), decide whether it deserves an answer (200 with
the reason when not), deduplicate (200 "duplicate"), resolve the domain, and
publish on the domain's queue (500 only if that fails, so Chatwoot retries).
Chatwoot's copies of the bot's own messages are filed on the way
(`hub.conversation.echoes`): they tell a worker whether a post it did not hear
back about reached Chatwoot.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import redis
import structlog
from celery import Celery
from prometheus_client import CollectorRegistry

from hub import defaults
from hub.chatwoot.events import (
    ConversationEvent,
    GenericEvent,
    MessageEvent,
    WebhookEvent,
    parse_event,
)
from hub.conversation.dedupe import Deduplicator
from hub.conversation.echoes import Echoes
from hub.conversation.fairness import FairShare
from hub.conversation.guard import Verdict, judge
from hub.conversation.handoff import is_urgent
from hub.conversation.inbound import InboundMessage, cut_text
from hub.conversation.intake import Intake
from hub.conversation.mailbox import Mailbox
from hub.conversation.media import content_of
from hub.conversation.quotes import Quotes
from hub.conversation.switching import added_labels, switch_signal, switch_vocabulary
from hub.conversation.takeover import Takeover
from hub.domains.domain import Domain
from hub.domains.manager import ConversationRef, DomainManager, Resolution
from hub.domains.registry import DomainRegistry
from hub.exceptions import (
    DomainNotFoundError,
    QueueError,
    ServiceUnavailableError,
)
from hub.kvstore import connect, redis_url
from hub.patches import install as install_patches
from hub.patches.kombu import TASK_PUBLISHER, TaskPublisher
from hub.plugins.manager import PluginHost
from hub.queue import (
    CLAIM_TURN,
    HANDLE_MESSAGE,
    broker_url,
    create_celery,
    is_shard,
    priority_of,
    queue_of,
)
from hub.settings import Settings, get_settings
from hub.store.database import database_url
from hub.telemetry import RedisMetricsCollector
from hub.web.health import DatabaseProbe
from hub.web.signatures import UNSIGNED_WARNING, SecretRule

log = structlog.get_logger(__name__)

PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0.05,
    "interval_step": 0.1,
    "interval_max": 0.2,
}
"""Broker publish retries: brief, since Chatwoot waits only 5 s and retries on 500."""


@dataclass(frozen=True)
class Outcome:
    """What the receiver answers: HTTP status and a JSON body saying why."""

    status: int
    outcome: str
    detail: str = ""
    domain: str | None = None
    task_id: str | None = None
    event: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"outcome": self.outcome}
        if self.detail:
            body["detail"] = self.detail
        if self.domain:
            body["domain"] = self.domain
        if self.task_id:
            body["task_id"] = self.task_id
        return body


@dataclass(frozen=True)
class Task:
    """A task to publish: its name, arguments, queue, and what Flower shows of it."""

    name: str
    args: list[Any]
    queue: str
    argsrepr: str


class Receiver:
    """Holds the receiver's long-lived parts: Redis, domains, the Celery producer."""

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis,
        registry: DomainRegistry,
        celery: Celery,
        *,
        clock: Any = time.time,
        database: DatabaseProbe | None = None,
        plugins: PluginHost | None = None,
    ) -> None:
        self.settings = settings
        self.redis = client
        self.registry = registry
        self.manager = DomainManager(
            registry, client, ttl_seconds=settings.conversation_ttl_seconds
        )
        self.signatures = SecretRule(settings, registry)
        self.dedupe = Deduplicator(client)
        self.intake = Intake(client)
        self.takeover = Takeover(client, settings.conversation_ttl_seconds)
        self.mailbox = Mailbox(client)
        self.echoes = Echoes(client)
        self.quotes = Quotes(client)
        self.fair = FairShare(client, default_cap=settings.tenant_max_concurrent)
        # `message_received` hooks: cheap signals (sentiment) that can make a message urgent.
        self.plugins = plugins or PluginHost.from_settings(settings)
        self.celery = celery
        # The broker is normally the state Redis (CHATWOOTAI_REDIS_URL is both): then a
        # task is queued in the mailbox push's transaction (`hub.patches.kombu`).
        install_patches(settings)
        shares_redis = celery.conf.broker_url == broker_url(redis_url(settings))
        self.publisher = (
            TaskPublisher(celery) if shares_redis and TASK_PUBLISHER.installed else None
        )
        self.clock = clock
        self.worker_metrics = CollectorRegistry(auto_describe=False)
        self.worker_metrics.register(RedisMetricsCollector(client))
        # Readiness only: the webhook path never queries the database.
        self.database = database or DatabaseProbe(database_url(settings))

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Receiver:
        settings = settings or get_settings()
        url = redis_url(settings)
        receiver = cls(
            settings,
            connect(url),
            DomainRegistry.serving(settings),
            create_celery(settings),
        )
        if receiver.signatures.mode == "off":
            log.warning(UNSIGNED_WARNING)
        return receiver

    def readiness_problems(self) -> dict[str, str]:
        """What keeps the service from answering messages right now: Redis (broker and
        state), the database the workers need (checked at most every ~1.5 s), domains."""
        problems: dict[str, str] = {}
        try:
            self.redis.ping()
        except redis.RedisError as error:
            problems["redis"] = str(error)
        database = self.database.problem()
        if database is not None:
            problems["database"] = database
        if not self.registry.domains:
            problems["domains"] = "no valid domain loaded"
        return problems

    def accept(
        self, raw: bytes, headers: Mapping[str, str], url_token: str | None = None
    ) -> Outcome:
        """Handle one webhook body; raises WebhookError subclasses for 400/401/413."""
        event = parse_event(raw)
        self.registry.maybe_reload()
        event = self._with_account(event)
        self._verify(event, raw, headers, url_token)
        try:
            outcome = self._route(event, headers)
        except redis.RedisError as error:  # 500: Chatwoot retries once Redis is back
            raise ServiceUnavailableError(f"Redis is unavailable: {error}") from error
        return replace(outcome, event=event.event)

    def _route(self, event: WebhookEvent, headers: Mapping[str, str]) -> Outcome:
        verdict = judge(event)
        if isinstance(event, MessageEvent) and verdict.action == "answer":
            return self._arrive(event, headers)
        if isinstance(event, MessageEvent) and verdict.action == "transcribed":
            return self._transcribed(event, headers)
        if isinstance(event, MessageEvent) and event.sender_kind == "contact":
            # Not answered, but its conversation's status still counts (`Takeover.observe`).
            self.takeover.observe(
                event.account_id, event.conversation_id, event.conversation_status
            )
        elif isinstance(event, MessageEvent) and event.sender_kind == "agent_bot":
            self._echo(event)
        return self._side_effects(event, verdict)

    def _echo(self, event: MessageEvent) -> None:
        """Chatwoot's copy of a message the bot posted: proof that Chatwoot stored it,
        for a worker that did not hear back from its post (`hub.conversation.echoes`)."""
        if event.event == "message_created":
            self.echoes.heard(event.account_id, event.conversation_id, event.id, event.text)
            self.quotes.file(event.account_id, event.conversation_id, event.id, "bot", event.text)

    def _transcribed(self, event: MessageEvent, headers: Mapping[str, str]) -> Outcome:
        """Chatwoot's transcription of a voice note. The message still waiting for it
        gets the words in its mailbox, and a task wakes its conversation; one that is
        not waiting (answered already, or its `message_created` not seen yet) goes the
        way of a new message, whose dedupe claim tells the two apart."""
        content = content_of(event)
        text, cut = cut_text(content.text, defaults.MAX_MESSAGE_CHARS)
        waited: list[bool] = []

        def heard(message: InboundMessage) -> InboundMessage:
            waited.append(message.unheard_audio)
            words = {"text": text, "media": content.media, "media_only": False, "cut_chars": cut}
            return InboundMessage.model_validate({**message.model_dump(), **words})

        updated = self.mailbox.replace(event.account_id, event.conversation_id, event.id, heard)
        if updated is None:
            outcome = self._arrive(event, headers)
            if outcome.outcome == "duplicate":
                return Outcome(200, "ignored", "transcription of a message already answered")
            return outcome
        if not waited[-1]:  # a later update (a read receipt) of a message heard already
            return Outcome(200, "ignored", "the voice note has its words already")
        log.info(
            "voice note transcribed by chatwoot",
            domain=updated.domain,
            conversation_id=event.conversation_id,
            message_id=event.id,
        )
        return Outcome(200, "queued", domain=updated.domain, task_id=self._wake(updated))

    def _wake(self, message: InboundMessage) -> str | None:
        """A task for a message already in its mailbox. Best effort: the task that
        queued it is still on its way (or waiting for its time), and answers it too."""
        try:
            domain = self.registry.get(message.domain)
            writes = self.redis.pipeline(transaction=True)
            task = self._task(message, domain, writes)
            if self.publisher is not None:
                task_id = self.publisher.add(
                    writes,
                    task.name,
                    task.args,
                    queue=task.queue,
                    priority=priority_of(message.urgent),
                    argsrepr=task.argsrepr,
                )
                writes.execute()
                return task_id
            writes.execute()
            return self._send(task, message.urgent)
        except Exception as error:  # kombu raises transport-specific errors
            log.warning("could not queue a wake-up; the waiting task answers", error=str(error))
            return None

    def _task(self, message: InboundMessage, domain: Domain, writes: redis.client.Pipeline) -> Task:
        """The task that answers `message`: on a dedicated queue, its own; on a shared one,
        a token, with the message put in its tenant's line on `writes`."""
        queue = queue_of(domain, self.settings.queue_shards)
        if not is_shard(queue):
            return Task(HANDLE_MESSAGE, [message.model_dump()], queue, message.safe_repr)
        self.fair.enqueue(
            queue,
            domain.id,
            message.model_dump(),
            urgent=message.urgent,
            cap=domain.spec.limits.max_concurrent,
            pipe=writes,
        )
        # A token claims whichever message is due; Flower shows what it was queued for.
        return Task(CLAIM_TURN, [queue], queue, f"{queue} for {message.safe_repr}")

    def _arrive(self, event: MessageEvent, headers: Mapping[str, str]) -> Outcome:
        """A message to answer: takeover, dedupe and the conversation's domain record are
        one round trip (`hub.conversation.intake`), then the domain and the queue."""
        delivery = headers.get("X-Chatwoot-Delivery")
        keys = [Deduplicator.message_key(event.account_id, event.id)]
        if delivery:
            keys.append(Deduplicator.delivery_key(delivery))
        ref = ConversationRef(event.account_id, event.conversation_id, event.inbox_id)
        arrival = self.intake.arrive(
            event.account_id,
            event.conversation_id,
            status=event.conversation_status,
            dedupe_keys=keys,
            domain_record=self.manager.key(ref),
        )
        if arrival.kind == "taken_over":
            return Outcome(200, "ignored", "a human agent has taken over this conversation")
        if arrival.kind == "duplicate":
            return Outcome(200, "duplicate", "this message was already accepted")
        try:
            return self._enqueue(event, ref, arrival.stored, delivery)
        except Exception:
            # Not queued, whatever went wrong: forget the claim, so Chatwoot's retry is
            # not taken for a duplicate.
            try:
                self.dedupe.release(keys)
            except redis.RedisError:
                log.error("could not release the dedupe claim of an unqueued message")
            raise

    def _enqueue(
        self,
        event: MessageEvent,
        ref: ConversationRef,
        stored: dict[str, str],
        delivery: str | None,
    ) -> Outcome:
        # The domain is remembered in the same round trip as the mailbox push, unless an
        # agent's label or attribute may switch it: then the switch is written after it.
        writes = self.redis.pipeline(transaction=True)
        labels, attributes = event.conversation.labels, event.conversation.custom_attributes
        resolution = self.manager.resolve(
            ref, stored=stored, pipe=None if labels or attributes else writes
        )
        resolution = self._switched(ref, resolution, labels=labels, attributes=attributes)
        domain = resolution.domain
        content = content_of(event)
        text, cut = cut_text(content.text, defaults.MAX_MESSAGE_CHARS)
        contact = event.sender.name if event.sender else None
        signals = self.plugins.received(domain, text, channel=event.channel, contact_name=contact)
        message = InboundMessage(
            domain=domain.id,
            account_id=event.account_id,
            conversation_id=event.conversation_id,
            inbox_id=event.inbox_id,
            message_id=event.id,
            # A caption and its attachment both matter ("quanto custa isso? [imagem]").
            text=text,
            media=content.media,
            media_only=content.media_only,
            quoted_message_id=content.quoted_message_id,
            subject=content.subject,
            cut_chars=cut,
            contact_id=event.sender.id if event.sender else None,
            contact_name=contact,
            contact_phone=event.sender.phone_number if event.sender else None,
            contact_email=event.sender.email if event.sender else None,
            channel=event.channel,
            delivery_id=delivery,
            # A handoff adds its labels to these: Chatwoot's labels call replaces the list.
            labels=tuple(labels) if "labels" in event.conversation.model_fields_set else None,
            urgent=is_urgent(domain, text) or signals.urgent,
            received_at=self.clock(),
        )
        # The mailbox first: whichever worker holds the conversation sees the whole burst.
        self.mailbox.push(message, pipe=writes)
        self.quotes.file(
            event.account_id, event.conversation_id, event.id, "customer", text, pipe=writes
        )
        task = self._task(message, domain, writes)
        if self.publisher is not None:  # the task too: one transaction, one round trip
            task_id = self.publisher.add(
                writes,
                task.name,
                task.args,
                queue=task.queue,
                priority=priority_of(message.urgent),
                argsrepr=task.argsrepr,
            )
            writes.execute()
        else:
            writes.execute()
            task_id = self._publish(message, task)
        log.info(
            "message queued",
            domain=domain.id,
            resolved_by=resolution.by,
            conversation_id=event.conversation_id,
            message_id=event.id,
            urgent=message.urgent,
        )
        return Outcome(200, "queued", domain=domain.id, task_id=task_id)

    def _publish(self, message: InboundMessage, task: Task) -> str:
        """Publish through Celery (a broker other than the state Redis), after the mailbox
        push: a failed publish takes the message back out of the mailbox."""
        try:
            task_id = self._send(task, message.urgent)
        except Exception as error:  # kombu raises transport-specific errors
            log.error("could not queue message", domain=message.domain, error=str(error))
            try:
                self.mailbox.withdraw(message)  # Chatwoot resends it after our 500
                if task.name == CLAIM_TURN:  # its line holds it, with no token to claim it
                    self.fair.withdraw(task.queue, message.domain, message.model_dump())
            except redis.RedisError:
                log.error("could not withdraw the unqueued message from its mailbox")
            raise QueueError(f"could not queue the message on {task.queue}: {error}") from error
        return task_id

    def _send(self, task: Task, urgent: bool) -> str:
        """The task through Celery's own publish, with brief retries."""
        result = self.celery.send_task(
            task.name,
            args=task.args,
            queue=task.queue,
            priority=priority_of(urgent),
            argsrepr=task.argsrepr,
            kwargsrepr="{}",
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )
        return str(result.id)

    def _switched(
        self,
        ref: ConversationRef,
        resolution: Resolution,
        *,
        labels: list[str],
        attributes: dict[str, Any],
        added: set[str] | None = None,
    ) -> Resolution:
        """Apply a domain switch an agent asked for with a label or custom attribute."""
        if not labels and not attributes:
            return resolution
        signal = switch_signal(
            resolution.domain, labels=labels, attributes=attributes, added_labels=added or ()
        )
        if signal is None:
            return resolution
        try:
            self.manager.switch(ref, signal.target, reason=signal.reason, by="chatwoot")
        except DomainNotFoundError:
            log.warning(
                "switch to an unknown domain ignored",
                target=signal.target,
                reason=signal.reason,
                conversation_id=ref.conversation_id,
            )
            return resolution
        target = self.registry.get(signal.target)
        self.plugins.domain_changed(
            resolution.domain,
            target,
            account_id=ref.account_id,
            conversation_id=ref.conversation_id,
            by="chatwoot",
        )
        return Resolution(target, "switch")

    def _conversation_switch(self, event: ConversationEvent) -> None:
        """A conversation event that carries switch labels or the switch attribute."""
        if event.account_id is None:
            return
        labels, attributes = switch_vocabulary(self.registry.domains.values())
        if not (
            any(label.lower() in labels for label in event.labels)
            or attributes.intersection(event.custom_attributes)
        ):
            return
        ref = ConversationRef(event.account_id, event.id, event.inbox_id)
        self._switched(
            ref,
            self.manager.resolve(ref),
            labels=event.labels,
            attributes=event.custom_attributes,
            added=added_labels(event.changed_attributes),
        )

    def _side_effects(self, event: WebhookEvent, verdict: Verdict) -> Outcome:
        """Events that are not answered may still change conversation state."""
        if isinstance(event, ConversationEvent):
            self._conversation_switch(event)
        if verdict.action == "human_took_over" and verdict.conversation is not None:
            account_id, conversation_id = verdict.conversation
            self.takeover.mark(account_id, conversation_id, verdict.reason)
        elif verdict.action == "given_back" and verdict.conversation is not None:
            account_id, conversation_id = verdict.conversation
            self.takeover.clear(account_id, conversation_id)
        return Outcome(200, "ignored", verdict.reason)

    def _with_account(self, event: WebhookEvent) -> WebhookEvent:
        """A conversation event without an account gets the one its inbox belongs to
        (agent-bot events may carry none; inbox ids are global), before it is verified:
        the account decides which secret it must be signed with."""
        if isinstance(event, ConversationEvent) and event.account_id is None:
            account = self.registry.account_of_inbox(event.inbox_id)
            return event.model_copy(update={"account_id": account})
        return event

    def _verify(
        self, event: WebhookEvent, raw: bytes, headers: Mapping[str, str], url_token: str | None
    ) -> None:
        """Check the signature (or URL token) against the secrets of the event's account
        (`hub.web.signatures`): never against one the payload's inbox or labels pick."""
        account_id = event.account_id
        if account_id is None and isinstance(event, GenericEvent) and event.inbox_id is not None:
            account_id = self.registry.account_of_inbox(event.inbox_id)
        self.signatures.check(account_id, raw, headers, url_token, self.clock())
