"""The cache bench: a replayed day of traffic with the answer cache off, then on.

`python -m tests.perf --only cache` writes var/bench/cache.json. The day is drawn
from the sample domains' conversation tests and tests/answers/paraphrase.yaml:
every question of the paraphrase set and every one-step story is a question, every
story of several steps a conversation (history, tools, orders, bookings). Visits
draw them with Zipf-like frequencies (the k-th most asked, 1/k^1.1, by a seeded
shuffle), each visit by one of many customers (their names, so personalization
greets each), one question in five after a greeting in the same conversation.
Every visit is a new conversation, decided as the worker decides it
(`hub.conversation.decision.decide`, on a seeded throwaway SQLite, a Tuesday
morning). The same visits run twice on the same factory, without the cache and
with it (entries of an empty Redis db), and the figures side by side:

- `hit_rate`: hits over the turns that took part (hit, miss, store), and over all;
- model calls (crew kickoffs; a real model's requests) and tokens, and what the
  cache saved;
- p50/p95 of a turn's time, cache off and on;
- `wrong_cached`: hits whose reply lacks a fact the turn expects (`facts` of the
  paraphrase, `reply_contains` of the story, or holds a `reply_not_contains`)
  while the same turn without the cache had it right: must be 0; and
  `foreign_names`: hits holding another customer's name: must be 0.

`python -m tests.perf.cache --real --visits 20` replays a shorter day with the real
local model (`make real-model`), into `real` of the same file.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

import hub  # noqa: F401  (CrewAI environment before crewai is imported)
from hub.conversation.decision import Session, decide
from hub.crews import hub_crew
from hub.crews.answer_cache import PREFIX, AnswerCache
from hub.crews.factory import CrewFactory
from hub.crews.stories import collect_stories, prepare_database
from hub.domains.content import StoryContact
from hub.domains.registry import DomainRegistry
from hub.knowledge.text import normalize
from hub.settings import Settings
from hub.turn import Turn
from tests import real_model
from tests.conftest import ROOT, SAMPLE_DOMAINS
from tests.perf.paraphrases import NOW
from tests.perf.paraphrases import load as load_paraphrases

OUT = ROOT / "var" / "bench"
ZIPF = 1.1
OPENER_SHARE = 0.2
OPENER = "Oi, boa tarde!"
NAMES = tuple(
    [
        "Maria Souza",
        "João Lima",
        "Ana Paula Reis",
        "Carlos Pereira",
        "Beatriz Santos",
        "Rafael Costa",
        "Juliana Alves",
        "Pedro Henrique",
        "Fernanda Rocha",
        "Lucas Martins",
        "Camila Ribeiro",
        "Gustavo Carvalho",
        "Larissa Gomes",
        "Thiago Barbosa",
        "Patrícia Melo",
        "Bruno Araújo",
        "Aline Cardoso",
        "Diego Teixeira",
        "Vanessa Moreira",
        "Rodrigo Nunes",
        "Mariana Dias",
        "Felipe Castro",
        "Letícia Freitas",
        "André Correia",
        "Natália Pinto",
        "Eduardo Lopes",
        "Priscila Mendes",
        "Marcelo Vieira",
        "Renata Azevedo",
        "Leonardo Fernandes",
    ]
)


@dataclass(frozen=True)
class Step:
    text: str
    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    """Something customers ask: one question, or a whole conversation."""

    domain: str
    steps: tuple[Step, ...]
    contact: StoryContact | None = None

    @property
    def question(self) -> bool:
        return len(self.steps) == 1


@dataclass(frozen=True)
class Visit:
    item: Item
    customer: str
    opener: bool


def items(registry: DomainRegistry) -> list[Item]:
    """The paraphrase set's questions and the sample domains' stories."""
    found = [
        Item(q.domain, (Step(q.customer, q.facts),))
        for q in load_paraphrases()
        if q.domain in registry.domains
    ]
    for case in collect_stories(registry.domains.values()):
        steps = tuple(
            Step(
                step.customer,
                tuple(step.expect.reply_contains or ()),
                tuple(step.expect.reply_not_contains or ()),
            )
            for step in case.story.steps
        )
        found.append(Item(case.domain_id, steps, case.story.contact))
    return found


def day(pool: list[Item], visits: int, seed: int = 21) -> list[Visit]:
    """`visits` draws from `pool`, the k-th most popular weighted 1/k^ZIPF."""
    rng = random.Random(seed)
    ranked = list(pool)
    rng.shuffle(ranked)
    weights = [1 / (rank + 1) ** ZIPF for rank in range(len(ranked))]
    drawn = rng.choices(ranked, weights, k=visits)
    return [
        Visit(item, rng.choice(NAMES), item.question and rng.random() < OPENER_SHARE)
        for item in drawn
    ]


@contextmanager
def counting_kickoffs() -> Iterator[list[int]]:
    """Counts the crews' kickoffs (every model run of a turn) while the block runs."""
    counter = [0]
    real = hub_crew.kickoff

    def counted(crew: Any, inputs: dict[str, str]) -> Any:
        counter[0] += 1
        return real(crew, inputs)

    hub_crew.kickoff = counted  # type: ignore[assignment]
    try:
        yield counter
    finally:
        hub_crew.kickoff = real  # type: ignore[assignment]


