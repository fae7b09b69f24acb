"""The cheap router: picks a route from the message's words, without a model call.

Each route is a small document (its description, examples and keywords, the
keywords counted three times); a message is compared with each by TF-IDF cosine
over Portuguese-normalised tokens. The HubCrew trusts the result when the best
route clearly beats the second (`confidence >= routing.min_confidence`) and asks
the model only for the ambiguous rest, so most messages cost no extra LLM round
trip for routing.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from hub.domains.schema import Routing
from hub.knowledge.text import normalize, tokenize

KEYWORD_WEIGHT = 3
"""A route keyword counts as much as three ordinary words of its examples."""

MIN_SIMILARITY = 0.05
"""Below this cosine the best route is noise: the message says nothing routable."""


@dataclass(frozen=True)
class RouteScore:
    """The router's view of one message."""

    best: str | None
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)


class Router:
    """TF-IDF similarity between a message and each route's description and examples."""

    def __init__(self, routing: Routing) -> None:
        self.routing = routing
        documents: dict[str, Counter[str]] = {}
        self._phrases: dict[str, list[str]] = {}
        for name, route in routing.routes.items():
            counts: Counter[str] = Counter(tokenize(route.description))
            for example in route.examples:
                counts.update(tokenize(example))
            for keyword in route.keywords:
                for _ in range(KEYWORD_WEIGHT):
                    counts.update(tokenize(keyword))
            documents[name] = counts
            self._phrases[name] = [normalize(k) for k in route.keywords if len(k.split()) > 1]
        total = len(documents)
        frequency: Counter[str] = Counter()
        for counts in documents.values():
            frequency.update(set(counts))
        # Smoothed IDF: a word in every route still counts a little.
        self._idf = {term: math.log(1 + total / df) for term, df in frequency.items()}
        self._vectors = {name: self._weigh(counts) for name, counts in documents.items()}

    def _weigh(self, counts: Counter[str]) -> dict[str, float]:
        vector = {t: (1 + math.log(c)) * self._idf.get(t, 0.0) for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items() if v}

    def score(self, message: str) -> RouteScore:
        """Similarity to each route, and how clearly the best one wins (0…1)."""
        query = self._weigh(Counter(tokenize(message)))
        text = normalize(message)
        scores: dict[str, float] = {}
        for name, vector in self._vectors.items():
            similarity = sum(weight * vector.get(term, 0.0) for term, weight in query.items())
            if any(phrase in text for phrase in self._phrases[name]):
                similarity += 0.5  # a multi-word keyword said verbatim is a strong signal
            scores[name] = round(similarity, 4)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        if not ranked or ranked[0][1] < MIN_SIMILARITY:
            return RouteScore(best=None, confidence=0.0, scores=scores)
        top = ranked[0][1]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        return RouteScore(
            best=ranked[0][0], confidence=round((top - second) / top, 4), scores=scores
        )
