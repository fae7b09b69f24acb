"""The generic HTTP connector against a local JSON API: auth, retries, timeouts, mapping."""

from __future__ import annotations

import time
from typing import Any

import pytest
import structlog

from hub.domains.registry import DomainRegistry
from hub.exceptions import ExternalAuthError, ExternalSystemError
from hub.turn import TurnContext
from plugins.connectors import agent_tools, domain_ready
from plugins.connectors.http import HttpEndpoint, endpoint_tool
from plugins.connectors.settings import ConnectorSettings, Endpoint
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.http_api import FakeHttpApi

pytestmark = pytest.mark.integration

TRACKING = {
    "tracking": {"status": "em trânsito", "last_city": "Campinas", "estimated_delivery": "29/11"}
}


def endpoint(**overrides: Any) -> Endpoint:
    spec: dict[str, Any] = {
        "name": "carrier_tracking",
        "description": "Rastreio",
        "base_url_env": "API_URL",
        "path": "/v1/tracking/{code}",
        "params": {
            "code": {"description": "código"},
            "cep": {"description": "cep", "required": False},
        },
        "backoff_seconds": 0.01,
        "response": {
            "fields": {
                "status": "tracking.status",
                "city": "tracking.last_city",
                "eta": "tracking.estimated_delivery",
            },
            "template": "Envio: {status}, em {city}; previsão {eta}.",
        },
    }
    spec.update(overrides)
    return Endpoint.model_validate(spec)


@pytest.fixture
def api(fake_http_api: FakeHttpApi, monkeypatch: pytest.MonkeyPatch) -> FakeHttpApi:
    monkeypatch.setenv("API_URL", fake_http_api.url)
    fake_http_api.route("GET", "/v1/tracking/BR%201%2F2", TRACKING)
    fake_http_api.route("GET", "/v1/tracking/BR1", TRACKING)
    return fake_http_api


def test_an_endpoint_fills_its_path_sends_the_rest_as_query_and_maps_the_answer(
    api: FakeHttpApi,
) -> None:
    connection = HttpEndpoint(endpoint(query={"lang": "pt"}))
    text = connection.answer({"code": "BR 1/2", "cep": "01000-000"})
    assert text == "Envio: em trânsito, em Campinas; previsão 29/11."
    (request,) = api.requests
    assert request["path"] == "/v1/tracking/BR%201%2F2"  # quoted: one path segment
    assert request["query"] == {"lang": "pt", "cep": "01000-000"}


@pytest.mark.parametrize(
    ("auth", "env", "server"),
    [
        ({"type": "bearer", "token_env": "API_TOKEN"}, {"API_TOKEN": "t0k"}, ("bearer", "t0k")),
        (
            {"type": "basic", "username_env": "API_USER", "password_env": "API_PASS"},
            {"API_USER": "loja", "API_PASS": "s3nha"},
            ("basic", ("loja", "s3nha")),
        ),
        (
            {"type": "api_key", "key_env": "API_KEY", "header": "X-Key"},
            {"API_KEY": "k1"},
            ("api_key", ("X-Key", "k1")),
        ),
        (
            {"type": "api_key", "key_env": "API_KEY", "query_param": "key"},
            {"API_KEY": "k2"},
            ("api_key", ("?key", "k2")),
        ),
    ],
)
def test_each_auth_scheme_carries_the_secret_from_the_environment(
    api: FakeHttpApi,
    monkeypatch: pytest.MonkeyPatch,
    auth: dict[str, str],
    env: dict[str, str],
    server: tuple[str, Any],
) -> None:
    setattr(api, server[0], server[1])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    connection = HttpEndpoint(endpoint(auth=auth))
    assert connection.call({"code": "BR1"}) == TRACKING
    monkeypatch.setenv(next(iter(env)), "wrong")
    with pytest.raises(ExternalAuthError):
        HttpEndpoint(endpoint(auth=auth)).call({"code": "BR1"})


def test_5xx_answers_are_retried_with_backoff_and_4xx_are_not(api: FakeHttpApi) -> None:
    connection = HttpEndpoint(endpoint(retries=2))
    api.fail_next(2, 503)
    assert connection.call({"code": "BR1"}) == TRACKING
    assert len(api.requests) == 3
    api.fail_next(3, 500)
    with pytest.raises(ExternalSystemError, match="HTTP 500 after 3 attempts") as failed:
        connection.call({"code": "BR1"})
    assert failed.value.retryable
    api.requests.clear()
    with pytest.raises(ExternalSystemError, match="HTTP 404"):
        connection.call({"code": "nope"})
    assert len(api.requests) == 1


def test_a_slow_api_times_out_within_the_endpoints_timeout(api: FakeHttpApi) -> None:
    api.delay_seconds = 2
    connection = HttpEndpoint(endpoint(timeout_seconds=0.2, retries=1))
    started = time.perf_counter()
    context = TurnContext(domain_id="retail")
    text = connection.answer({"code": "BR1"}, context)
    assert time.perf_counter() - started < 1.5
    assert text.startswith("Não consegui consultar o sistema agora") and "timed out" in text
    (failure,) = context.tool_failures  # the turn will hand off: the data is missing
    assert "timed out" in failure


def test_a_list_answer_is_mapped_item_by_item(api: FakeHttpApi) -> None:
    api.route(
        "GET",
        "/v1/items",
        {"data": {"items": [{"n": "Panela", "p": "459,90"}, {"n": "Copo", "p": "9,90"}]}},
    )
    spec = endpoint(
        path="/v1/items",
        params={},
        response={
            "many": "data.items",
            "fields": {"name": "n", "price": "p"},
            "template": "{name}: R$ {price}",
        },
    )
    assert HttpEndpoint(spec).answer({}) == "Panela: R$ 459,90\nCopo: R$ 9,90"
    api.route("GET", "/v1/items", {"data": {"items": []}})
    assert HttpEndpoint(spec).answer({}) == "Nada encontrado."


