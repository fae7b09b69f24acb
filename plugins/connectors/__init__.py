"""Connectors: external systems as agent tools, configured per domain.

`http`: any JSON API, one tool per declared endpoint (auth none, bearer, basic or
API key; timeouts; retries with backoff; a response mapping). `odoo`: an Odoo ERP
over JSON-RPC, with product lookup, order status and booking tools. An agent gets
a tool when its crew YAML lists the tool's name, or when the connector names it
under `agents` (`crew.agent`). Connections are per domain, built from that
domain's settings only; when a URL or secret variable is unset the tools are
left out, with a warning when the domain is prepared.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel

from hub.plugins import hookimpl
from plugins.connectors.settings import ConnectorSettings

if TYPE_CHECKING:
    from crewai.tools import BaseTool

    from hub.domains.domain import Domain
    from hub.turn import TurnContext

__all__ = ["ConnectorSettings"]

log = structlog.get_logger(__name__)


class Connections:
    """One domain version's clients (HTTP endpoints, the Odoo login), built on first use.

    The client modules (and CrewAI with them) are imported here, in the worker,
    never where domains are only validated (the receiver, the CLI).
    """

    def __init__(self, settings: ConnectorSettings) -> None:
        from plugins.connectors.http import HttpEndpoint
        from plugins.connectors.odoo import OdooClient

        self.http = {
            endpoint.name: HttpEndpoint(endpoint)
            for endpoint in settings.http
            if not endpoint.missing_env()
        }
        self.odoo = (
            OdooClient(settings.odoo) if settings.odoo and not settings.odoo.missing_env() else None
        )


_connections: dict[tuple[str, str, tuple[str | None, ...]], Connections] = {}
_lock = threading.Lock()


def _environment(settings: ConnectorSettings) -> tuple[str | None, ...]:
    """The values of every variable the settings name (a change means new connections)."""
    names: list[str | None] = []
    for endpoint in settings.http:
        auth = endpoint.auth
        names += [
            endpoint.base_url_env,
            auth.token_env,
            auth.username_env,
            auth.password_env,
            auth.key_env,
        ]
    if settings.odoo:
        names += [settings.odoo.url_env, settings.odoo.username_env, settings.odoo.password_env]
    return tuple(os.environ.get(name) if name else None for name in names)


def connections(domain: Domain, settings: ConnectorSettings) -> Connections:
    """The domain's connections; a new version of the domain or of its variables gets new ones."""
    key = (domain.id, domain.fingerprint, _environment(settings))
    found = _connections.get(key)
    if found is None:
        with _lock:
            found = _connections.get(key)
            if found is None:
                for stale in [k for k in _connections if k[0] == domain.id]:
                    del _connections[stale]
                found = _connections[key] = Connections(settings)
    return found


@hookimpl
def settings_model() -> type[BaseModel]:
    return ConnectorSettings


@hookimpl
def declared_tools(config: ConnectorSettings) -> dict[str, str]:
    tools = {endpoint.name: endpoint.description for endpoint in config.http}
    if config.odoo:
        tools.update({name: "Odoo ERP" for name in config.odoo.tool_names()})
    return tools


@hookimpl
def domain_ready(domain: Domain, config: ConnectorSettings) -> None:
    """Warn, once per domain version, about tools left out for want of a variable."""
    for endpoint in config.http:
        if missing := endpoint.missing_env():
            log.warning(
                "connector tool absent: environment variables unset",
                domain=domain.id,
                tool=endpoint.name,
                missing=missing,
            )
    if config.odoo and (missing := config.odoo.missing_env()):
        log.warning(
            "odoo tools absent: environment variables unset",
            domain=domain.id,
            tools=config.odoo.tool_names(),
            missing=missing,
        )


@hookimpl
def agent_tools(
    domain: Domain,
    config: ConnectorSettings,
    crew: str,
    agent: str,
    listed: Sequence[str],
    context: TurnContext,
) -> list[BaseTool]:
    """The connector tools this agent lists or is granted, bound to this domain."""
    from plugins.connectors.http import endpoint_tool
    from plugins.connectors.odoo import odoo_tools

    here = f"{crew}.{agent}"
    live = connections(domain, config)
    tools: list[BaseTool] = [
        endpoint_tool(live.http[endpoint.name], context)
        for endpoint in config.http
        if endpoint.name in live.http and (endpoint.name in listed or here in endpoint.agents)
    ]
    if config.odoo and live.odoo is not None:
        granted = here in config.odoo.agents
        wanted = {name for name in config.odoo.tool_names() if granted or name in listed}
        tools += odoo_tools(live.odoo, config.odoo, context, domain.spec.timezone, wanted)
    return tools
