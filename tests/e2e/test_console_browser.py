"""The real console (`chatwootai console`, gunicorn) driven in headless Chromium.

Debian's /usr/bin/chromium, driven by Playwright's Python package pointed at that
executable (Playwright's own browser download is never used). Without chromium or
playwright these tests skip, and fail when CHATWOOTAI_REQUIRE_SERVICES=1 (CI).
With CHATWOOTAI_TEST_SCREENSHOTS=docs/console set, each page's screenshot is
written there (docs/console.md shows them); `make test` leaves the docs alone.

One console process and one browser for the module; each user logs in in a
browser context of their own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.console.access import hash_password
from hub.conversation.decision import decide
from hub.crews.factory import CrewFactory
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.store.conversations import TurnRecord, record_turn
from hub.store.database import connection_scope, create_engine
from hub.store.migrate import upgrade
from hub.turn import Turn
from tests.conftest import REQUIRE_SERVICES, ROOT, SAMPLE_DOMAINS, child_env

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.long]
"""Run with `pytest -m long` (and to take docs/console's screenshots), not by
`make test`: CI's time."""

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "a long console password"
SCREENSHOTS = os.environ.get("CHATWOOTAI_TEST_SCREENSHOTS")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""As root, on a machine without a network: no sandbox, and nothing phoned home."""
START_SECONDS = 240
"""The console imports CrewAI and prepares its sandbox before it answers: on a busy
2-core machine that has taken over a minute."""

DELIBERATE_FAILURE = """\
stories:
  - name: uma expectativa errada de propósito
    steps:
      - customer: Quanto custa uma consulta particular com cardiologista?
        expect:
          route: sales
          reply_contains: ["consulta grátis para sempre"]
"""
BROKEN_DOMAIN = """\
extends: _base
name: Padaria do Bairro
chatwoot:
  account_id: nove
"""
"""A domain whose account id is no number, on line 4."""


def _browser_tools() -> Any:
    reason = ""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = reason or "playwright is not installed (make install)"
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(f"browser tests need {reason}")
        pytest.skip(reason)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The domains (the samples, a failing story, a broken domain) and a store with
    turns recorded as the worker records them: the decision's trace included."""
    folder = tmp_path_factory.mktemp("console-browser")
    domains = folder / "domains"
    shutil.copytree(SAMPLE_DOMAINS, domains)
    (domains / "health" / "tests" / "zz-deliberada.yaml").write_text(
        DELIBERATE_FAILURE, encoding="utf-8"
    )
    (domains / "padaria").mkdir()
    (domains / "padaria" / "domain.yaml").write_text(BROKEN_DOMAIN, encoding="utf-8")
    url = f"sqlite:///{folder / 'store.sqlite3'}"
    upgrade(url)
    settings = Settings(
        domains_dir=SAMPLE_DOMAINS,
        data_dir=folder / "var-record",
        database_url=f"sqlite:///{folder / 'tools.sqlite3'}",
        embeddings="none",
    )
    upgrade(settings.database_url or "")
    registry = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"))
    factory = CrewFactory(registry, settings)
    health = registry.get("health")
    engine = create_engine(url)
    with connection_scope(engine) as connection:
        for number, text in enumerate(
            ("Quanto custa uma consulta com dermatologista?", "Estou com dor no peito"), 1
        ):
            decision = decide(
                health,
                Turn(text, account_id=2, conversation_id=70 + number),
                factory.hub("health").run,
            )
            record_turn(
                connection,
                TurnRecord(
                    domain="health",
                    account_id=2,
                    conversation_id=70 + number,
                    message_id=900 + number,
                    customer_text=text,
                    reply_text=decision.draft.text,
                    route=decision.recorded_route,
                    trace=decision.trace,
                    handoff_kind=decision.draft.kind if decision.draft.hands_off else None,
                ),
            )
    engine.dispose()
    factory.engine.dispose()
    return {"folder": folder, "domains": domains, "store": url}


@pytest.fixture(scope="module")
def console(stage: dict[str, Any]) -> Iterator[str]:
    """The console's base URL, served by the real command."""
    _browser_tools()
    port = _free_port()
    hashed = hash_password(PASSWORD)
    env = child_env()
    env.update(
        {
            "CHATWOOTAI_DOMAINS_DIR": str(stage["domains"]),
            "CHATWOOTAI_DATA_DIR": str(stage["folder"] / "var"),
            "CHATWOOTAI_DATABASE_URL": stage["store"],
            "CHATWOOTAI_EMBEDDINGS": "none",
            "CHATWOOTAI_CHATWOOT_URL": "http://chatwoot.example",
            "CHATWOOTAI_CONSOLE_USERS": f"agency {hashed} *; clinic {hashed} health",
            "CHATWOOTAI_CONSOLE_SECRET_KEY": "browser-test-secret",
            "HOME": str(stage["folder"] / "home"),
        }
    )
    log = stage["folder"] / "console.log"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "console", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                said = log.read_text(encoding="utf-8")[-3000:]
                pytest.fail(f"the console did not start:\n{said}")
            time.sleep(0.3)
    yield base
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def browser(console: str) -> Iterator[Any]:
    with _browser_tools()() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


def logged_in(browser: Any, console: str, user: str, **options: Any) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.goto(f"{console}/glance")
    assert "/login" in page.url
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_url(f"{console}/glance")
    return page


def shot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        folder = ROOT / SCREENSHOTS
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def send(page: Any, text: str) -> Any:
    page.fill("#composer textarea", text)
    page.click("#composer button[value='0']")
    page.wait_for_load_state()
    return page.locator("article.turn").last


def test_a_clinic_turn_shows_its_route_sources_and_tool_call_and_an_emergency_its_handoff(
    browser: Any, console: str
) -> None:
    page = logged_in(browser, console, "agency")
    shot(page, "glance")
    page.goto(f"{console}/playground/health")
    page.select_option("select[name=channel]", "Channel::Whatsapp")
    price = send(page, "Quanto custa uma consulta particular com cardiologista?")
    assert "350,00" in price.locator("[data-testid=reply]").inner_text()
    trace = price.locator("[data-testid=trace]")
    assert "sales" in trace.locator(".route").inner_text()
    assert "by classifier" in trace.locator(".route").inner_text()
    assert "valores-e-convenios.md" in trace.locator(".sources").inner_text()

    slots = send(page, "Tem horário com a dermatologista amanhã?")
    trace = slots.locator("[data-testid=trace]")
    assert "scheduling" in trace.locator(".route").inner_text()
    tools = trace.locator(".tools").inner_text()
    assert "appointment_slots" in tools and "dermatologista" in tools and "slots" in tools
    shot(page, "playground")

    emergency = send(page, "Estou com dor no peito e falta de ar")
    handoff = emergency.locator("[data-testid=trace] .handoff").inner_text()
    assert "rule" in handoff and "emergencia" in handoff and "urgent" in handoff
    assert "SAMU" in emergency.locator("[data-testid=reply]").inner_text()
    assert page.locator("#composer button[value='0']").is_disabled()  # a person owns it now
    shot(page, "playground-handoff")

    page.click("#reset")
    page.wait_for_load_state()
    assert page.locator("article.turn").count() == 0
    assert page.locator("#composer button[value='0']").is_enabled()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    mobile = phone.new_page()
    mobile.goto(f"{console}/login")
    assert mobile.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.close()
    page.context.close()


def test_recorded_turns_show_their_trace_and_a_link_to_chatwoot(browser: Any, console: str) -> None:
    page = logged_in(browser, console, "agency")
    page.goto(f"{console}/conversations/health")
    turns = page.locator("article.turn")
    assert turns.count() == 2
    text = page.locator("main").inner_text()
    assert "valores-e-convenios.md" in text and "regra emergencia" in text
    link = page.locator("a", has_text="open in Chatwoot").first
    assert link.get_attribute("href").startswith(  # type: ignore[union-attr]
        "http://chatwoot.example/app/accounts/2/conversations/7"
    )
    shot(page, "conversations")
    page.goto(f"{console}/conversations/health?handoff=rule")
    assert page.locator("article.turn").count() == 1
    page.goto(f"{console}/glance")
    assert "2 messages" in page.locator(".glance[data-domain=health] .totals").inner_text()
    assert page.locator(".glance[data-domain=health] svg.chart rect").count() > 0
    page.context.close()


def test_a_story_run_shows_the_passes_and_the_deliberate_failure(
    browser: Any, console: str
) -> None:
    page = logged_in(browser, console, "agency")
    page.goto(f"{console}/domains/health")
    details = page.locator("main").inner_text()
    assert "CHATWOOTAI_HEALTH_TOKEN" in details  # a secret by its variable's name
    assert "scheduling" in details and "chunks" in details
    page.click("#run-stories")
    page.wait_for_selector("[data-testid=summary]", timeout=120_000)
    summary = page.locator("[data-testid=summary]").inner_text()
    assert summary.endswith("1 failed"), summary
    assert int(summary.split()[0]) >= 10
    failed = page.locator("ul.stories > li.fail")
    assert failed.count() == 1
    failure = failed.inner_text()
    assert "uma expectativa errada de propósito" in failure
    assert "expected to contain 'consulta grátis para sempre'" in failure
    assert page.locator("ul.stories > li.pass").count() >= 10
    shot(page, "domain-stories")
    page.context.close()


def test_a_broken_domain_shows_its_file_line_and_key(browser: Any, console: str) -> None:
    page = logged_in(browser, console, "agency")
    page.goto(f"{console}/domains")
    assert "padaria" in page.locator("main").inner_text()
    shot(page, "domains")
    page.goto(f"{console}/domains/padaria")
    errors = page.locator("[data-testid=errors]").inner_text()
    assert "padaria/domain.yaml:4" in errors, errors
    assert "chatwoot.account_id" in errors, errors
    shot(page, "domain-broken")
    page.context.close()


def test_a_user_of_one_domain_cannot_reach_another_by_url(browser: Any, console: str) -> None:
    page = logged_in(browser, console, "clinic")
    assert "retail" not in page.locator("main").inner_text()
    for path in (
        "/playground/retail",
        "/conversations/retail",
        "/domains/retail",
        "/domains/padaria",
        "/api/domains/retail/turns",
        "/api/domains/retail/stats",
    ):
        answer = page.goto(f"{console}{path}")
        assert answer.status == 403, path
    page.goto(f"{console}/domains")
    assert "retail" not in page.locator("main").inner_text()
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    status = page.evaluate(
        """async (token) => (await fetch('/api/domains/retail/playground', {
            method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
            body: JSON.stringify({messages: ['oi']})})).status""",
        token,
    )
    assert status == 403
    answer = page.goto(f"{console}/api/domains")
    assert [d["id"] for d in answer.json()["domains"]] == ["health"]
    page.context.close()
