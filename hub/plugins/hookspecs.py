"""Every hook a plugin may implement: the whole plugin API, one signature each.

A plugin implements any subset, and each implementation may take any subset of
the arguments (pluggy passes them by name). Every per-domain hook receives the
`domain` it runs for and `config`, the plugin's own settings for that domain
(validated by the model of `settings_model`): a plugin never sees another
domain's configuration or data. The host (`manager.PluginHost`) calls each
enabled plugin on its own, in the domain's `plugins:` order, inside a time
budget; a plugin that raises or overruns is logged and skipped, never the turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel

from hub.plugins import hookspec
from hub.plugins.signals import Signals, Verdict

if TYPE_CHECKING:
    from crewai.tools import BaseTool

    from hub.domains.domain import Domain
    from hub.turn import Turn, TurnContext


@hookspec(firstresult=True)
def settings_model() -> type[BaseModel] | None:
    """The Pydantic model of this plugin's settings (`plugins.<name>` in domain.yaml).

    Called once, when plugins are discovered. Subclass `hub.plugins.PluginSettings`
    (unknown keys are errors, time budgets included). None: no settings of its own.
    """


@hookspec(firstresult=True)
def declared_tools(config: BaseModel) -> Mapping[str, str] | None:
    """Tool name → description of the tools these settings provide.

    Called while a domain is validated: agents may list these names under `tools`
    (and conversation tests expect them) like the built-in tools. No I/O here.
    """


@hookspec
def domain_ready(domain: Domain, config: BaseModel) -> None:
    """A worker prepared this domain version (at start, and after its files changed).

    The place to check what settings cannot (an unset environment variable) and
    warn once. Returns nothing.
    """


@hookspec
def message_received(
    domain: Domain, config: BaseModel, text: str, channel: str | None, contact_name: str | None
) -> Signals | None:
    """A customer message arrived at the receiver, before it is queued.

    Must be cheap (budget `received_timeout_seconds`, 50 ms by default): flag it
    as urgent, ask for a human, label it. Aggregated over plugins (`Signals.merged`).
    """


@hookspec
def before_crew(domain: Domain, config: BaseModel, turn: Turn) -> Verdict | None:
    """A worker is about to run the domain's HubCrew on this turn.

    May add context to the crew's prompt, raise the priority, or answer without
    the crew (a reply, or a handoff). Aggregated over plugins (`Verdicts`): the
    first plugin whose verdict answers decides; contexts add up.
    """


@hookspec
def agent_tools(
    domain: Domain,
    config: BaseModel,
    crew: str,
    agent: str,
    listed: Sequence[str],
    context: TurnContext,
) -> Sequence[BaseTool] | None:
    """CrewAI tools for one agent of a crew being built (per turn, and once at start).

    `listed` is the agent's `tools:` from the YAML; `context` is the turn's (tools
    record their calls on it). Return fresh tools bound to `domain`. Results add up.
    """


@hookspec
def after_crew(domain: Domain, config: BaseModel, turn: Turn, reply: str, route: str) -> str | None:
    """The crew answered; return a new reply, or None to keep it.

    Chained: each plugin gets the reply as the previous one left it. Never change
    the facts (prices, times, numbers) the crew's reply carries.
    """


@hookspec(firstresult=True)
def reply_parts(
    domain: Domain, config: BaseModel, text: str, channel: str | None
) -> list[str] | None:
    """How a final reply is split into the messages posted (channel length limits).

    First result wins; the parts must hold the reply's text unchanged (the host
    checks, ignoring whitespace, and posts the reply whole if they do not).
    """


@hookspec(firstresult=True)
def transcribe_audio(
    domain: Domain, config: BaseModel, url: str, extension: str | None
) -> str | None:
    """A customer's voice note (fetched from `url`, Chatwoot's `data_url`) as text.

    Called by a worker for an audio nobody transcribed, before its turn; first
    non-empty result wins. None: this plugin cannot (the text is never made up).
    """


@hookspec
def handed_off(
    domain: Domain, config: BaseModel, account_id: int, conversation_id: int, reason: str
) -> None:
    """The conversation went to a human, for `reason`. A notification; returns nothing."""


@hookspec
def domain_changed(
    domain: Domain,
    config: BaseModel,
    account_id: int,
    conversation_id: int,
    previous: str,
    current: str,
    by: str,
) -> None:
    """The conversation moved from domain `previous` to `current`, switched by `by`.

    Called for plugins enabled in either domain, with `domain` the one where the
    plugin is enabled (the new one if both): ids only cross over, never data.
    """
