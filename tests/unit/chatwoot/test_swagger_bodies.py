"""Every body ChatwootClient sends validates against Chatwoot's OpenAPI spec for its path.

The spec lives in the repo (`tests/fixtures/chatwoot-swagger.json`, a copy of
Chatwoot v4.10's `swagger.json`) so this runs on a clean clone. Where a shared
copy is around (`/work/shared/chatwoot/swagger.json` beside the checkout, or
CHATWOOTAI_SWAGGER), a test checks the in-repo copy has not drifted from it.

Deliberate deviations, because the spec trails Chatwoot's code:
- `POST …/toggle_typing_status` (Chatwoot 2026-03+) is not in the v4.10 spec:
  its body is checked against the public API's `…/toggle_typing`, which takes
  the same `{typing_status: on|off}`, until the spec gains the path.
- `POST …/labels` is marked user-token only; agent-bot tokens work in the code.
  That is about security schemes, not bodies: the body is checked as specified.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from hub.chatwoot.client import ChatwootClient
from tests.fakes.chatwoot import FakeChatwoot, RecordedRequest

IN_REPO_SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "chatwoot-swagger.json"
_SHARED = Path(__file__).parents[3].parent / "shared/chatwoot/swagger.json"
# Read at import: the autouse settings fixture removes CHATWOOTAI_* variables.
_ENV_SPEC = os.environ.get("CHATWOOTAI_SWAGGER")
SHARED_SPEC = _SHARED if _SHARED.is_file() else (Path(_ENV_SPEC) if _ENV_SPEC else None)

CONVERSATION = "/api/v1/accounts/{account_id}/conversations/{conversation_id}"
PUBLIC_TYPING = (
    "/public/api/v1/inboxes/{inbox_identifier}/contacts/{contact_identifier}"
    "/conversations/{conversation_id}/toggle_typing"
)
SPEC_PATH_FOR_TYPING = {f"{CONVERSATION}/toggle_typing_status": PUBLIC_TYPING}
"""Paths the spec lacks → the documented path whose body has the same shape."""


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(IN_REPO_SPEC.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def fake() -> Iterator[FakeChatwoot]:
    """A local Chatwoot that records every request exactly as it arrived on the wire."""
    with FakeChatwoot(tokens={"t": 1}) as chatwoot:
        yield chatwoot


@pytest.fixture
def client(fake: FakeChatwoot) -> Iterator[ChatwootClient]:
    with ChatwootClient(fake.url) as chatwoot:
        yield chatwoot


def resolve(node: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    """`node` with every local `$ref` replaced by what it points at."""
    if depth > 50:
        raise RecursionError("$ref cycle in the spec")
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return resolve(target, spec, depth + 1)
        return {key: resolve(value, spec, depth) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, spec, depth) for item in node]
    return node


def template_of(path: str, spec: dict[str, Any]) -> str:
    """The spec's path template that matches a concrete request path."""
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(template)) + "$"
        if template.startswith("/api/") and re.match(pattern, path):
            return str(template)
    concrete = re.sub(
        r"/accounts/\d+/conversations/\d+",
        "/accounts/{account_id}/conversations/{conversation_id}",
        path,
    )
    if concrete in SPEC_PATH_FOR_TYPING:
        return SPEC_PATH_FOR_TYPING[concrete]
    raise AssertionError(f"{path} is not in the spec and has no documented stand-in")


def body_schema(spec: dict[str, Any], template: str, method: str) -> dict[str, Any]:
    operation = spec["paths"][template][method.lower()]
    schema: dict[str, Any] = resolve(
        operation["requestBody"]["content"]["application/json"]["schema"], spec
    )
    return schema


def check_against_spec(request: RecordedRequest, spec: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = request["body"]
    schema = body_schema(spec, template_of(request["path"], spec), request["method"])
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(body)
    return body


CALLS: dict[str, Callable[[ChatwootClient], object]] = {
    "reply": lambda c: c.send_message(1, 42, "Olá! Como posso ajudar?", token="t"),
    "private note": lambda c: c.send_message(
        1, 42, "Motivo da transferência", token="t", private=True
    ),
    "input_select": lambda c: c.send_message(
        1,
        42,
        "Escolha uma opção",
        token="t",
        content_type="input_select",
        content_attributes={
            "items": [
                {"title": "Pedidos", "value": "pedidos"},
                {"title": "Trocas", "value": "trocas"},
            ]
        },
    ),
    "handoff": lambda c: c.toggle_status(1, 42, "open", token="t"),
    "snooze": lambda c: c.toggle_status(1, 42, "snoozed", token="t", snoozed_until=1764200000),
    "assign agent": lambda c: c.assign(1, 42, token="t", assignee_id=3),
    "assign team": lambda c: c.assign(1, 42, token="t", team_id=4),
    "labels": lambda c: c.add_labels(1, 42, ["handoff", "vip"], token="t"),
    "priority": lambda c: c.toggle_priority(1, 42, "urgent", token="t"),
    "typing on": lambda c: c.toggle_typing(1, 42, True, token="t"),
    "typing off": lambda c: c.toggle_typing(1, 42, False, token="t"),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_every_body_the_client_sends_validates_against_the_spec(
    call: Callable[[ChatwootClient], object],
    client: ChatwootClient,
    fake: FakeChatwoot,
    spec: dict[str, Any],
) -> None:
    call(client)
    (request,) = fake.requests()
    assert request["method"] == "POST"
    assert request["headers"]["content-type"] == "application/json"
    check_against_spec(request, spec)


def test_the_token_goes_in_the_header_the_spec_names_for_bots(
    client: ChatwootClient, fake: FakeChatwoot, spec: dict[str, Any]
) -> None:
    scheme = spec["components"]["securitySchemes"]["agentBotApiKey"]
    assert (scheme["type"], scheme["in"]) == ("apiKey", "header")
    client.send_message(1, 42, "Olá!", token="t")
    assert fake.requests()[0]["headers"][scheme["name"].lower()] == "t"


def test_the_calls_a_bot_makes_are_open_to_bot_tokens_in_the_spec(spec: dict[str, Any]) -> None:
    for action in ("messages", "toggle_status", "toggle_priority", "assignments"):
        security = spec["paths"][f"{CONVERSATION}/{action}"]["post"].get("security", [])
        schemes = {name for requirement in security for name in requirement}
        assert "agentBotApiKey" in schemes or not security, action


def test_the_validation_would_catch_a_wrong_body(spec: dict[str, Any]) -> None:
    schema = body_schema(spec, f"{CONVERSATION}/toggle_status", "post")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate({"status": "closed"})
    message = body_schema(spec, f"{CONVERSATION}/messages", "post")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(message).validate({"message_type": "outgoing"})


def test_typing_is_still_missing_from_the_spec_so_the_stand_in_is_needed(
    spec: dict[str, Any],
) -> None:
    """When the spec gains the path, drop the stand-in and validate against it directly."""
    assert f"{CONVERSATION}/toggle_typing_status" not in spec["paths"]
    assert PUBLIC_TYPING in spec["paths"]


@pytest.mark.skipif(SHARED_SPEC is None, reason="no shared swagger.json outside the repo")
def test_the_in_repo_spec_is_the_shared_one() -> None:
    assert SHARED_SPEC is not None
    assert IN_REPO_SPEC.read_bytes() == SHARED_SPEC.read_bytes(), (
        f"copy {SHARED_SPEC} to {IN_REPO_SPEC} (and rerun these tests)"
    )
