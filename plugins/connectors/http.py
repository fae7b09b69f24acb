"""The generic HTTP connector: each declared endpoint is an agent tool.

The agent fills the endpoint's `params`; `{param}` placeholders of the path are
filled (URL-quoted), the rest goes to the query string (GET, DELETE) or a JSON
body; the JSON answer is mapped to text by the endpoint's `response` (paths →
fields → template). Failures come back as text the agent can relay, never as
exceptions, and the URL and secrets come from environment variables only. The
shape of the answer is the domain's, so the turn's context records it as an
untyped result: its text only.
"""

from __future__ import annotations

import base64
import os
import re
import string
from typing import Any
from urllib.parse import quote, unquote

import httpx
from crewai.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, create_model

from hub.exceptions import ExternalArgumentError, ExternalSystemError
from hub.turn import ToolResult, TurnContext
from plugins.connectors.settings import Auth, Endpoint, Mapping
from plugins.connectors.transport import json_of, send, shared_client

_STEP = re.compile(r"[^.\[\]]+|\[(\d+)\]")


def lookup(data: Any, path: str) -> Any:
    """`data.items[0].name` (or `items.0.name`) in parsed JSON; None when absent."""
    for match in _STEP.finditer(path):
        key = match.group(1) if match.group(1) is not None else match.group(0)
        if isinstance(data, list) and key.isdigit():
            index = int(key)
            data = data[index] if index < len(data) else None
        elif isinstance(data, dict):
            data = data.get(key)
        else:
            return None
        if data is None:
            return None
    return data


def render(mapping: Mapping, data: Any) -> str:
    """The agent-facing text of a JSON answer."""
    items = lookup(data, mapping.many) if mapping.many else [data]
    if not isinstance(items, list) or not items:
        return mapping.empty
    lines = []
    for item in items:
        values = {name: lookup(item, path) for name, path in mapping.fields.items()}
        if all(value is None for value in values.values()):
            continue
        lines.append(
            mapping.template.format(**{k: "" if v is None else v for k, v in values.items()})
        )
    return "\n".join(lines) or mapping.empty


class HttpEndpoint:
    """One endpoint of one domain, ready to call."""

    def __init__(self, endpoint: Endpoint, client: httpx.Client | None = None) -> None:
        self.endpoint = endpoint
        self.client = client or shared_client()

    def call(self, arguments: dict[str, Any]) -> Any:
        """The parsed JSON answer (raises ExternalSystemError when the API fails)."""
        spec = self.endpoint
        base = os.environ.get(spec.base_url_env, "").rstrip("/")
        if not base:
            raise ExternalSystemError(f"{spec.name}: {spec.base_url_env} is not set")
        in_path = {name for _, name, _, _ in string.Formatter().parse(spec.path) if name}
        given = {k: str(v) for k, v in arguments.items() if v is not None and k in spec.params}
        for name in in_path:
            _refuse_dot_segments(name, given.get(name, ""))
        path = spec.path.format(**{name: quote(given.get(name, ""), safe="") for name in in_path})
        rest = {k: v for k, v in given.items() if k not in in_path}
        headers, query = _auth(spec.auth)
        query = {**spec.query, **query}
        request: dict[str, Any] = {"headers": headers}
        if spec.method in ("GET", "DELETE"):
            request["params"] = {**query, **rest}
        else:
            request["params"] = query
            request["json"] = rest
        response = send(
            self.client,
            spec.method,
            base + path,
            timeout=spec.timeout_seconds,
            max_bytes=spec.max_response_bytes,
            retries=spec.retries,
            backoff_seconds=spec.backoff_seconds,
            what=spec.name,
            **request,
        )
        return json_of(response, spec.name) if response.content else {}

    def answer(self, arguments: dict[str, Any], context: TurnContext | None = None) -> str:
        """The text the agent reads: the mapped answer, or what went wrong (recorded in
        the turn's `context`: the turn then hands off, since the data is missing)."""
        try:
            return render(self.endpoint.response, self.call(arguments))
        except ExternalArgumentError as error:  # the customer's input: no handoff
            return f"Não consegui consultar o sistema com esse valor ({error})."
        except ExternalSystemError as error:
            if context is not None:
                context.failed(self.endpoint.name, error)
            return f"Não consegui consultar o sistema agora ({error})."


def _refuse_dot_segments(name: str, value: str) -> None:
    """A path parameter is one segment of the endpoint's path: "." or ".." (alone or
    between slashes, which some servers decode from %2F) would climb out of it."""
    segments = re.split(r"[/\\]", f"{value}/{unquote(value)}")
    if any(segment.strip() in (".", "..") for segment in segments):
        raise ExternalArgumentError(f"{name}: {value!r} is not a valid value")


def _auth(auth: Auth) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters carrying the credentials, read from the environment."""
    env = os.environ.get
    if auth.type == "bearer":
        return {"Authorization": f"Bearer {env(auth.token_env or '', '')}"}, {}
    if auth.type == "basic":
        pair = f"{env(auth.username_env or '', '')}:{env(auth.password_env or '', '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}, {}
    if auth.type == "api_key":
        key = env(auth.key_env or "", "")
        return ({}, {auth.query_param: key}) if auth.query_param else ({auth.header: key}, {})
    return {}, {}


def args_model(endpoint: Endpoint) -> type[BaseModel]:
    """The tool's argument schema: one string per declared param."""
    fields: dict[str, Any] = {
        name: (str, Field(description=param.description))
        if param.required
        else (str | None, Field(default=None, description=param.description))
        for name, param in endpoint.params.items()
    }
    return create_model(f"{endpoint.name}_arguments", **fields)


class EndpointTool(BaseTool):
    """A declared HTTP endpoint as a CrewAI tool, bound to one domain's turn."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    connection: HttpEndpoint
    context: TurnContext

    def _run(self, **arguments: Any) -> str:
        self.context.tool_calls.append(self.name)
        text = self.connection.answer(arguments, self.context)
        self.context.returned(ToolResult(self.name, None, text))
        return text


def endpoint_tool(connection: HttpEndpoint, context: TurnContext) -> EndpointTool:
    spec = connection.endpoint
    return EndpointTool(
        name=spec.name,
        description=spec.description,
        args_schema=args_model(spec),
        connection=connection,
        context=context,
    )
