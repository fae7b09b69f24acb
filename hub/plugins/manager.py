"""PluginHost: the one door between the pipeline and the plugins of a process.

The receiver holds one (for `received`), every worker holds one on its
CrewFactory (`CrewFactory.plugins`). For each call the host takes the domain,
finds the plugins that domain enables (its `plugins:` mapping, in order, those
the allow-list `CHATWOOTAI_PLUGINS` lets run), gives each its own settings for
that domain, and calls each plugin's implementation separately through the
`Guard`, so one plugin's exception or slowness only costs that plugin's answer.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel, ValidationError

from hub.exceptions import PluginError
from hub.plugins.discovery import Catalogue, discover, installed
from hub.plugins.isolation import Guard
from hub.plugins.settings import RECEIVED_TIMEOUT_SECONDS, TIMEOUT_SECONDS
from hub.plugins.signals import Signals, Verdict, Verdicts
from hub.settings import Settings

if TYPE_CHECKING:
    from crewai.tools import BaseTool

    from hub.domains.domain import Domain
    from hub.turn import Turn, TurnContext

log = structlog.get_logger(__name__)

_SPACE = re.compile(r"\s+")


def parse_allow_list(value: str | None) -> frozenset[str] | None:
    """`"sentiment, connectors"` → the names; unset or blank → None (every plugin)."""
    if value is None or not value.strip():
        return None
    return frozenset(name.strip() for name in value.split(",") if name.strip())


class PluginHost:
    """Calls the plugins a domain enables, each on its own and within its budget."""

    def __init__(self, catalogue: Catalogue, *, allowed: Iterable[str] | None = None) -> None:
        self.catalogue = catalogue
        names = catalogue.names
        if allowed is None:
            self.active = frozenset(names)
        else:
            allowed = frozenset(allowed)
            for name in sorted(allowed - set(names)):
                raise PluginError(f"CHATWOOTAI_PLUGINS: {catalogue.unknown(name)}")
            self.active = allowed
        self.guard = Guard()
        self._configs: dict[tuple[str, str, str], BaseModel] = {}
        self._lock = threading.Lock()
        self._warned: set[tuple[str, str]] = set()
        log.info("plugins ready", installed=sorted(names), active=sorted(self.active))

    @classmethod
    def from_settings(cls, settings: Settings) -> PluginHost:
        """Every installed plugin (built-ins, entry points) the allow-list lets run."""
        return cls(installed(), allowed=parse_allow_list(settings.plugins))

    @classmethod
    def with_plugins(cls, *plugins: tuple[str, object], builtins: bool = True) -> PluginHost:
        """A host over the given (name, plugin) pairs, plus the installed ones if `builtins`."""
        found = discover(plugins) if builtins else dict(plugins)
        return cls(Catalogue(found))

    # Which plugins, with which settings -------------------------------------

    def enabled(self, domain: Domain) -> list[tuple[str, BaseModel]]:
        """(name, settings) of each plugin the domain enables and the allow-list lets run."""
        found = []
        for name, raw in domain.spec.plugins.items():
            if name not in self.active:
                self._warn_once(domain, name)
                continue
            config = self.config(domain, name, raw)
            if config is not None:
                found.append((name, config))
        return found

    def config(self, domain: Domain, name: str, raw: Any) -> BaseModel | None:
        """The plugin's validated settings for this domain version (validated once)."""
        key = (domain.id, domain.fingerprint, name)
        config = self._configs.get(key)
        if config is None:
            try:
                config = self.catalogue.validate(name, raw, domain_id=domain.id)
            except ValidationError as error:  # validated with the domain already; belt and braces
                log.error(
                    "plugin settings invalid; plugin skipped",
                    domain=domain.id,
                    plugin=name,
                    error=str(error)[:300],
                )
                return None
            with self._lock:
                self._configs[key] = config
        return config

    def declared_tools(self, domain: Domain) -> dict[str, str]:
        """Every tool name the domain's enabled plugins provide."""
        tools: dict[str, str] = {}
        for name, config in self.enabled(domain):
            tools.update(self.catalogue.declared_tools(name, config))
        return tools

    # The hooks, as the pipeline calls them ----------------------------------

    def received(
        self, domain: Domain, text: str, *, channel: str | None, contact_name: str | None
    ) -> Signals:
        """Every enabled plugin's signals about an arriving message, merged (`Signals.merged`)."""
        signals = Signals()
        for name, value in self._each(
            domain,
            "message_received",
            {"text": text, "channel": channel, "contact_name": contact_name},
            received=True,
        ):
            if isinstance(value, Signals):
                signals = signals.merged(value)
            else:
                self._wrong_type(domain, name, "message_received", value, "Signals")
        return signals

    def domain_ready(self, domain: Domain) -> None:
        """Tell the domain's plugins a worker prepared this domain version."""
        for _ in self._each(domain, "domain_ready", {}):
            pass

    def before_crew(self, domain: Domain, turn: Turn) -> Verdicts:
        """Every enabled plugin's verdict on the turn, merged (`Verdicts`)."""
        verdicts = Verdicts()
        for name, value in self._each(domain, "before_crew", {"turn": turn}):
            if isinstance(value, Verdict):
                verdicts = verdicts.add(name, value)
            else:
                self._wrong_type(domain, name, "before_crew", value, "Verdict")
        return verdicts

    def agent_tools(
        self,
        domain: Domain,
        *,
        crew: str,
        agent: str,
        listed: Sequence[str],
        context: TurnContext,
    ) -> list[BaseTool]:
        """The tools the domain's plugins give this agent for this turn."""
        from crewai.tools import BaseTool

        tools: list[BaseTool] = []
        arguments = {"crew": crew, "agent": agent, "listed": tuple(listed), "context": context}
        for name, value in self._each(domain, "agent_tools", arguments):
            if isinstance(value, list | tuple) and all(isinstance(t, BaseTool) for t in value):
                tools.extend(value)
            else:
                self._wrong_type(domain, name, "agent_tools", value, "a list of CrewAI tools")
        return tools

    def after_crew(self, domain: Domain, turn: Turn, reply: str, *, route: str) -> str:
        """The crew's reply after every enabled plugin had its say, in order."""
        for name, config in self.enabled(domain):
            arguments = {"turn": turn, "reply": reply, "route": route}
            for value in self._call(domain, name, config, "after_crew", arguments):
                if isinstance(value, str) and value.strip():
                    reply = value
                else:
                    self._wrong_type(domain, name, "after_crew", value, "a non-empty str")
        return reply

    def reply_parts(self, domain: Domain, text: str, *, channel: str | None) -> list[str]:
        """The messages to post for one reply: the first plugin's split, else `[text]`.

        A split that changes the text (beyond whitespace between parts) is refused
        and logged: plugins may cut a reply, never edit it.
        """
        for name, value in self._each(domain, "reply_parts", {"text": text, "channel": channel}):
            parts = [part for part in value if part.strip()] if isinstance(value, list) else None
            if not parts or not all(isinstance(part, str) for part in parts):
                self._wrong_type(domain, name, "reply_parts", value, "a list of str")
                continue
            if _SPACE.sub("", "".join(parts)) != _SPACE.sub("", text):
                log.error(
                    "plugin split changed the reply; posted whole", domain=domain.id, plugin=name
                )
                continue
            return parts
        return [text]

    def transcribes(self, domain: Domain) -> bool:
        """Whether one of the domain's plugins transcribes voice notes (`transcribe_audio`)."""
        enabled = self.enabled(domain)
        return any(self.catalogue.impls("transcribe_audio", name) for name, _ in enabled)

    def transcribe(self, domain: Domain, *, url: str, extension: str | None) -> str | None:
        """A voice note's text from the first plugin that heard it; None when none did."""
        arguments = {"url": url, "extension": extension}
        for name, value in self._each(domain, "transcribe_audio", arguments):
            if isinstance(value, str) and value.strip():
                return value.strip()
            self._wrong_type(domain, name, "transcribe_audio", value, "a non-empty str")
        return None

    def handed_off(
        self, domain: Domain, *, account_id: int, conversation_id: int, reason: str
    ) -> None:
        """Tell the domain's plugins the conversation went to a human."""
        arguments = {"account_id": account_id, "conversation_id": conversation_id, "reason": reason}
        for _ in self._each(domain, "handed_off", arguments):
            pass

    def domain_changed(
        self, old: Domain, new: Domain, *, account_id: int, conversation_id: int, by: str
    ) -> None:
        """Tell the plugins of both domains the conversation moved (each its own domain)."""
        arguments = {
            "account_id": account_id,
            "conversation_id": conversation_id,
            "previous": old.id,
            "current": new.id,
            "by": by,
        }
        for _ in self._each(new, "domain_changed", arguments):
            pass
        new_names = {name for name, _ in self.enabled(new)}
        for name, config in self.enabled(old):
            if name not in new_names:
                for _ in self._call(old, name, config, "domain_changed", arguments):
                    pass

    # The guarded calls ----------------------------------------------------------

    def _each(
        self, domain: Domain, hook: str, arguments: dict[str, Any], *, received: bool = False
    ) -> Iterable[tuple[str, Any]]:
        """(plugin, answer) for every enabled plugin that answered (not None) in time."""
        for name, config in self.enabled(domain):
            for value in self._call(domain, name, config, hook, arguments, received=received):
                yield name, value

    def _call(
        self,
        domain: Domain,
        name: str,
        config: BaseModel,
        hook: str,
        arguments: dict[str, Any],
        *,
        received: bool = False,
    ) -> list[Any]:
        budget = (
            getattr(config, "received_timeout_seconds", RECEIVED_TIMEOUT_SECONDS)
            if received
            else getattr(config, "timeout_seconds", TIMEOUT_SECONDS)
        )
        given = {**arguments, "domain": domain, "config": config}
        answers = []
        for impl in self.catalogue.impls(hook, name):
            outcome = self.guard.call(
                impl.function,
                {arg: given[arg] for arg in impl.argnames},
                budget=budget,
                domain=domain.id,
                plugin=name,
                hook=hook,
            )
            if outcome.ok and outcome.value is not None:
                answers.append(outcome.value)
        return answers

    def _wrong_type(self, domain: Domain, plugin: str, hook: str, value: Any, wanted: str) -> None:
        log.error(
            "plugin answered the wrong type; ignored",
            domain=domain.id,
            plugin=plugin,
            hook=hook,
            got=type(value).__name__,
            expected=wanted,
        )

    def _warn_once(self, domain: Domain, name: str) -> None:
        key = (domain.id, name)
        if key not in self._warned:
            self._warned.add(key)
            log.warning(
                "plugin enabled by the domain but not allowed (CHATWOOTAI_PLUGINS); skipped",
                domain=domain.id,
                plugin=name,
            )

    def close(self) -> None:
        self.guard.close()