def test_an_endpoint_is_a_crewai_tool_with_its_params_as_arguments(api: FakeHttpApi) -> None:
    context = TurnContext(domain_id="retail")
    tool = endpoint_tool(HttpEndpoint(endpoint()), context)
    assert tool.name == "carrier_tracking"
    assert set(tool.args_schema.model_json_schema()["required"]) == {"code"}
    assert "em trânsito" in tool.run(code="BR1")
    assert context.tool_calls == ["carrier_tracking"]


def test_an_endpoint_s_answer_is_recorded_untyped_its_text_only(api: FakeHttpApi) -> None:
    context = TurnContext(domain_id="retail")
    text = endpoint_tool(HttpEndpoint(endpoint()), context).run(code="BR1")
    (result,) = context.results
    assert (result.tool, result.kind, result.data, result.text) == (
        "carrier_tracking",
        "text",
        None,
        text,
    )


def test_tools_go_to_agents_that_list_them_or_are_granted_them(
    api: FakeHttpApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATWOOTAI_RETAIL_CARRIER_URL", api.url)
    monkeypatch.setenv("CHATWOOTAI_RETAIL_CARRIER_TOKEN", "t")
    retail = DomainRegistry(SAMPLE_DOMAINS).get("retail")
    config = ConnectorSettings.model_validate(retail.spec.plugins["connectors"])
    context = TurnContext(domain_id="retail")

    def names(crew: str, agent: str, listed: tuple[str, ...] = ()) -> list[str]:
        tools = agent_tools(
            domain=retail, config=config, crew=crew, agent=agent, listed=listed, context=context
        )
        return [tool.name for tool in tools]

    assert names("support", "atendente") == ["carrier_tracking"]  # granted in domain.yaml
    assert names("sales", "vendedor") == []
    assert names("sales", "vendedor", ("carrier_tracking",)) == ["carrier_tracking"]


def test_without_its_url_variable_a_tool_is_absent_with_a_warning_not_a_crash() -> None:
    retail = DomainRegistry(SAMPLE_DOMAINS).get("retail")
    config = ConnectorSettings.model_validate(retail.spec.plugins["connectors"])
    with structlog.testing.capture_logs() as logs:
        domain_ready(domain=retail, config=config)
    tools = agent_tools(
        domain=retail,
        config=config,
        crew="support",
        agent="atendente",
        listed=("carrier_tracking",),
        context=TurnContext(domain_id="retail"),
    )
    assert tools == []
    warned = {entry["event"] for entry in logs if entry.get("domain") == "retail"}
    assert warned == {
        "connector tool absent: environment variables unset",
        "odoo tools absent: environment variables unset",
    }


def test_a_server_that_drips_its_answer_is_given_up_on_at_the_call_s_deadline(
    api: FakeHttpApi,
) -> None:
    api.drip_seconds = 0.05  # each read is quick; the whole answer takes ~5 s
    connection = HttpEndpoint(endpoint(timeout_seconds=0.5, retries=2))
    context = TurnContext(domain_id="retail")
    started = time.perf_counter()
    text = connection.answer({"code": "BR1"}, context)
    elapsed = time.perf_counter() - started
    assert 0.4 < elapsed < 0.9
    assert "timed out" in text
    assert len(context.tool_failures) == 1


def test_retries_stop_when_the_call_s_budget_is_spent(api: FakeHttpApi) -> None:
    api.delay_seconds = 0.3
    api.fail_next(5, 503)
    connection = HttpEndpoint(endpoint(timeout_seconds=0.5, retries=5, backoff_seconds=0.01))
    started = time.perf_counter()
    with pytest.raises(ExternalSystemError, match=r"timed out|HTTP 503"):
        connection.call({"code": "BR1"})
    assert time.perf_counter() - started < 0.9
    assert len(api.requests) <= 2


@pytest.mark.parametrize("chunked", [False, True], ids=["with a length", "chunked, no length"])
def test_an_answer_over_the_size_cap_is_refused(api: FakeHttpApi, chunked: bool) -> None:
    api.route("GET", "/v1/tracking/BIG", {"tracking": {"status": "x" * 300_000}})
    if chunked:
        api.chunked_bytes = 3 * 2**20
    connection = HttpEndpoint(endpoint(max_response_bytes=200_000))
    context = TurnContext(domain_id="retail")
    text = connection.answer({"code": "BIG"}, context)
    assert "over 200000 bytes" in text
    assert len(api.requests) == 1  # not retried: the same answer would come back
    api.chunked_bytes = None
    assert "em trânsito" in connection.answer({"code": "BR1"})


@pytest.mark.parametrize(
    "code", ["..", ".", "../admin", "a/../../admin", "..\\admin", "%2e%2e", " .. "]
)
def test_a_dot_segment_in_a_path_parameter_is_refused_before_any_request(
    api: FakeHttpApi, code: str
) -> None:
    context = TurnContext(domain_id="retail")
    text = HttpEndpoint(endpoint()).answer({"code": code}, context)
    assert "não é válido" in text or "not a valid value" in text
    assert api.requests == []
    assert context.tool_failures == []  # the customer's input, not a system failure


def test_dots_inside_a_value_are_still_sent_as_one_segment(api: FakeHttpApi) -> None:
    api.route("GET", "/v1/tracking/BR..1", TRACKING)
    assert "em trânsito" in HttpEndpoint(endpoint()).answer({"code": "BR..1"})
    assert api.requests[0]["path"] == "/v1/tracking/BR..1"
