"""The plugins on the real way of a message: signed webhook → receiver → Redis → worker → reply.

Each built-in plugin is enabled in a shipped domain (sentiment: health and
cosmetics; personalization: cosmetics; connectors: retail) and shows its effect
on what reaches the fake Chatwoot; a third-party plugin installed by entry point
that raises and overruns its budget leaves the reply intact and its failures logged.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import SAMPLE_DOMAINS
from tests.e2e.conftest import WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot
from tests.fakes.odoo import FakeOdoo
from tests.fakes.openai_server import FakeOpenAI, ToolCall

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GREETINGS = ("Bom dia", "Boa tarde", "Boa noite")


@pytest.fixture
def odoo_server() -> Iterator[FakeOdoo]:
    server = FakeOdoo()
    yield server
    server.close()


def posted(fake_chatwoot: FakeChatwoot, conversation_id: int, *, private: bool) -> list[str]:
    return [
        r["body"]["content"]
        for r in fake_chatwoot.requests()
        if r["method"] == "POST"
        and r["path"].endswith(f"/conversations/{conversation_id}/messages")
        and bool(r["body"].get("private")) is private
    ]


def logged(worker: WorkerProcess, event: str) -> list[dict[str, Any]]:
    entries = []
    for line in worker.output:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("event") == event:
            entries.append(entry)
    return entries


def test_a_very_unhappy_patient_is_handed_to_the_reception_by_the_sentiment_rule(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    start_worker()
    text = "Que absurdo, péssimo atendimento, estou furiosa com a recepção de vocês!!!"
    assert (
        post_signed(receiver_client, message_created("health", 6001, 9601, text)).json["outcome"]
        == "queued"
    )
    fake_chatwoot.wait_for(lambda: posted(fake_chatwoot, 6001, private=True), timeout=30)
    (reply,) = posted(fake_chatwoot, 6001, private=False)
    assert "Já estou chamando uma pessoa da nossa recepção" in reply
    (note,) = posted(fake_chatwoot, 6001, private=True)
    assert "sentimento muito negativo" in note
    fake_chatwoot.wait_for(lambda: fake_chatwoot.conversation(2, 6001)["status"] == "open")


def test_the_first_reply_greets_the_customer_by_name_and_carries_the_signature(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    start_worker()
    question = "Qual o valor mínimo para ter frete grátis?"
    post_signed(receiver_client, message_created("cosmetics", 6101, 9701, question))
    fake_chatwoot.wait_for(lambda: posted(fake_chatwoot, 6101, private=False), timeout=30)
    (reply,) = posted(fake_chatwoot, 6101, private=False)
    greeting, rest = reply.split(", Maria! ", 1)
    assert greeting in GREETINGS
    assert "199" in rest and rest.endswith("\n\nEquipe Bela Pele")


def test_a_long_whatsapp_reply_reaches_chatwoot_in_parts(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
) -> None:
    # Facts-free, so the reply gate lets it through as the model wrote it.
    long_reply = " ".join(f"O item {i} está na vitrine {i} da loja." for i in range(150))
    fake_openai.responder = lambda _m: f"Final Answer: {long_reply}"
    start_worker(
        env={
            "CHATWOOTAI_LLM": "openai/fake-model",
            "CHATWOOTAI_LLM_BASE_URL": fake_openai.url,
            "CHATWOOTAI_LLM_API_KEY": "sk-local",
        }
    )
    post_signed(receiver_client, message_created("cosmetics", 6151, 9751, "Quanto custa?"))
    # The parts are posted one by one: wait for the last (it carries the signature),
    # not for the first few, or the read races the parts still in flight.
    fake_chatwoot.wait_for(
        lambda: any(
            part.endswith("Equipe Bela Pele") for part in posted(fake_chatwoot, 6151, private=False)
        ),
        timeout=30,
    )
    parts = posted(fake_chatwoot, 6151, private=False)
    assert len(parts) >= 3
    assert all(len(part) <= 1000 for part in parts)
    assert long_reply in " ".join(parts).replace("\n\n", " ")


def test_an_agent_answers_from_the_erp_through_the_odoo_connector(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
    fake_openai: FakeOpenAI,
    odoo_server: FakeOdoo,
) -> None:
    def model(messages: list[dict[str, Any]]) -> str | ToolCall:
        results = [m for m in messages if m.get("role") == "tool"]
        if not results:
            return ToolCall(name="odoo_order_status", arguments={"order_name": "S00042"})
        return f"Final Answer: {results[-1]['content']}"

    fake_openai.responder = model
    start_worker(
        env={
            "CHATWOOTAI_LLM": "openai/fake-model",
            "CHATWOOTAI_LLM_BASE_URL": fake_openai.url,
            "CHATWOOTAI_LLM_API_KEY": "sk-local",
            "CHATWOOTAI_RETAIL_ODOO_URL": odoo_server.url,
            "CHATWOOTAI_RETAIL_ODOO_USER": odoo_server.login,
            "CHATWOOTAI_RETAIL_ODOO_PASSWORD": odoo_server.password,
        }
    )
    question = "Qual o status do meu pedido S00042?"
    payload = message_created("retail", 6201, 9801, question)
    payload["sender"]["phone_number"] = "+55 11 98888-7777"  # the order's own customer
    post_signed(receiver_client, payload)
    fake_chatwoot.wait_for(lambda: posted(fake_chatwoot, 6201, private=False), timeout=30)
    (reply,) = posted(fake_chatwoot, 6201, private=False)
    assert "Pedido S00042: confirmado. Total R$ 809,80." in reply
    (call,) = odoo_server.calls_to("sale.order")
    assert call["args"] == [[["name", "=", "S00042"]]]


BROKEN_PLUGIN = '''
"""A third-party plugin that fails every way it can."""
import time
from hub.plugins import hookimpl

@hookimpl
def before_crew():
    raise RuntimeError("broken before_crew")

@hookimpl
def agent_tools():
    raise RuntimeError("broken agent_tools")

@hookimpl
def after_crew(reply):
    time.sleep(3)
    return "too late"
'''


@pytest.fixture
def broken_plugin_installed(
    tmp_path: Path, service_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """`chatwootai_broken` on the `chatwootai.plugins` entry point, enabled in retail."""
    site = tmp_path / "site"
    (site / "chatwootai_broken").mkdir(parents=True)
    (site / "chatwootai_broken" / "__init__.py").write_text(BROKEN_PLUGIN, encoding="utf-8")
    meta = site / "chatwootai_broken-0.1.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: chatwootai-broken\nVersion: 0.1\n", encoding="utf-8"
    )
    (meta / "entry_points.txt").write_text(
        "[chatwootai.plugins]\nbroken = chatwootai_broken\n", encoding="utf-8"
    )
    domains = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, domains)
    domain_file = domains / "retail" / "domain.yaml"
    domain_file.write_text(
        domain_file.read_text(encoding="utf-8")
        + textwrap.indent("broken:\n  timeout_seconds: 0.5\n", "  "),
        encoding="utf-8",
    )
    service_env["PYTHONPATH"] = str(site)
    service_env["CHATWOOTAI_DOMAINS_DIR"] = str(domains)
    monkeypatch.syspath_prepend(str(site))  # the in-test receiver validates domains too
    from hub.plugins import discovery

    monkeypatch.setattr(discovery, "_installed", None)
    return site


def test_a_broken_plugin_installed_by_entry_point_does_not_stop_the_reply(
    broken_plugin_installed: Path,
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    worker = start_worker()
    question = "Qual o horário de funcionamento das lojas?"
    assert (
        post_signed(receiver_client, message_created("retail", 6301, 9901, question)).json[
            "outcome"
        ]
        == "queued"
    )
    fake_chatwoot.wait_for(lambda: posted(fake_chatwoot, 6301, private=False), timeout=30)
    (reply,) = posted(fake_chatwoot, 6301, private=False)
    assert "10:00" in reply and "too late" not in reply
    failed = {
        (e["domain"], e["plugin"], e["hook"]) for e in logged(worker, "plugin failed; skipped")
    }
    assert {("retail", "broken", "before_crew"), ("retail", "broken", "agent_tools")} <= failed
    (late,) = logged(worker, "plugin timed out; skipped")
    assert (late["domain"], late["plugin"], late["hook"]) == ("retail", "broken", "after_crew")
