"""A plugin that raises or overruns its budget is logged and skipped; the turn goes on."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
import structlog

from hub.crews.factory import CrewFactory
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.plugins import hookimpl
from hub.plugins.discovery import Catalogue
from hub.plugins.isolation import Guard
from hub.plugins.manager import PluginHost
from hub.settings import Settings
from hub.turn import Turn
from tests.conftest import SAMPLE_DOMAINS
from tests.domain_tree import DomainTree
from tests.plugin_kit import Broken, Recorder, enabling, install


@pytest.fixture
def shop(tree: DomainTree) -> Domain:
    return DomainRegistry(tree.minimal().root).get("shop")


def failures(logs: list[dict[str, object]]) -> set[tuple[object, object, object, object]]:
    return {
        (e["event"], e.get("domain"), e.get("plugin"), e.get("hook"))
        for e in logs
        if str(e["event"]).startswith("plugin")
    }


def test_a_raising_plugin_is_logged_with_domain_and_plugin_and_skipped(shop: Domain) -> None:
    host = PluginHost(Catalogue({"broken": Broken(), "recorder": Recorder()}))
    domain = enabling(shop, {"broken": None, "recorder": {"tag": "ok"}})
    with structlog.testing.capture_logs() as logs:
        verdicts = host.before_crew(domain, Turn(message="oi"))
        parts = host.reply_parts(domain, "um texto", channel=None)
    assert verdicts.context == ("nota de ok",)  # the healthy plugin still had its say
    assert parts == ["um texto"]
    assert ("plugin failed; skipped", "shop", "broken", "before_crew") in failures(logs)
    assert ("plugin failed; skipped", "shop", "broken", "reply_parts") in failures(logs)


def test_a_plugin_past_its_budget_is_skipped_in_time(shop: Domain) -> None:
    host = PluginHost(Catalogue({"broken": Broken(sleep_seconds=2.0)}))
    domain = enabling(shop, {"broken": {"timeout_seconds": 0.2, "received_timeout_seconds": 0.05}})
    started = time.perf_counter()
    with structlog.testing.capture_logs() as logs:
        signals = host.received(domain, "oi", channel=None, contact_name=None)
        reply = host.after_crew(domain, Turn(message="oi"), "Abrimos às 10:00.", route="support")
    assert time.perf_counter() - started < 1.0
    assert not signals.urgent
    assert reply == "Abrimos às 10:00."
    assert ("plugin timed out; skipped", "shop", "broken", "message_received") in failures(logs)
    assert ("plugin timed out; skipped", "shop", "broken", "after_crew") in failures(logs)


def test_a_plugin_stuck_in_earlier_calls_is_skipped_without_waiting() -> None:
    release = threading.Event()
    guard = Guard(threads=4, max_in_flight=2)
    for _ in range(2):
        outcome = guard.call(release.wait, {}, budget=0.01, domain="d", plugin="p", hook="h")
        assert outcome.failure == "timeout"
    started = time.perf_counter()
    assert guard.call(lambda: 1, {}, budget=5, domain="d", plugin="p", hook="h").failure == "busy"
    assert time.perf_counter() - started < 0.1
    assert guard.call(lambda: 1, {}, budget=5, domain="d", plugin="q", hook="h").value == 1
    release.set()
    time.sleep(0.05)
    assert guard.call(lambda: 2, {}, budget=5, domain="d", plugin="p", hook="h").value == 2


def test_a_broken_plugin_does_not_stop_the_crew_from_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, ("broken", Broken(sleep_seconds=1.0)))
    domains = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, domains)
    domain_file = domains / "retail" / "domain.yaml"
    domain_file.write_text(
        domain_file.read_text(encoding="utf-8") + "\n  broken:\n    timeout_seconds: 0.3\n",
        encoding="utf-8",
    )
    settings = Settings(domains_dir=domains, data_dir=tmp_path / "var")
    factory = CrewFactory(DomainRegistry(domains, reload_interval=0), settings)
    with structlog.testing.capture_logs() as logs:
        result = factory.hub("retail").run(Turn(message="Qual o horário de funcionamento?"))
    assert "10:00" in result.reply and "too late" not in result.reply
    hooks = {
        hook
        for _, domain, plugin, hook in failures(logs)
        if (domain, plugin) == ("retail", "broken")
    }
    assert hooks == {"before_crew", "agent_tools", "after_crew"}


def test_a_plugin_registered_under_another_domain_never_sees_this_one(shop: Domain) -> None:
    class Nosy:
        def __init__(self) -> None:
            self.seen: list[str] = []

        @hookimpl
        def before_crew(self, domain: Domain) -> None:
            self.seen.append(domain.id)

    nosy = Nosy()
    host = PluginHost(Catalogue({"nosy": nosy}))
    host.before_crew(enabling(shop, {}), Turn(message="oi"))
    assert nosy.seen == []
