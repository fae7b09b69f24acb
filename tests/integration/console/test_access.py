"""Who may use the console and what they see, through the real app (Flask's client):
login beyond loopback, loopback without users, CSRF, and tenants kept apart on
every page and API URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from hub.console import create_app
from hub.console.access import hash_password, parse_users
from hub.console.state import Console
from hub.exceptions import ConfigurationError
from hub.settings import Settings
from hub.store.migrate import upgrade
from tests.conftest import SAMPLE_DOMAINS

pytestmark = pytest.mark.integration

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'store.sqlite3'}"
    upgrade(url)
    settings = Settings(
        domains_dir=SAMPLE_DOMAINS,
        data_dir=folder / "var",
        database_url=url,
        embeddings="none",
        chatwoot_url="http://chatwoot.example",
    )
    console = Console(settings)
    yield console
    console.close()


@pytest.fixture(scope="module")
def hashed() -> str:
    return hash_password(PASSWORD)


def app_with(console: Console, users: str) -> Flask:
    return create_app(
        {
            "SETTINGS": console.settings,
            "CONSOLE": console,
            "CONSOLE_USERS": parse_users(users),
            "TESTING": True,
        }
    )


@pytest.fixture
def tenants(console: Console, hashed: str) -> Flask:
    return app_with(console, f"agency {hashed} *; clinic {hashed} health")


def csrf(client: FlaskClient, path: str = "/login", **environ: str) -> str:
    page = client.get(path, environ_base=environ)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def logged_in(app: Flask, user: str, **environ: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    token = csrf(client, **environ)
    answer = client.post(
        "/login",
        data={"user": user, "password": PASSWORD, "csrf": token},
        environ_base=environ,
    )
    assert answer.status_code == 302, answer.text[:300]
    return client, csrf(client, "/domains", **environ)  # a login starts a new session


def test_with_users_every_page_asks_for_a_login_even_on_loopback(tenants: Flask) -> None:
    client = tenants.test_client()
    page = client.get("/glance")
    assert page.status_code == 302 and page.location.startswith("/login")
    assert client.get("/api/domains").status_code == 401
    assert client.get("/healthz").status_code == 200


def test_a_user_logs_in_from_beyond_loopback_and_sees_the_pages(tenants: Flask) -> None:
    assert tenants.test_client().get("/domains", environ_base=REMOTE).status_code == 302
    client, _ = logged_in(tenants, "agency", **REMOTE)
    for path in ("/glance", "/domains", "/domains/health", "/conversations/retail"):
        assert client.get(path, environ_base=REMOTE).status_code == 200, path


def test_a_wrong_password_is_refused(tenants: Flask) -> None:
    client = tenants.test_client()
    token = csrf(client)
    answer = client.post("/login", data={"user": "agency", "password": "nope", "csrf": token})
    assert answer.status_code == 200 and "Wrong user or password" in answer.text
    assert client.get("/glance").status_code == 302


def test_a_login_never_sends_the_user_to_another_site(tenants: Flask) -> None:
    client = tenants.test_client()
    token = csrf(client)
    answer = client.post(
        "/login?next=//evil.example/x",
        data={"user": "agency", "password": PASSWORD, "csrf": token},
    )
    assert answer.location == "/glance"


def test_without_users_only_loopback_is_served(console: Console) -> None:
    app = app_with(console, "")
    client = app.test_client()
    assert client.get("/domains").status_code == 200
    assert client.get("/domains", environ_base=REMOTE).status_code == 403
    assert client.get("/api/domains", environ_base=REMOTE).status_code == 403


def test_without_users_a_request_relayed_by_a_local_proxy_is_not_the_local_agency(
    console: Console,
) -> None:
    client = app_with(console, "").test_client()
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        relayed = {header: "203.0.113.9"}
        assert client.get("/domains", headers=relayed).status_code == 403
        assert client.get("/api/domains", headers=relayed).status_code == 403


def test_a_post_without_the_csrf_token_is_refused(tenants: Flask) -> None:
    client, token = logged_in(tenants, "agency")
    body = {"messages": ["Qual o endereço?"]}
    assert client.post("/api/domains/health/playground", json=body).status_code == 400
    assert client.post("/playground/health/reset").status_code == 400
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.post("/playground/health/reset", data={"csrf": token}).status_code == 302


def test_a_user_of_one_domain_cannot_reach_another_domains_pages_or_api(tenants: Flask) -> None:
    client, token = logged_in(tenants, "clinic")
    for path in (
        "/playground/retail",
        "/conversations/retail",
        "/domains/retail",
        "/api/domains/retail",
        "/api/domains/retail/turns",
        "/api/domains/retail/stats",
        "/api/domains/retail/playground",
        "/domains/no-such-domain",
    ):
        assert client.get(path).status_code == 403, path
    for path in ("/playground/retail/send", "/domains/retail/stories"):
        answer = client.post(path, data={"csrf": token, "message": "oi", "channel": "x"})
        assert answer.status_code == 403, path
    answer = client.post(
        "/api/domains/retail/playground",
        json={"messages": ["oi"]},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 403
    assert client.get("/api/domains/health").status_code == 200
    assert [d["id"] for d in client.get("/api/domains").get_json()["domains"]] == ["health"]
    for path in ("/glance", "/domains", "/playground/health", "/conversations/health"):
        page = client.get(path).text
        assert "retail" not in page and "cosmetics" not in page, path


def test_a_playground_turn_with_bad_input_is_a_400(tenants: Flask) -> None:
    client, token = logged_in(tenants, "agency")
    headers = {"X-CSRF-Token": token}
    for body in (
        {},
        {"messages": []},
        {"messages": ["  "]},
        {"messages": ["oi"] * 9},
        {"messages": "oi"},
        {"messages": ["oi"], "channel": "Channel::Telegraph"},
    ):
        answer = client.post("/api/domains/health/playground", json=body, headers=headers)
        assert answer.status_code == 400, body
    answer = client.post(
        "/playground/health/send",
        data={"csrf": token, "message": "", "channel": "Channel::Whatsapp"},
    )
    assert answer.status_code == 400
    assert client.get("/conversations/health?handoff=bogus").status_code == 400


def test_a_user_entry_must_have_three_fields_and_a_hash() -> None:
    with pytest.raises(ConfigurationError, match="three fields") as raised:
        parse_users("agency only-two")
    assert raised.value.line == 1
    with pytest.raises(ConfigurationError, match="must be a hash"):
        parse_users("# the agency\nagency hunter2 *")
    assert set(parse_users("a x$y$z *\n\nb x$y$z health,retail")["b"].domains) == {
        "health",
        "retail",
    }


def test_users_come_from_the_file_too(tmp_path: Path, hashed: str) -> None:
    from hub.console.access import load_users

    file = tmp_path / "users"
    file.write_text(f"clinic {hashed} health\n", encoding="utf-8")
    users = load_users(f"agency {hashed} *", file)
    assert sorted(users) == ["agency", "clinic"]
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_users(None, tmp_path / "missing")


def test_a_burst_is_one_turn_and_after_a_handoff_the_bot_stays_silent(tenants: Flask) -> None:
    client, token = logged_in(tenants, "agency")
    headers = {"X-CSRF-Token": token}
    burst = ["Oi, bom dia", "Qual o endereço da clínica?"]
    answer = client.post(
        "/api/domains/health/playground",
        json={"messages": burst, "channel": "Channel::WebWidget"},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    played = answer.get_json()
    assert played["messages"] == burst
    assert played["trace"]["message"] == "\n".join(burst)
    assert played["trace"]["channel"] == "Channel::WebWidget"
    assert played["trace"]["route"] and played["reply"]
    emergency = {"messages": ["Estou com falta de ar"], "channel": "Channel::WebWidget"}
    answer = client.post("/api/domains/health/playground", json=emergency, headers=headers)
    assert answer.get_json()["handoff"] is True
    assert answer.get_json()["trace"]["handoff"]["kind"] == "rule"
    answer = client.post("/api/domains/health/playground", json=emergency, headers=headers)
    assert answer.status_code == 409
    turns = client.get("/api/domains/health/playground").get_json()["turns"]
    assert len(turns) == 2
    client.post("/playground/health/reset", data={"csrf": token})
    assert client.get("/api/domains/health/playground").get_json()["turns"] == []