def replay(factory: CrewFactory, visits: list[Visit], label: str) -> list[dict[str, Any]]:
    """Every turn of the day, decided as the worker decides it; one row per turn."""
    registry = factory.registry
    rows: list[dict[str, Any]] = []
    with counting_kickoffs() as kickoffs:
        for number, visit in enumerate(visits):
            domain = registry.get(visit.item.domain)
            session = Session(10**12 + number)
            contact = visit.item.contact or StoryContact()
            steps = ((Step(OPENER),) if visit.opener else ()) + visit.item.steps
            for position, step in enumerate(steps):
                turn = Turn(
                    message=step.text,
                    history=tuple(session.history),
                    customer_name=visit.customer,
                    contact_phone=contact.phone,
                    contact_email=contact.email,
                    now=NOW,
                    account_id=domain.spec.chatwoot.account_id,
                    conversation_id=session.id,
                    previous_route=session.route,
                )
                before = kickoffs[0]
                started = time.perf_counter()
                decision = decide(domain, turn, factory.hub(domain.id).run, misses=session.misses)
                seconds = time.perf_counter() - started
                session.after(step.text, decision)
                result = decision.result
                usage = result.usage if result is not None else {}
                reply = normalize(decision.draft.text)
                checked = bool(step.contains or step.not_contains)
                others = [n for n in NAMES if n != visit.customer]
                rows.append(
                    {
                        "visit": number,
                        "step": position,
                        "domain": domain.id,
                        "customer": step.text,
                        "cache": result.cache if result is not None else None,
                        "source": result.source if result is not None else "rule",
                        "seconds": seconds,
                        "kickoffs": kickoffs[0] - before,
                        "requests": int(usage.get("successful_requests") or 0),
                        "tokens": int(usage.get("total_tokens") or 0),
                        "checked": checked,
                        "facts_ok": all(normalize(f) in reply for f in step.contains)
                        and not any(normalize(f) in reply for f in step.not_contains),
                        "foreign_name": any(
                            normalize(n.split()[0]) in reply.split() for n in others
                        )
                        and normalize(visit.customer.split()[0]) not in reply,
                        "reply": decision.draft.text,
                    }
                )
                if decision.draft.hands_off:
                    break  # a person owns the conversation: the bot stays silent
            if (number + 1) % 50 == 0:
                print(f"  cache {label}: {number + 1}/{len(visits)} visits", flush=True)
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sorted(row["seconds"] for row in rows)
    outcomes = Counter(str(row["cache"]) for row in rows)
    taking_part = outcomes["hit"] + outcomes["miss"] + outcomes["store"]
    checked = [row for row in rows if row["checked"]]
    return {
        "turns": len(rows),
        "cache": dict(outcomes),
        "hit_rate": round(outcomes["hit"] / taking_part, 4) if taking_part else 0.0,
        "hit_share_of_all_turns": round(outcomes["hit"] / len(rows), 4) if rows else 0.0,
        "sources": dict(Counter(row["source"] for row in rows)),
        "kickoffs": sum(row["kickoffs"] for row in rows),
        "model_requests": sum(row["requests"] for row in rows),
        "tokens": sum(row["tokens"] for row in rows),
        "seconds_p50": round(statistics.median(seconds), 4) if seconds else None,
        "seconds_p95": round(seconds[int(0.95 * (len(seconds) - 1))], 4) if seconds else None,
        "seconds_total": round(sum(seconds), 2),
        "checked_turns": len(checked),
        "checked_facts_share": round(sum(r["facts_ok"] for r in checked) / len(checked), 4)
        if checked
        else None,
    }


