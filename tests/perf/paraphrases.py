"""The paraphrase set: how many replies carry the right facts, in the customer's language.

`python -m tests.perf --only paraphrases` writes var/bench/paraphrases.json. Every
question of tests/answers/paraphrases.yaml is one fresh conversation of its sample
domain, decided as the worker decides it (`hub.conversation.decision.decide`
through the conversation tests' `StoryRunner`, on a seeded throwaway SQLite) with
the model given (the offline one by default). For each question:

- `facts`: every expected fact is in the reply (folded with `normalize`);
- `language`: the reply's own words are in the language asked. The offline model
  quotes the business's Portuguese documents verbatim, so the quotes are not what
  it says in its own voice: the reply's first line and its last paragraph (the
  lead-in, the closing question, the "I don't know" or handoff message) are read,
  minus any that is a line of the domain's documents, and `hub.language.detect`
  must name the asked language.

Figures: the share with the right facts and the share in the asked language,
overall, per language and per domain, with every miss listed.
"""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from hub.conversation.decision import Session
from hub.crews.factory import CrewFactory
from hub.crews.stories import StoryRunner, prepare_database
from hub.domains.registry import DomainRegistry
from hub.knowledge.base import chunks_by_domain
from hub.knowledge.text import normalize
from hub.language import detect
from hub.settings import Settings
from tests.conftest import SAMPLE_DOMAINS

PARAPHRASES = Path(__file__).resolve().parent.parent / "answers" / "paraphrases.yaml"

NOW = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
"""A Tuesday morning: every sample business is open, so no after-hours text gets in."""


@dataclass(frozen=True)
class Question:
    """One paraphrased question: its domain, the language asked, the facts expected."""

    domain: str
    language: str
    customer: str
    facts: tuple[str, ...]


def load(path: Path = PARAPHRASES) -> list[Question]:
    """The questions of the paraphrase file, in file order."""
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    return [
        Question(row["domain"], row["language"], row["customer"], tuple(row["facts"]))
        for row in data["questions"]
    ]


def own_words(reply: str, corpus: str) -> str:
    """The reply's first line and last paragraph, minus those quoted from `corpus`."""
    paragraphs = [part.strip() for part in reply.split("\n\n") if part.strip()]
    if not paragraphs:
        return ""
    first = paragraphs[0].splitlines()[0].strip()
    parts = [first] if len(paragraphs) == 1 and first == paragraphs[0] else [first, paragraphs[-1]]
    return "\n".join(part for part in dict.fromkeys(parts) if normalize(part) not in corpus)


def run(
    registry: DomainRegistry,
    root: Path,
    *,
    llm: str = "offline",
    questions: list[Question] | None = None,
) -> dict[str, Any]:
    """Ask every question with model `llm` and return the figures (see the module doc)."""
    questions = load() if questions is None else questions
    url = f"sqlite:///{root / 'paraphrases.sqlite3'}"
    prepare_database(url, registry.domains.values())
    settings = Settings(
        database_url=url, data_dir=root / "var", domains_dir=SAMPLE_DOMAINS, llm=llm
    )
    factory = CrewFactory(registry, settings)
    corpora = {
        domain_id: normalize("\n".join(chunk.text for chunk in chunks))
        for domain_id, chunks in chunks_by_domain(registry.domains.values()).items()
    }
    runner = StoryRunner(factory, now=NOW)
    rows: list[dict[str, Any]] = []
    try:
        for number, question in enumerate(questions):
            domain = registry.get(question.domain)
            started = time.perf_counter()
            outcome = runner.turn(domain, question.customer, Session(10**12 + number))
            reply = normalize(outcome.reply)
            words = own_words(outcome.reply, corpora.get(question.domain, ""))
            rows.append(
                {
                    "domain": question.domain,
                    "language": question.language,
                    "customer": question.customer,
                    "facts_ok": all(normalize(fact) in reply for fact in question.facts),
                    "language_ok": detect(words) == question.language,
                    "replied_in": detect(words),
                    "missing": [f for f in question.facts if normalize(f) not in reply],
                    "reply": outcome.reply,
                    "seconds": round(time.perf_counter() - started, 3),
                }
            )
    finally:
        factory.engine.dispose()
    return summarise(rows, llm)


def summarise(rows: list[dict[str, Any]], llm: str) -> dict[str, Any]:
    """Shares overall, per language and per domain, and the misses."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[f"language:{row['language']}"].append(row)
        groups[f"domain:{row['domain']}"].append(row)
    return {
        "model": llm,
        "questions": len(rows),
        "facts_share": _share(rows, "facts_ok"),
        "language_share": _share(rows, "language_ok"),
        "by": {
            key: {
                "n": len(group),
                "facts_share": _share(group, "facts_ok"),
                "language_share": _share(group, "language_ok"),
            }
            for key, group in sorted(groups.items())
        },
        "seconds_per_question_p50": sorted(row["seconds"] for row in rows)[len(rows) // 2]
        if rows
        else 0.0,
        "misses": [row for row in rows if not (row["facts_ok"] and row["language_ok"])],
    }


def _share(rows: list[dict[str, Any]], key: str) -> float:
    return round(sum(bool(row[key]) for row in rows) / len(rows), 4) if rows else 0.0


def bench_paraphrases(tmp: Path, *, llm: str = "offline") -> dict[str, Any]:
    """`--only paraphrases`: the set on the sample domains, in a folder under `tmp`."""
    root = tmp / "paraphrases"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    return run(registry, root, llm=llm)
