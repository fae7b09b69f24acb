"""Where a real model's turn spends its seconds: five fixed turns on the real local model,
every model call seen through a recording proxy in front of llama-server.

`python -m tests.perf --only real_turns` writes var/bench/real_turns.json: per turn its
seconds, model calls, prompt tokens (as sent, processed, and reused from the server's
prompt cache: llama-server's `timings.cache_n`), generated tokens, and who wrote the
reply; and the totals. CHATWOOTAI_BENCH_TURNS_LABEL names the run (default `current`),
so runs of two versions of the code sit side by side in the file.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hub.crews.stories import StoryCase
from hub.domains.content import Expectation, Step, Story
from hub.domains.registry import DomainRegistry
from tests import real_model
from tests.conftest import SAMPLE_DOMAINS

TURNS = (
    ("retail", "Qual o prazo de entrega para Campinas?"),
    ("retail", "Qual o horário da loja de Moema?"),
    ("cosmetics", "Hi! How much is shipping, and when is it free?"),
    ("health", "Vocês atendem pelo convênio Unimed?"),
    ("retail", "Vocês entregam no Rio de Janeiro?"),
)
"""Knowledge questions of three domains, the second and fifth on the first one's crew
(what a stable prompt start saves shows there), one in English."""


class Recorder:
    """A proxy to an OpenAI-compatible server that keeps each call's size and timings."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.calls: list[dict[str, Any]] = []
        self.label = ""
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = urllib.request.Request(
                    f"{recorder.upstream}{self.path}",
                    data=raw,
                    headers={"Content-Type": "application/json"},
                )
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=real_model.TIMEOUT_SECONDS) as r:
                        status, payload = r.status, r.read()
                except urllib.error.HTTPError as error:  # passed on as the server gave it
                    status, payload = error.code, error.read()
                if status == 200:
                    seconds = time.perf_counter() - started
                    recorder.record(json.loads(raw), json.loads(payload), seconds)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def record(self, body: dict[str, Any], answer: dict[str, Any], seconds: float) -> None:
        timings = answer.get("timings") or {}
        usage = answer.get("usage") or {}
        messages = body.get("messages") or []
        self.calls.append(
            {
                "turn": self.label,
                "seconds": round(seconds, 2),
                "messages": len(messages),
                "prompt_chars": sum(len(str(m.get("content") or "")) for m in messages),
                "tools_sent": len(body.get("tools") or []),
                "prompt_tokens": usage.get("prompt_tokens"),
                "cached_tokens": timings.get("cache_n"),
                "processed_tokens": timings.get("prompt_n"),
                "prompt_ms": round(float(timings.get("prompt_ms") or 0)),
                "generated_tokens": timings.get("predicted_n"),
                "generated_ms": round(float(timings.get("predicted_ms") or 0)),
            }
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @contextmanager
    def running(self) -> Iterator[Recorder]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def _sum(calls: list[dict[str, Any]], key: str) -> int:
    return sum(int(call.get(key) or 0) for call in calls)


def call_figures(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """The recorded calls summed: how many, their tokens, and the share of prompt tokens
    the server's cache saved it from processing."""
    sent = _sum(calls, "prompt_tokens")
    return {
        "calls": len(calls),
        "prompt_tokens": sent,
        "cached_tokens": _sum(calls, "cached_tokens"),
        "processed_tokens": _sum(calls, "processed_tokens"),
        "cached_share": round(_sum(calls, "cached_tokens") / sent, 4) if sent else None,
        "generated_tokens": _sum(calls, "generated_tokens"),
        "prompt_seconds": round(_sum(calls, "prompt_ms") / 1000, 1),
        "generated_seconds": round(_sum(calls, "generated_ms") / 1000, 1),
    }


def bench_real_turns(out: Path) -> dict[str, Any]:
    """The five turns on a fresh llama-server (an empty prompt cache), under this run's
    label in `out`/real_turns.json."""
    from tests.perf.answers import runner

    label = os.environ.get("CHATWOOTAI_BENCH_TURNS_LABEL", "current")
    path = out / "real_turns.json"
    figures: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if not real_model.installed():
        figures[label] = "not installed: make real-model"
        return figures
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
    turns: list[dict[str, Any]] = []
    with real_model.serving(out / "llama-server-turns.log") as upstream:
        recorder = Recorder(upstream.removesuffix("/v1"))
        settings = {
            "llm": real_model.MODEL,
            "llm_base_url": recorder.url,
            "llm_api_key": "local",
            "llm_timeout_seconds": real_model.TIMEOUT_SECONDS,
            "llm_max_tokens": real_model.MAX_TOKENS,
        }
        with recorder.running(), runner(settings, registry) as run:
            for number, (domain_id, text) in enumerate(TURNS, 1):
                recorder.label = f"{number}. {domain_id}: {text}"
                story = Story(name=text[:40], steps=[Step(customer=text, expect=Expectation())])
                result = run.run(StoryCase(domain_id, SAMPLE_DOMAINS / domain_id, story))
                (step,) = result.steps
                crew = step.outcome.result if step.outcome is not None else None
                calls = [call for call in recorder.calls if call["turn"] == recorder.label]
                turns.append(
                    {
                        "turn": recorder.label,
                        "seconds": round(step.duration, 1),
                        "calls": len(calls),
                        "prompt_tokens": _sum(calls, "prompt_tokens"),
                        "cached_tokens": _sum(calls, "cached_tokens"),
                        "processed_tokens": _sum(calls, "processed_tokens"),
                        "generated_tokens": _sum(calls, "generated_tokens"),
                        "prompt_seconds": round(_sum(calls, "prompt_ms") / 1000, 1),
                        "generated_seconds": round(_sum(calls, "generated_ms") / 1000, 1),
                        "source": crew.source if crew is not None else None,
                        "rejections": list(crew.rejections) if crew is not None else [],
                        "reply": (step.outcome.reply if step.outcome is not None else "")[:160],
                        "per_call": calls,
                    }
                )
                print(f"  {recorder.label}: {turns[-1]['seconds']} s", flush=True)
    figures[label] = {
        "turns": turns,
        "total": call_figures(recorder.calls),
        "seconds_per_turn_median": round(statistics.median(t["seconds"] for t in turns), 1),
        "seconds_total": round(sum(t["seconds"] for t in turns), 1),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return figures
