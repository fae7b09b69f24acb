"""A handoff's calls as Chatwoot takes them: per-account tokens, refusals that do not stop it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from hub.conversation.inbound import InboundMessage
from hub.settings import Settings
from hub.turn import Draft
from tests.conftest import TEST_REDIS_URL
from tests.fakes.chatwoot import FakeChatwoot
from workers.delivery import post_reply
from workers.handler import handle
from workers.runtime import WorkerRuntime

pytestmark = pytest.mark.integration

TOKENS = {
    "CHATWOOTAI_COSMETICS_TOKEN": ("token-bela", 1),
    "CHATWOOTAI_HEALTH_TOKEN": ("token-vida", 2),
}


@pytest.fixture
def runtime(
    tmp_path: Path,
    redis_client: redis.Redis,
    fake_chatwoot: FakeChatwoot,
    sample_domains: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[WorkerRuntime]:
    """A worker runtime whose cosmetics domain hands off to team 4 and agent 3."""
    for name, (token, account) in TOKENS.items():
        monkeypatch.setenv(name, token)
        fake_chatwoot.bot_token(token, account)
    domain_file = sample_domains / "cosmetics/domain.yaml"
    domain_file.write_text(
        domain_file.read_text(encoding="utf-8") + "\nhandoff:\n  team_id: 4\n  assignee_id: 3\n",
        encoding="utf-8",
    )
    settings = Settings(
        redis_url=TEST_REDIS_URL,
        chatwoot_url=fake_chatwoot.url,
        domains_dir=sample_domains,
        data_dir=tmp_path,
        burst_window_seconds=0,
        embeddings="none",
    )  # type: ignore[call-arg]
    built = WorkerRuntime.build(settings)
    built.chatwoot = type(built.chatwoot)(fake_chatwoot.url, sleep=lambda _: None)
    yield built
    built.chatwoot.close()


def asks_for_a_person(
    account_id: int, conversation_id: int, domain: str = "cosmetics"
) -> InboundMessage:
    return InboundMessage(
        domain=domain,
        account_id=account_id,
        conversation_id=conversation_id,
        inbox_id=11,
        message_id=conversation_id * 10,
        text="Quero falar com um atendente",
        labels=("vip",),
        received_at=time.time(),
    )


def test_a_handoff_sets_both_team_and_agent_in_two_calls(
    runtime: WorkerRuntime, fake_chatwoot: FakeChatwoot
) -> None:
    assert handle(runtime, asks_for_a_person(1, 81)).status == "handed_off"
    assert [r["body"] for r in fake_chatwoot.requests("/conversations/81/assignments")] == [
        {"team_id": 4},
        {"assignee_id": 3},
    ]
    state = fake_chatwoot.conversation(1, 81)
    assert (state["team_id"], state["assignee_id"], state["labels"]) == (
        4,
        3,
        ["vip", "atendimento-humano"],
    )


def test_an_assignment_chatwoot_refuses_is_noted_and_the_handoff_still_completes(
    runtime: WorkerRuntime, fake_chatwoot: FakeChatwoot
) -> None:
    """A team deleted in Chatwoot: 404, final. The team reads why in a private note, the
    labels are still written, and the bot goes silent as after any handoff."""
    fake_chatwoot.fail_next(1, status=404, path="/assignments")
    assert handle(runtime, asks_for_a_person(1, 82)).status == "handed_off"
    notes = [m["content"] for m in fake_chatwoot.messages(82) if m["private"]]
    assert any("atribuir a conversa" in note and "HTTP 404" in note for note in notes), notes
    assert fake_chatwoot.conversation(1, 82)["labels"] == ["vip", "atendimento-humano"]
    assert fake_chatwoot.conversation(1, 82)["status"] == "open"
    assert runtime.takeover.active(1, 82)


def test_a_domain_switched_into_another_account_posts_with_that_accounts_token_and_assigns_no_one(
    runtime: WorkerRuntime, fake_chatwoot: FakeChatwoot
) -> None:
    """Cosmetics answering an account-2 conversation (a switch label): account 2's token;
    its team and agent are account 1's ids, so they are not sent to account 2."""
    message = asks_for_a_person(2, 83)
    assert handle(runtime, message).status == "handed_off"
    calls = [r for r in fake_chatwoot.requests() if "/conversations/83/" in r["path"]]
    assert calls and {r["headers"]["api_access_token"] for r in calls} == {"token-vida"}
    assert {r["status"] for r in calls} == {200}
    assert fake_chatwoot.requests("/conversations/83/assignments") == []
    assert fake_chatwoot.conversation(2, 83)["status"] == "open"


def test_an_urgent_reply_stays_delivered_when_chatwoot_refuses_its_priority(
    runtime: WorkerRuntime, fake_chatwoot: FakeChatwoot
) -> None:
    """The customer has read the reply: a priority Chatwoot refuses for good (422) is
    noted for the team, and the reply is not failed (nor posted again)."""
    fake_chatwoot.fail_next(1, status=422, path="/toggle_priority")
    message = asks_for_a_person(1, 84)
    post_reply(
        runtime, runtime.registry.get("cosmetics"), message, Draft("Sinto muito!", urgent=True)
    )
    posted = fake_chatwoot.messages(84)
    assert [m["content"] for m in posted if not m["private"]] == ["Sinto muito!"]
    (note,) = [m["content"] for m in posted if m["private"]]
    assert "marcar a conversa como urgente" in note and "HTTP 422" in note
