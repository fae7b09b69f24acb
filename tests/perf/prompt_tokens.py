"""How many prompt tokens the real model's server must process for the five fixed turns
of `tests.perf.real_turns`, counted exactly without running the model.

Each turn runs against the fake model server (answering first with a reply the gate
refuses, then with a plain one, so every turn has a first attempt and a retry); each
request's messages go through the real llama-server's chat template (`/apply-template`)
and tokenizer (`/tokenize`), which evaluate nothing. A prompt's tokens to process are its
length minus the longest prefix it shares with an earlier prompt: what llama-server's
prompt cache reuses. `python -m tests.perf --only prompt_tokens` writes
var/bench/prompt_tokens.json under CHATWOOTAI_BENCH_TURNS_LABEL (default `current`);
at the issue's measured ~75 prompt tokens a second, seconds = processed / 75.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

from hub.crews.stories import StoryCase
from hub.domains.content import Expectation, Step, Story
from hub.domains.registry import DomainRegistry
from tests import real_model
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.openai_server import FakeOpenAI
from tests.perf.real_turns import TURNS

REFUSED = "O frete custa R$ 999,00."
"""A first answer the gate refuses (a price no passage states): the turn retries."""
PLAIN = "Certo, posso ajudar com isso."
PROMPT_TOKENS_PER_SECOND = 75
"""The issue's measured prompt processing on a quiet 2-core machine."""


def _post(server: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def _shared(first: list[int], second: list[int]) -> int:
    size = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        size += 1
    return size


def bench_prompt_tokens(out: Path) -> dict[str, Any]:
    """The five turns' prompts in tokens, under this run's label in
    `out`/prompt_tokens.json."""
    from tests.perf.answers import runner

    label = os.environ.get("CHATWOOTAI_BENCH_TURNS_LABEL", "current")
    path = out / "prompt_tokens.json"
    figures: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if not real_model.installed():
        figures[label] = "not installed: make real-model"
        return figures
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    fake = FakeOpenAI()
    answered = {"calls": 0}

    def respond(_messages: list[dict[str, Any]]) -> str:
        answered["calls"] += 1
        return REFUSED if answered["calls"] == 1 else PLAIN

    fake.responder = respond
    settings = {
        "llm": real_model.MODEL,
        "llm_base_url": fake.url,
        "llm_api_key": "local",
        "llm_max_tokens": real_model.MAX_TOKENS,
        "llm_tool_calling": "json",
    }
    calls: list[dict[str, Any]] = []
    seen: list[list[int]] = []
    try:
        with real_model.serving() as url, runner(settings, registry) as run:
            server = url.removesuffix("/v1")
            for domain_id, text in TURNS:
                answered["calls"] = 0
                sent = len(fake.requests)
                story = Story(name=text[:40], steps=[Step(customer=text, expect=Expectation())])
                run.run(StoryCase(domain_id, SAMPLE_DOMAINS / domain_id, story))
                for request in fake.requests[sent:]:
                    messages = request["body"]["messages"]
                    prompt = _post(server, "/apply-template", {"messages": messages})["prompt"]
                    tokens = _post(server, "/tokenize", {"content": prompt})["tokens"]
                    reused = max((_shared(tokens, earlier) for earlier in seen), default=0)
                    seen.append(tokens)
                    kind = "router" if "Escolha a rota" in prompt else "crew"
                    calls.append(
                        {
                            "turn": f"{domain_id}: {text}",
                            "kind": "retry" if "recusada" in prompt else kind,
                            "tokens": len(tokens),
                            "reused": reused,
                            "processed": len(tokens) - reused,
                        }
                    )
    finally:
        fake.close()
    processed = sum(call["processed"] for call in calls)
    figures[label] = {
        "calls": calls,
        "tokens": sum(call["tokens"] for call in calls),
        "processed": processed,
        "prompt_seconds_at_75_per_second": round(processed / PROMPT_TOKENS_PER_SECOND, 1),
    }
    path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return figures
