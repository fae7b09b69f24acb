"""The answer cache: a repeated knowledge question is answered again without the model.

Customers of one business ask the same few things all day. An answer that depends
only on the domain's documents is stored in Redis (shared by every worker) and
served to the same question, or a close paraphrase, until its TTL
(`cache: {answers, ttl_seconds, threshold}` in the domain).

Which turns take part and which answers are stored is decided by the pure rules of
`hub.crews.cacheable` (no history the answer leans on, no tool but the knowledge
search, no personal data, through the reply gate). An answer is stored before the
plugins' `after_crew`, so the greeting with the name and the signature are added
per customer when it is served.

The key (`Question.bucket`): the domain, a version hashing the domain's files
fingerprint, the knowledge's fingerprint, the model and the cache format (an edit
of any file or chunk, or another model, changes it at once: old entries are never
read again and expire), the reply language, the plugins' notes for the turn, and
the question's terms that the documents use. Inside that hash, each wording's full
term set is a field: the same terms are a hit; another wording is a hit when its
embedding's cosine to a stored one is at least the domain's threshold. Since the
documents' words must be the same, "horário de sábado" never meets "horário de
domingo", however close their vectors.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import redis
import structlog

from hub import defaults
from hub.conversation.decision import reply_language
from hub.crews.cacheable import ineligible, unstorable
from hub.crews.llm import model_name
from hub.knowledge.glossary import search_text
from hub.knowledge.text import tokenize
from hub.turn import CacheOutcome, HubResult, RoutedBy, Turn

if TYPE_CHECKING:
    from hub.crews.kit import DomainKit
    from hub.settings import Settings

log = structlog.get_logger(__name__)

FORMAT = 1
"""The layout of an entry; part of the version, so a new layout never reads an old one."""
PREFIX = f"{defaults.REDIS_KEY_PREFIX}:answers"


@dataclass
class Question:
    """A turn's question as the cache files it."""

    bucket: str
    """The Redis hash of this domain version, language, context and documents' words."""
    form: str
    """All the question's search terms, sorted: the field of its wording."""
    language: str
    text: str
    kit: DomainKit = field(repr=False)
    _vector: np.ndarray[Any, np.dtype[np.float32]] | None = field(default=None, repr=False)

    def vector(self) -> np.ndarray[Any, np.dtype[np.float32]] | None:
        """The question's embedding (the knowledge base's model), once; None without one."""
        embedder = self.kit.library.embedder
        if embedder is None:
            return None
        if self._vector is None:
            self._vector = np.asarray(embedder.embed_query(self.text), dtype=np.float32)
        return self._vector


@dataclass(frozen=True)
class Stored:
    """An answer as stored: the reply before personalization, and how it was routed."""

    reply: str
    route: str
    routed_by: RoutedBy
    confidence: float
    stored_at: float
    vector: np.ndarray[Any, np.dtype[np.float32]] | None = None


