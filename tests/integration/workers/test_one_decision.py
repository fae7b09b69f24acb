"""The worker, `chatwootai chat` and `chatwootai test` decide a turn alike: one function.

Each conversation is played three ways: through the worker's `handle` (posting
to the recording fake Chatwoot), through `chatwootai chat --message …` in its
own process, and through the conversation tests' StoryRunner. The customer
must read the same texts, and the same turn must end in a handoff, in all three.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hub.conversation.decision import Session
from hub.conversation.inbound import InboundMessage
from hub.crews.stories import Outcome, StoryRunner
from hub.settings import Settings
from tests.conftest import ROOT, SAMPLE_DOMAINS, TEST_REDIS_URL, child_env
from tests.fakes.chatwoot import FakeChatwoot
from workers.handler import handle
from workers.runtime import WorkerRuntime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EMERGENCY = ["Estou com dor no peito e falta de ar"]
ACCEPTED_OFFER = ["Vocês vendem bicicletas?", "sim, por favor"]
SECOND_MISS = ["Vocês vendem bicicletas?", "E patinetes elétricos, vocês vendem?"]


@pytest.fixture
def runtime(
    tmp_path: Path,
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[WorkerRuntime]:
    monkeypatch.setenv("CHATWOOTAI_HEALTH_TOKEN", "token-clinica")
    fake_chatwoot.bot_token("token-clinica", 2)
    settings = Settings(
        redis_url=TEST_REDIS_URL,
        chatwoot_url=fake_chatwoot.url,
        domains_dir=SAMPLE_DOMAINS,
        data_dir=tmp_path / "worker",
        burst_window_seconds=0,
        embeddings="none",
    )
    built = WorkerRuntime.build(settings)
    yield built
    built.chatwoot.close()


def in_the_worker(
    runtime: WorkerRuntime, fake: FakeChatwoot, texts: list[str], conversation_id: int
) -> tuple[list[str], list[str]]:
    """The public texts Chatwoot got, and each turn's status."""
    statuses = []
    for number, text in enumerate(texts, start=1):
        message = InboundMessage(
            domain="health",
            account_id=2,
            conversation_id=conversation_id,
            inbox_id=21,
            message_id=conversation_id * 100 + number,
            text=text,
            channel="Channel::Whatsapp",
            received_at=time.time(),
            labels=(),  # the webhook said: no labels yet
        )
        statuses.append(handle(runtime, message).status)
    public = [
        body["content"]
        for body in fake.messages(conversation_id=conversation_id)
        if not body.get("private")
    ]
    return public, statuses


def in_chat(tmp_path: Path, texts: list[str]) -> subprocess.CompletedProcess[str]:
    env = child_env()
    env.update(
        {
            "CHATWOOTAI_DATA_DIR": str(tmp_path / "chat"),
            "CHATWOOTAI_EMBEDDINGS": "none",
            "HOME": str(tmp_path / "home"),
        }
    )
    arguments = [argument for text in texts for argument in ("--message", text)]
    return subprocess.run(
        [sys.executable, "-m", "hub", "chat", "--domain", "health", *arguments],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def in_a_story(runtime: WorkerRuntime, texts: list[str]) -> list[Outcome]:
    runner = StoryRunner(runtime.factory)
    domain = runtime.registry.get("health")
    session = Session(id=2**41)
    outcomes = []
    for text in texts:
        outcome = runner.turn(domain, text, session)
        outcomes.append(outcome)
        if outcome.handoff:
            break
    return outcomes


@pytest.mark.parametrize(
    ("texts", "handoff_reason"),
    [
        (EMERGENCY, "regra emergencia"),
        (ACCEPTED_OFFER, "o cliente pediu atendimento humano (aceitou a oferta do bot)"),
        (SECOND_MISS, "o bot não soube responder 2 vezes seguidas"),
    ],
    ids=["emergency", "accepted-offer", "second-miss"],
)
def test_the_worker_the_chat_and_the_stories_decide_the_same_turns_alike(
    runtime: WorkerRuntime,
    fake_chatwoot: FakeChatwoot,
    tmp_path: Path,
    texts: list[str],
    handoff_reason: str,
) -> None:
    posted, statuses = in_the_worker(runtime, fake_chatwoot, texts, conversation_id=7000)
    assert statuses == ["replied"] * (len(texts) - 1) + ["handed_off"]
    notes = [b["content"] for b in fake_chatwoot.messages(conversation_id=7000) if b["private"]]
    assert notes == [f"ChatwootAI transferiu a conversa para a equipe. Motivo: {handoff_reason}"]

    chat = in_chat(tmp_path, texts)
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.strip() == "\n\n".join(posted)
    assert f"[transferida para a equipe: {handoff_reason}]" in chat.stderr

    outcomes = in_a_story(runtime, texts)
    assert [outcome.reply for outcome in outcomes] == posted
    assert [outcome.handoff for outcome in outcomes] == [False] * (len(texts) - 1) + [True]
    assert outcomes[-1].handoff_reason == handoff_reason


def test_a_message_after_a_handoff_gets_no_reply_in_chat_as_in_chatwoot(tmp_path: Path) -> None:
    chat = in_chat(tmp_path, [*EMERGENCY, "alô?"])
    assert chat.returncode == 0, chat.stderr
    assert "alô" not in chat.stdout and chat.stdout.count("SAMU") == 1
    assert "o bot fica em silêncio" in chat.stderr
