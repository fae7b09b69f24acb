"""The answers bench: every story of the sample domains and the paraphrase set, with the
offline model and (when installed) the real local model.

`python -m tests.perf --only answers` writes var/bench/answers.json, per model:
- `stories`: the share of stories whose every step met its expectations;
- `paraphrases`: the share of questions whose reply holds every listed fact
  (tests/answers/paraphrases.yaml, compared folded), the same share counting a fact's
  numbers, times and prices written another way (`stated`: "2 hours" for "2 horas", as
  a reply in English writes them), and the share answered in the asked language;
- `bad_replies`: replies posted that are machinery or an invented fact
  (`tests.answers.audit`), with examples: the gate's target is 0;
- `rejections`: the reply gate's refusals by reason; `sources`: who wrote the posted
  replies (model, retry, offline, unknown, handoff) and the share of crew turns that
  needed a retry or a fallback;
- `seconds_per_turn`: median and p90 of a crew turn;
- `model_calls` (the real model): calls, prompt tokens sent, processed and reused from
  llama-server's prompt cache, generated tokens, seen by a proxy in front of it.
CHATWOOTAI_BENCH_PARAPHRASES names another paraphrase file; CHATWOOTAI_BENCH_ANSWERS_SAMPLE=k
keeps every k-th story and question (a quicker look on a busy machine);
CHATWOOTAI_BENCH_ANSWERS_CASES="a|b" runs only the cases whose id or text holds a or b
(written to answers-cases.json);
CHATWOOTAI_BENCH_ANSWERS_MODELS=offline or =real runs one model (keeping the other's
figures of the same set already in the file). The file is written
after every case, so a run cut short still leaves its figures (`done: false`).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from hub import language
from hub.crews.factory import CrewFactory
from hub.crews.facts import amount, fold
from hub.crews.facts import facts as facts_in
from hub.crews.stories import StoryCase, StoryResult, StoryRunner, collect_stories, prepare_database
from hub.domains.content import Expectation, Step, Story
from hub.domains.registry import DomainRegistry
from hub.knowledge.patterns import NUMBER
from hub.knowledge.text import normalize
from hub.settings import Settings
from tests import real_model
from tests.answers.audit import problems
from tests.conftest import ROOT, SAMPLE_DOMAINS

PARAPHRASES = Path(
    os.environ.get("CHATWOOTAI_BENCH_PARAPHRASES", ROOT / "tests" / "answers" / "paraphrases.yaml")
)
SAMPLE = max(1, int(os.environ.get("CHATWOOTAI_BENCH_ANSWERS_SAMPLE", "1")))
CASES = [c for c in os.environ.get("CHATWOOTAI_BENCH_ANSWERS_CASES", "").split("|") if c]
"""Only the stories and questions whose id or text holds one of these (a re-run of the
cases a run found wrong); its figures go to answers-cases.json, not over the full run's."""


def chosen(case: StoryCase) -> bool:
    texts = [case.id, *(step.customer for step in case.story.steps)]
    return not CASES or any(part in text for part in CASES for text in texts)


NOW = datetime(2026, 12, 1, 10, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))
"""A Tuesday morning: every sample business is open."""


def paraphrase_cases() -> list[tuple[StoryCase, list[str], str]]:
    """(case, facts, language) for each question of the paraphrase set (none without it)."""
    if not PARAPHRASES.exists():
        return []
    data = YAML(typ="safe").load(PARAPHRASES) or {}
    found = []
    for number, row in enumerate(data.get("questions") or [], 1):
        story = Story(
            name=f"paraphrase {number}",
            steps=[Step(customer=row["customer"], expect=Expectation())],
        )
        case = StoryCase(row["domain"], PARAPHRASES, story)
        found.append((case, [str(f) for f in row.get("facts") or []], str(row["language"])))
    return [row for row in found[::SAMPLE] if chosen(row[0])]


