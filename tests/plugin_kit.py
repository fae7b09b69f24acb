"""Test plugins and helpers shared by the plugin tests (unit, integration, e2e)."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import pytest

from hub.domains.domain import Domain
from hub.plugins import PluginSettings, Signals, Verdict, discovery, hookimpl
from hub.plugins.discovery import Catalogue, discover


def enabling(domain: Domain, plugins: dict[str, Any]) -> Domain:
    """The same domain with another `plugins:` mapping (and its own fingerprint)."""
    spec = domain.spec.model_copy(update={"plugins": plugins})
    return dataclasses.replace(domain, spec=spec, fingerprint=f"{domain.fingerprint}+{plugins}")


class Recorder:
    """A well-behaved plugin that answers every hook and remembers what it saw."""

    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def _saw(self, hook: str, domain: Domain, **arguments: Any) -> None:
        with self._lock:
            self.calls.append((hook, domain.id, arguments))

    def hooks(self) -> list[str]:
        return [hook for hook, _, _ in self.calls]

    @hookimpl
    def settings_model(self) -> type[PluginSettings]:
        return RecorderSettings

    @hookimpl
    def declared_tools(self, config: RecorderSettings) -> dict[str, str]:
        return {config.tool: "a recorder tool"} if config.tool else {}

    @hookimpl
    def domain_ready(self, domain: Domain, config: RecorderSettings) -> None:
        self._saw("domain_ready", domain, tag=config.tag)

    @hookimpl
    def message_received(self, domain: Domain, config: RecorderSettings, text: str) -> Signals:
        self._saw("message_received", domain, text=text, tag=config.tag)
        return Signals(labels=(config.tag,), attributes={"seen_by": self.name})

    @hookimpl
    def before_crew(self, domain: Domain, config: RecorderSettings, turn: Any) -> Verdict:
        self._saw("before_crew", domain, message=turn.message, tag=config.tag)
        return Verdict(context=f"nota de {config.tag}", reply=config.answer)

    @hookimpl
    def agent_tools(self, domain: Domain, crew: str, agent: str) -> list[Any]:
        self._saw("agent_tools", domain, crew=crew, agent=agent)
        return []

    @hookimpl
    def after_crew(self, domain: Domain, config: RecorderSettings, reply: str) -> str:
        self._saw("after_crew", domain, reply=reply)
        return f"{reply} [{config.tag}]"

    @hookimpl
    def reply_parts(self, domain: Domain, text: str, channel: str | None) -> list[str] | None:
        self._saw("reply_parts", domain, channel=channel)
        return text.split("\n") if "\n" in text else None

    @hookimpl
    def handed_off(self, domain: Domain, conversation_id: int, reason: str) -> None:
        self._saw("handed_off", domain, conversation_id=conversation_id, reason=reason)

    @hookimpl
    def domain_changed(self, domain: Domain, previous: str, current: str, by: str) -> None:
        self._saw("domain_changed", domain, previous=previous, current=current, by=by)


class RecorderSettings(PluginSettings):
    tag: str = "r"
    answer: str | None = None
    tool: str | None = None


class Broken:
    """A plugin that raises in some hooks and sleeps past its budget in the others."""

    def __init__(self, sleep_seconds: float = 1.0) -> None:
        self.sleep_seconds = sleep_seconds

    @hookimpl
    def message_received(self, text: str) -> Signals:
        time.sleep(self.sleep_seconds)
        return Signals(urgent=True)

    @hookimpl
    def before_crew(self) -> Verdict:
        raise RuntimeError("broken before_crew")

    @hookimpl
    def agent_tools(self) -> list[Any]:
        raise RuntimeError("broken agent_tools")

    @hookimpl
    def after_crew(self, reply: str) -> str:
        time.sleep(self.sleep_seconds)
        return "this reply came too late"

    @hookimpl
    def reply_parts(self) -> list[str]:
        raise ValueError("broken reply_parts")


def install(monkeypatch: pytest.MonkeyPatch, *plugins: tuple[str, object]) -> Catalogue:
    """Make `plugins` installed for this test (validation and hosts see them)."""
    catalogue = Catalogue(discover(plugins))
    monkeypatch.setattr(discovery, "_installed", catalogue)
    return catalogue
