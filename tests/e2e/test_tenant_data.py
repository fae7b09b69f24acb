"""Tenant data through the whole pipeline: an order's details reach only its customer.

Signed webhooks go through the real receiver to a real worker process, whose
embedded database holds the retail samples; the contact's phone comes from the
webhook's `sender.phone_number`, as Chatwoot sends it for a WhatsApp contact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.e2e.conftest import WorkerProcess, message_created, post_signed
from tests.fakes.chatwoot import FakeChatwoot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUESTION = "Qual a situação do meu pedido CC-2026-00020?"


def contact(phone: str) -> dict[str, Any]:
    return {"id": 777, "name": "Cliente", "phone_number": phone, "email": None}


def reply_to(fake_chatwoot: FakeChatwoot, conversation_id: int) -> str:
    def replies() -> list[dict[str, Any]]:
        return [
            r
            for r in fake_chatwoot.requests()
            if r["method"] == "POST"
            and r["path"].endswith(f"/conversations/{conversation_id}/messages")
            and not r["body"].get("private")
        ]

    fake_chatwoot.wait_for(replies, timeout=30)
    (reply,) = replies()
    return str(reply["body"]["content"])


def test_an_order_s_details_reach_only_the_contact_whose_phone_is_the_order_s(
    start_worker: Callable[..., WorkerProcess],
    receiver_client: FlaskClient,
    fake_chatwoot: FakeChatwoot,
) -> None:
    start_worker()
    owner = message_created("retail", 4101, 9101, QUESTION, sender=contact("+55 11 98765-4320"))
    stranger = message_created("retail", 4102, 9102, QUESTION, sender=contact("+5541999990000"))
    for payload in (owner, stranger):
        response = post_signed(receiver_client, payload)
        assert response.status_code == 200, response.json
        assert response.json["outcome"] == "queued"

    told = reply_to(fake_chatwoot, 4101)
    assert "cancelado" in told and "7 dias úteis" in told

    refused = reply_to(fake_chatwoot, 4102)
    assert "CC-2026-00020" in refused and "confirme o telefone ou o e-mail" in refused
    assert "cancelado" not in refused and "reembolso" not in refused
