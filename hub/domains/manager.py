"""DomainManager: which domain a conversation belongs to, remembered in Redis.

Resolution order, first match wins:

1. an explicit **switch** stored for the conversation (a human moved it; it must
   stick, or switching would be undone by the next message);
2. the **inbox** mapping: a domain listing this account id and inbox id;
3. the **account** mapping: a domain claiming the whole account (no inbox_ids);
4. the **stored association** from an earlier message, so a conversation keeps
   its domain when a mapping is later removed from the YAML;
5. the `default` domain.

Redis keys (prefix `chatwootai`, TTL `CHATWOOTAI_CONVERSATION_TTL_SECONDS`,
default 30 days, refreshed on every resolve):

- `chatwootai:conversation:{account_id}:{conversation_id}`: hash with `domain`,
  `source` (`switch` or `mapped`), and for switches `by`, `reason`, `at`;
- `chatwootai:conversation:{account_id}:{conversation_id}:switches`: list of
  JSON switch records, newest last, capped at 50.

Conversation ids are per account in Chatwoot, hence the account in every key.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal, cast

import redis
import structlog

from hub import defaults
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.exceptions import DomainNotFoundError, ServiceUnavailableError

log = structlog.get_logger(__name__)

ResolvedBy = Literal["switch", "inbox", "account", "stored", "default"]


@dataclass(frozen=True)
class ConversationRef:
    """A Chatwoot conversation: ids are only unique within an account."""

    account_id: int
    conversation_id: int
    inbox_id: int | None = None


@dataclass(frozen=True)
class Resolution:
    """The domain of a conversation and which rule chose it."""

    domain: Domain
    by: ResolvedBy


@dataclass(frozen=True)
class SwitchRecord:
    """Who moved a conversation to another domain, when and why."""

    from_domain: str | None
    to_domain: str
    by: str
    reason: str
    at: str


class DomainManager:
    """Resolves and switches conversation domains; the registry holds the domains."""

    def __init__(
        self,
        registry: DomainRegistry,
        client: redis.Redis,
        *,
        ttl_seconds: int = defaults.CONVERSATION_TTL_SECONDS,
        default_domain: str = defaults.DEFAULT_DOMAIN,
        history_limit: int = defaults.SWITCH_HISTORY_LIMIT,
    ) -> None:
        self.registry = registry
        self.redis = client
        self.ttl_seconds = ttl_seconds
        self.default_domain = default_domain
        self.history_limit = history_limit

    def key(self, conversation: ConversationRef) -> str:
        """The Redis hash holding the conversation's domain."""
        return (
            f"{defaults.REDIS_KEY_PREFIX}:conversation:"
            f"{conversation.account_id}:{conversation.conversation_id}"
        )

    def resolve(
        self,
        conversation: ConversationRef,
        *,
        stored: dict[str, str] | None = None,
        pipe: redis.client.Pipeline | None = None,
    ) -> Resolution:
        """The conversation's domain, by the documented order; remembers the answer.

        `stored`: the conversation's record, when the caller already read it (the
        receiver reads it with its dedupe claim, `hub.conversation.intake`); `pipe`:
        queue the remembering there, for the caller to send with its own writes.
        """
        self.registry.maybe_reload()
        key = self.key(conversation)
        if stored is None:
            try:
                stored = cast(dict[str, str], self.redis.hgetall(key))
            except redis.RedisError as error:
                raise ServiceUnavailableError(f"Redis: {error}") from error
        resolution = self._choose(conversation, stored)
        writes = pipe if pipe is not None else self.redis.pipeline(transaction=False)
        if stored.get("domain") != resolution.domain.id:
            writes.hset(key, mapping={"domain": resolution.domain.id, "source": "mapped"})
            writes.hdel(key, "by", "reason", "at")
        writes.expire(key, self.ttl_seconds)
        writes.expire(f"{key}:switches", self.ttl_seconds)
        if pipe is None:
            try:
                writes.execute()
            except redis.RedisError as error:
                raise ServiceUnavailableError(f"Redis: {error}") from error
        return resolution

    def _choose(self, conversation: ConversationRef, stored: dict[str, str]) -> Resolution:
        domains = self.registry.domains
        stored_domain = domains.get(stored.get("domain", ""))
        if stored.get("source") == "switch":
            if stored_domain is not None:
                return Resolution(stored_domain, "switch")
            log.warning("switched-to domain is gone; resolving again", stored=stored.get("domain"))
        found = self.registry.find(conversation.account_id, conversation.inbox_id)
        if found is not None:
            return Resolution(found[0], found[1])
        if stored_domain is not None:
            return Resolution(stored_domain, "stored")
        default = domains.get(self.default_domain)
        if default is None:
            raise DomainNotFoundError(self.default_domain, domains)
        return Resolution(default, "default")

    def switch(
        self, conversation: ConversationRef, domain_id: str, *, reason: str, by: str
    ) -> SwitchRecord:
        """Move the conversation to `domain_id` until switched again; returns the record."""
        target = self.registry.get(domain_id)  # raises DomainNotFoundError
        key = self.key(conversation)
        record = SwitchRecord(
            from_domain=cast(str | None, self.redis.hget(key, "domain")),
            to_domain=target.id,
            by=by,
            reason=reason,
            at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={
                "domain": target.id,
                "source": "switch",
                "by": by,
                "reason": reason,
                "at": record.at,
            },
        )
        pipe.rpush(f"{key}:switches", json.dumps(asdict(record), ensure_ascii=False))
        pipe.ltrim(f"{key}:switches", -self.history_limit, -1)
        pipe.expire(key, self.ttl_seconds)
        pipe.expire(f"{key}:switches", self.ttl_seconds)
        pipe.execute()
        log.info(
            "conversation switched domain",
            from_domain=record.from_domain,
            to_domain=target.id,
            by=by,
            reason=reason,
            conversation_id=conversation.conversation_id,
        )
        return record

    def history(self, conversation: ConversationRef) -> list[SwitchRecord]:
        """Every recorded switch of the conversation, oldest first."""
        raw = self.redis.lrange(f"{self.key(conversation)}:switches", 0, -1)
        return [SwitchRecord(**json.loads(item)) for item in raw]

    def forget(self, conversation: ConversationRef) -> None:
        """Drop what we remember of the conversation (its domain and switch history)."""
        key = self.key(conversation)
        self.redis.delete(key, f"{key}:switches")


__all__ = ["ConversationRef", "DomainManager", "Resolution", "SwitchRecord"]