def stated(fact: str, reply: str) -> bool:
    """Whether `reply` states `fact`: as written (folded), or, for a fact with numbers,
    with the same numbers, times and prices in another form ("2 horas" in "2 hours",
    "14:00" in "2 pm", "199,00" in "R$ 199.00"), as a reply in another language writes
    them."""
    if normalize(fact) in normalize(reply):
        return True
    wanted = {(f.kind, f.value) for f in facts_in(fact)} or _numbers(fact)
    return bool(wanted) and wanted <= {(f.kind, f.value) for f in facts_in(reply)} | _numbers(reply)


def _numbers(text: str) -> set[tuple[str, str]]:
    found = (amount(number) for number in re.findall(NUMBER, fold(text)))
    return {("number", value) for value in found if value is not None}


@contextmanager
def runner(settings: dict[str, Any], registry: DomainRegistry) -> Iterator[StoryRunner]:
    with tempfile.TemporaryDirectory(prefix="chatwootai-answers-") as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'business.sqlite3'}"
        prepare_database(url, registry.domains.values())
        config = Settings(
            database_url=url, data_dir=root / "var", domains_dir=SAMPLE_DOMAINS, **settings
        )
        factory = CrewFactory(registry, config)
        try:
            yield StoryRunner(factory, now=NOW)
        finally:
            factory.engine.dispose()


class Tally:
    """What one model's turns came to."""

    def __init__(self) -> None:
        self.rejections: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()
        self.bad: list[dict[str, str]] = []
        self.seconds: list[float] = []
        self.turns = 0

    def add(self, result: StoryResult, registry: DomainRegistry) -> None:
        domain = registry.get(result.case.domain_id)
        customer: list[str] = []
        for step in result.steps:
            if step.outcome is None:
                continue
            customer.append(step.customer)
            crew = step.outcome.result
            if crew is None:
                continue  # a rule or a request for a person: no model ran
            self.turns += 1
            self.seconds.append(step.duration)
            self.rejections.update(crew.rejections)
            self.sources[crew.source] += 1
            for problem in problems(
                step.outcome.reply, domain, SAMPLE_DOMAINS, customer, crew.observations
            ):
                self.bad.append(
                    {"case": result.case.id, "problem": problem, "reply": step.outcome.reply[:200]}
                )

    def figures(self) -> dict[str, Any]:
        helped = self.turns - self.sources["model"]
        ordered = sorted(self.seconds)
        return {
            "crew_turns": self.turns,
            "bad_replies": len(self.bad),
            "bad_examples": self.bad[:10],
            "rejections": dict(self.rejections),
            "sources": dict(self.sources),
            "retry_or_fallback_share": round(helped / self.turns, 4) if self.turns else 0.0,
            "fallback_share": round((helped - self.sources["retry"]) / self.turns, 4)
            if self.turns
            else 0.0,
            "seconds_per_turn": {
                "median": round(statistics.median(ordered), 2) if ordered else None,
                "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 2) if ordered else None,
            },
        }