def compare(off: list[dict[str, Any]], on: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures side by side, with what the cache saved and what it got wrong."""
    fresh = {(row["visit"], row["step"]): row for row in off}
    hits = [row for row in on if row["cache"] == "hit"]
    wrong = [
        row
        for row in hits
        if row["checked"]
        and not row["facts_ok"]
        and fresh.get((row["visit"], row["step"]), {}).get("facts_ok", False)
    ]
    both_wrong = [
        row for row in hits if row["checked"] and not row["facts_ok"] and row not in wrong
    ]
    a, b = summary(off), summary(on)
    return {
        "off": a,
        "on": b,
        "saved": {
            "kickoffs": a["kickoffs"] - b["kickoffs"],
            "kickoffs_share": round(1 - b["kickoffs"] / a["kickoffs"], 4) if a["kickoffs"] else 0,
            "model_requests": a["model_requests"] - b["model_requests"],
            "tokens": a["tokens"] - b["tokens"],
            "seconds_total": round(a["seconds_total"] - b["seconds_total"], 2),
        },
        "hits_checked": sum(row["checked"] for row in hits),
        "wrong_cached": len(wrong),
        "wrong_examples": [
            {"customer": r["customer"], "reply": r["reply"][:200]} for r in wrong[:10]
        ],
        "hits_wrong_without_the_cache_too": len(both_wrong),
        "foreign_names": sum(row["foreign_name"] for row in hits),
    }


def run(visits: int, redis_url: str, settings: dict[str, Any], label: str) -> dict[str, Any]:
    """Both replays of one day on one factory (see the module doc)."""
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    plan = day(items(registry), visits)
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5)
    with tempfile.TemporaryDirectory(prefix="chatwootai-cache-") as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'business.sqlite3'}"
        prepare_database(url, registry.domains.values())
        config = Settings(
            database_url=url, data_dir=root / "var", domains_dir=SAMPLE_DOMAINS, **settings
        )
        factory = CrewFactory(registry, config)
        try:
            for domain in registry.domains.values():
                factory.kit(domain)  # prepared before the clock runs, as a worker's start does
            forget(client)
            print(f"cache {label}: off…", flush=True)
            off = replay(factory, plan, f"{label} off")
            factory.answers = AnswerCache(client, config)
            retrieval = factory.knowledge_base.retrieval
            retrieval.clear()
            retrieval.hits = retrieval.misses = 0
            print(f"cache {label}: on…", flush=True)
            on = replay(factory, plan, f"{label} on")
        finally:
            factory.engine.dispose()
            forget(client)
    figures = compare(off, on)
    figures.update(
        visits=visits,
        distinct_items=len({id(v.item) for v in plan}),
        retrieval_cache={"hits": retrieval.hits, "misses": retrieval.misses},
        model=config.llm,
    )
    return figures


def forget(client: redis.Redis) -> None:
    """Remove every stored answer from the bench's Redis db (only ours)."""
    for key in client.scan_iter(f"{PREFIX}:*", count=500):
        client.delete(key)


def write(label: str, figures: dict[str, Any], out: Path = OUT) -> dict[str, Any]:
    path = out / "cache.json"
    existing: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    existing[label] = figures
    existing["at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(existing, indent=2, ensure_ascii=False), encoding="utf-8")
    return existing


def describe(label: str, figures: dict[str, Any]) -> str:
    off, on, saved = figures["off"], figures["on"], figures["saved"]
    return (
        f"cache ({label}, {on['turns']} turns): hit rate {on['hit_rate']} "
        f"({on['hit_share_of_all_turns']} of all turns); kickoffs {off['kickoffs']} → "
        f"{on['kickoffs']} ({saved['kickoffs_share']:.0%} saved); tokens {off['tokens']} → "
        f"{on['tokens']}; p50 {off['seconds_p50']} → {on['seconds_p50']} s, p95 "
        f"{off['seconds_p95']} → {on['seconds_p95']} s; wrong cached {figures['wrong_cached']}, "
        f"foreign names {figures['foreign_names']}"
    )


def bench_cache(redis_url: str, visits: int = 400) -> dict[str, Any]:
    """`--only cache`: the offline model's day."""
    figures = run(visits, redis_url, {"llm": "offline"}, "offline")
    write("offline", figures)
    print(describe("offline", figures))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=400)
    parser.add_argument("--real", action="store_true", help="the real local model")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    if not args.real:
        bench_cache(args.redis_url, args.visits)
        return
    if not real_model.installed():
        raise SystemExit("the real model is not installed: make real-model")
    with real_model.serving(OUT / "llama-server-cache.log") as url:
        settings = {
            "llm": real_model.MODEL,
            "llm_base_url": url,
            "llm_api_key": "local",
            "llm_timeout_seconds": real_model.TIMEOUT_SECONDS,
            "llm_max_tokens": 400,
        }
        figures = run(args.visits, args.redis_url, settings, "real")
    write("real", figures)
    print(describe("real", figures))


if __name__ == "__main__":
    main()