class AnswerCache:
    """The answers of every domain, in Redis; every failure is a miss, never an error."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self.clock = time.time

    def question(self, kit: DomainKit, turn: Turn, notes: Iterable[str] = ()) -> Question | str:
        """The turn's filed question, or why it takes no part (a `skip` reason).

        `notes` are what the plugins added to the prompt (`before_crew`): an answer
        made with them is served only to turns with the same notes."""
        reason = ineligible(turn)
        if reason is not None:
            return reason
        domain = kit.domain
        spoken = reply_language(domain, turn)
        searched = search_text(
            turn.message,
            knows=kit.knowledge.knows,
            aliases=domain.spec.knowledge.aliases,
            language=spoken,
        )
        terms = sorted(set(tokenize(searched)))
        if not terms:
            return "empty"
        known = [term for term in terms if kit.knowledge.knows(term)]
        version = _digest(
            str(FORMAT),
            domain.fingerprint,
            kit.library.fingerprint,
            model_name(domain, self.settings),
            kit.library.embedder.name if kit.library.embedder else "-",
        )
        bucket = ":".join(
            (PREFIX, domain.id, version, spoken, _digest(*notes)[:8], _digest(*known))
        )
        return Question(bucket, " ".join(terms), spoken, turn.message, kit)

    def find(self, question: Question) -> tuple[Stored | None, int]:
        """The stored answer to `question` (None: a miss), and how many wordings its
        hash holds."""
        try:
            raw = self.redis.hgetall(question.bucket)
        except redis.RedisError as error:
            log.warning("answer cache unavailable", error=str(error)[:200])
            return None, defaults.ANSWER_CACHE_BUCKET_ENTRIES
        spec = question.kit.domain.spec.cache
        now = self.clock()
        entries: dict[str, Stored] = {}
        stale: list[str] = []
        for key, value in raw.items():
            stored = _parse(value)
            if stored is not None and now - stored.stored_at < spec.ttl_seconds:
                entries[_text(key)] = stored
            else:
                stale.append(_text(key))
        if stale:  # expired or unreadable: room for new wordings
            with contextlib.suppress(redis.RedisError):
                self.redis.hdel(question.bucket, *stale)
        exact = entries.get(question.form)
        if exact is not None:
            return exact, len(entries)
        vectors = [(s, s.vector) for s in entries.values() if s.vector is not None]
        mine = question.vector() if vectors else None
        if mine is None:
            return None, len(entries)
        best, score = max(((s, float(np.dot(mine, v))) for s, v in vectors), key=lambda x: x[1])
        return (best if score >= spec.threshold else None), len(entries)

    def keep(
        self,
        question: Question,
        turn: Turn,
        result: HubResult,
        *,
        held: int,
        gate: Callable[[], bool] | None = None,
    ) -> CacheOutcome:
        """Store `result`'s reply (before personalization) for `question` when it may be
        served to anyone: `store`, else `skip` (see the module doc). `gate`, asked last,
        screens a reply that did not go through the reply gate (the offline model's)."""
        reason = unstorable(question.kit, turn, result)
        if reason is None and held >= defaults.ANSWER_CACHE_BUCKET_ENTRIES:
            reason = "full"
        if reason is None and gate is not None and not gate():
            reason = "gate"
        if reason is not None:
            log.debug("answer not cached", reason=reason)
            return "skip"
        vector = question.vector()
        entry = {
            "reply": result.reply,
            "route": result.route,
            "routed_by": result.routed_by,
            "confidence": round(result.route_confidence, 4),
            "stored_at": self.clock(),
            "vector": _packed(vector) if vector is not None else None,
        }
        ttl = question.kit.domain.spec.cache.ttl_seconds
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.hset(question.bucket, question.form, json.dumps(entry, ensure_ascii=False))
            pipe.expire(question.bucket, ttl)
            pipe.execute()
        except redis.RedisError as error:
            log.warning("answer cache unavailable", error=str(error)[:200])
            return "skip"
        return "store"


def served(stored: Stored, reply: str, started: float) -> HubResult:
    """The turn's result when the cache answered: no model, no tokens."""
    return HubResult(
        reply=reply,
        route=stored.route,
        routed_by=stored.routed_by,
        route_confidence=stored.confidence,
        crew_seconds=time.perf_counter() - started,
        source="cache",
        cache="hit",
    )


def _digest(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _packed(vector: np.ndarray[Any, np.dtype[np.float32]]) -> str:
    return base64.b64encode(vector.astype(np.float16).tobytes()).decode()


def _parse(value: str | bytes) -> Stored | None:
    try:
        data = json.loads(_text(value))
        packed = data.get("vector")
        vector = (
            np.frombuffer(base64.b64decode(packed), dtype=np.float16).astype(np.float32)
            if packed
            else None
        )
        return Stored(
            reply=str(data["reply"]),
            route=str(data["route"]),
            routed_by=data["routed_by"],
            confidence=float(data["confidence"]),
            stored_at=float(data["stored_at"]),
            vector=vector,
        )
    except (ValueError, KeyError, TypeError):
        return None