def bench_model(
    settings: dict[str, Any],
    label: str,
    progress: Callable[[dict[str, Any]], None],
    calls: Callable[[], dict[str, Any]] = dict,
) -> dict[str, Any]:
    """One model over the stories then the paraphrases; `progress` gets the figures so far
    after every case (a run cut short still leaves them, marked `done: false`); `calls`
    gives the model calls' figures so far (the real model's, from a recording proxy)."""
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    stories = collect_stories(registry.domains.values())[::SAMPLE]
    stories = [case for case in stories if chosen(case)]
    paraphrases = paraphrase_cases()
    tally = Tally()
    counts = {
        "stories": 0,
        "passed": 0,
        "paraphrases": 0,
        "right": 0,
        "right_any_form": 0,
        "in_language": 0,
    }
    misses: list[dict[str, Any]] = []
    started = time.perf_counter()

    def figures(done: bool) -> dict[str, Any]:
        ran, asked = counts["stories"], counts["paraphrases"]
        return {
            "done": done,
            "stories": {
                "count": ran,
                "of": len(stories),
                "passed_share": round(counts["passed"] / ran, 4) if ran else None,
            },
            "paraphrases": {
                "count": asked,
                "of": len(paraphrases),
                "right_facts_share": round(counts["right"] / asked, 4) if asked else None,
                "right_facts_any_form_share": round(counts["right_any_form"] / asked, 4)
                if asked
                else None,
                "asked_language_share": round(counts["in_language"] / asked, 4) if asked else None,
                "misses": misses[:10],
            },
            **tally.figures(),
            "model_calls": calls(),
            "wall_seconds": round(time.perf_counter() - started, 1),
        }

    # Stories and questions alternate, so a run cut short has figures for both.
    order: list[StoryCase | tuple[StoryCase, list[str], str]] = [
        item
        for pair in itertools.zip_longest(stories, paraphrases)
        for item in pair
        if item is not None
    ]
    with runner(settings, registry) as run:
        for item in order:
            if isinstance(item, StoryCase):
                result = run.run(item)
                tally.add(result, registry)
                counts["stories"] += 1
                counts["passed"] += result.passed
                print(f"  {label} story {counts['stories']}/{len(stories)} {result.passed}")
                progress(figures(False))
                continue
            case, facts, asked = item
            result = run.run(case)
            tally.add(result, registry)
            (step,) = result.steps
            reply = step.outcome.reply if step.outcome is not None else ""
            ok = all(normalize(fact) in normalize(reply) for fact in facts)
            counts["right_any_form"] += all(stated(fact, reply) for fact in facts)
            written = language.detect(reply)
            counts["paraphrases"] += 1
            counts["right"] += ok
            counts["in_language"] += written in (asked, None) if asked != "pt" else written != "en"
            if not ok:
                misses.append({"customer": case.story.steps[0].customer, "reply": reply[:200]})
            print(f"  {label} paraphrase {counts['paraphrases']}/{len(paraphrases)} {ok}")
            progress(figures(False))
    return figures(True)


def bench_answers(out: Path) -> dict[str, Any]:
    """Both models' figures (the real one only when installed); written to
    `out`/answers.json after every case."""
    models = os.environ.get("CHATWOOTAI_BENCH_ANSWERS_MODELS", "offline,real").split(",")
    path = out / ("answers-cases.json" if CASES else "answers.json")
    earlier: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    setup = {"sample_every": SAMPLE, "paraphrase_file": str(PARAPHRASES)}
    figures: dict[str, Any] = dict(setup)
    if all(earlier.get(key) == value for key, value in setup.items()):
        # One model's run keeps the other's figures of the same set.
        figures.update({label: value for label, value in earlier.items() if label not in setup})

    def keep(label: str) -> Callable[[dict[str, Any]], None]:
        def write(partial: dict[str, Any]) -> None:
            figures[label] = partial
            path.write_text(json.dumps(figures, indent=2), encoding="utf-8")

        return write

    if "offline" in models:
        print("answers: offline model…", flush=True)
        figures["offline"] = bench_model({"llm": "offline"}, "offline", keep("offline"))
    if "real" not in models:
        return figures
    if not real_model.installed():
        figures["real"] = "not installed: make real-model"
        return figures
    print("answers: real model…", flush=True)
    from tests.perf.real_turns import Recorder, call_figures

    with real_model.serving(out / "llama-server.log") as url:
        recorder = Recorder(url.removesuffix("/v1"))
        with recorder.running():
            figures["real"] = bench_model(
                {
                    "llm": real_model.MODEL,
                    "llm_base_url": recorder.url,
                    "llm_api_key": "local",
                    "llm_timeout_seconds": real_model.TIMEOUT_SECONDS,
                    "llm_max_tokens": real_model.MAX_TOKENS,
                },
                "real",
                keep("real"),
                lambda: call_figures(recorder.calls),
            )
    return figures
