"""Turning a merged domain document into a `Domain`, or into every error it has.

Pydantic checks shapes; this module turns its errors into `ConfigurationError`s
that name the file, line and key path (with "did you mean" for typos), then
checks what Pydantic cannot: references between parts of the document.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from hub.domains.content import ConversationTests, SeedData
from hub.domains.schema import CrewSpec, DomainSpec
from hub.domains.source import KeyPath, SourceDocument, format_key_path, read_yaml
from hub.domains.vocabulary import (
    HUB_CREW,
    HUB_ONLY_PLACEHOLDERS,
    PLACEHOLDERS,
    TOOLS,
    placeholders_in,
)
from hub.exceptions import ConfigurationError, DanglingReferenceError, PluginError, SchemaError

ModelT = typing.TypeVar("ModelT", bound=BaseModel)


class PluginCatalogue(Protocol):
    """What validation needs to know of the installed plugins (`hub.plugins.discovery`'s
    `Catalogue`): their names, settings models and declared tools. Passed in, so the
    domain format does not depend on the plugin machinery above it."""

    models: dict[str, type[BaseModel]]

    @property
    def names(self) -> list[str]: ...

    def validate(
        self,
        plugin: str,
        raw: Any,
        *,
        domain_id: str | None = None,
        domain_ids: Iterable[str] = (),
    ) -> BaseModel: ...

    def declared_tools(self, plugin: str, config: BaseModel) -> dict[str, str]: ...

    def unknown(self, name: str) -> str: ...


Plugins = typing.Callable[[], PluginCatalogue]
"""Gives the catalogue when first needed (raises PluginError when it cannot be built)."""


def validate_model(
    model: type[ModelT], document: SourceDocument, prefix: KeyPath = ()
) -> tuple[ModelT | None, list[ConfigurationError]]:
    """Validate `document.data` (found under `prefix` in the positions index)."""
    try:
        return model.model_validate(document.data), []
    except ValidationError as error:
        return None, [_translate(item, model, document, prefix) for item in error.errors()]


def _translate(
    item: Any, model: type[BaseModel], document: SourceDocument, prefix: KeyPath
) -> ConfigurationError:
    # Pydantic adds "[key]" to the location when a mapping key itself is invalid.
    loc: KeyPath = tuple(part for part in item["loc"] if part != "[key]")
    path = (*prefix, *loc)
    position = document.position_of(path)
    file = position.file if position else (document.files[0] if document.files else None)
    line = position.line if position else None
    key_path = format_key_path(path)
    kind = item["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        unknown = str(loc[-1])
        message = f"unknown key {unknown!r}"
        close = difflib.get_close_matches(unknown, allowed, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        expected = "one of: " + ", ".join(allowed) if allowed else None
        return SchemaError(message, file=file, line=line, key_path=key_path, expected=expected)
    if kind == "missing":
        return SchemaError(
            f"missing required key {loc[-1]!r}", file=file, line=line, key_path=key_path
        )
    message = str(item["msg"]).removeprefix("Value error, ")
    shown = item.get("input")
    if not isinstance(shown, dict | list) and shown is not None:
        message += f" (got {shown!r})"
    return SchemaError(message, file=file, line=line, key_path=key_path)


def _fields_at(model: type[BaseModel], loc: KeyPath) -> list[str]:
    """The keys the model accepts at `loc` (walking fields, dict values and list items)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) in (dict, list):
            annotation = typing.get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated so the walker sees the model or container inside."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else annotation
    return annotation


def check_references(
    spec: DomainSpec,
    document: SourceDocument,
    *,
    domain_ids: Iterable[str],
    plugins: Plugins,
    domain_id: str | None = None,
) -> list[ConfigurationError]:
    """What the schema cannot see: names that must point at something that exists."""
    problems: list[tuple[KeyPath, str, str | None]] = []
    routes = spec.routing.routes
    if spec.routing.default not in routes:
        problems.append(
            (("routing", "default"), f"no route named {spec.routing.default!r}", _one_of(routes))
        )
    for name, route in routes.items():
        if route.crew not in spec.crews:
            problems.append(
                (
                    ("routing", "routes", name, "crew"),
                    f"no crew named {route.crew!r}",
                    _one_of(spec.crews),
                )
            )
        elif route.crew == HUB_CREW:
            problems.append(
                (
                    ("routing", "routes", name, "crew"),
                    "a route cannot lead back to the hub crew",
                    "a specialist crew",
                )
            )
    if HUB_CREW not in spec.crews:
        problems.append((("crews",), f"the {HUB_CREW!r} crew is missing", "crews/hub.yaml"))
    known = set(domain_ids)
    tools = known_tools(spec, plugins, domain_id=domain_id, domain_ids=known)
    for crew_name, crew in spec.crews.items():
        problems.extend(_crew_problems(crew_name, crew, tools))
    for label, target in spec.switching.labels.items():
        if target not in known:
            problems.append(
                (("switching", "labels", label), f"no domain named {target!r}", _one_of(known))
            )
    if spec.chatwoot.inbox_ids and spec.chatwoot.account_id is None:
        problems.append(
            (
                ("chatwoot", "account_id"),
                "inbox_ids are given but account_id is missing",
                "the Chatwoot account id of these inboxes",
            )
        )
    return [_reference_error(document, *problem) for problem in problems] + check_plugins(
        spec, document, plugins, domain_id=domain_id, domain_ids=known
    )


def check_plugins(
    spec: DomainSpec,
    document: SourceDocument,
    plugins: Plugins,
    *,
    domain_id: str | None = None,
    domain_ids: Iterable[str] = (),
) -> list[ConfigurationError]:
    """Each enabled plugin exists and its settings pass the plugin's own Pydantic model.

    Errors point at the file and line of the offending key, as
    `plugins.<name>.<key>`; an unknown plugin name gets a "did you mean".
    """
    if not spec.plugins:
        return []
    try:
        catalogue = plugins()
    except PluginError as error:
        return [_reference_error(document, ("plugins",), str(error), None)]
    errors: list[ConfigurationError] = []
    for name, raw in spec.plugins.items():
        prefix: KeyPath = ("plugins", name)
        if name not in catalogue.names:
            errors.append(
                _reference_error(
                    document, prefix, catalogue.unknown(name), _one_of(catalogue.names)
                )
            )
            continue
        model = catalogue.models[name]
        try:
            config = catalogue.validate(name, raw, domain_id=domain_id, domain_ids=domain_ids)
        except ValidationError as error:
            errors.extend(_translate(item, model, document, prefix) for item in error.errors())
            continue
        for tool in catalogue.declared_tools(name, config):
            if tool in TOOLS:
                errors.append(
                    _reference_error(
                        document,
                        prefix,
                        f"plugin {name!r} declares the tool {tool!r}, a built-in tool's name",
                        "another tool name",
                    )
                )
    return errors


def known_tools(
    spec: DomainSpec,
    plugins: Plugins,
    *,
    domain_id: str | None = None,
    domain_ids: Iterable[str] = (),
) -> dict[str, str]:
    """The built-in tools plus those the domain's plugins declare (valid settings only)."""
    tools = dict(TOOLS)
    if not spec.plugins:
        return tools
    try:
        catalogue = plugins()
    except PluginError:
        return tools
    for name, raw in spec.plugins.items():
        if name in catalogue.names:
            try:
                config = catalogue.validate(name, raw, domain_id=domain_id, domain_ids=domain_ids)
            except ValidationError:
                continue
            for tool, description in catalogue.declared_tools(name, config).items():
                tools.setdefault(tool, description)
    return tools


def _crew_problems(
    crew_name: str, crew: CrewSpec, tools: dict[str, str]
) -> Iterator[tuple[KeyPath, str, str | None]]:
    base: KeyPath = ("crews", crew_name)
    allowed = set(PLACEHOLDERS)
    if crew_name != HUB_CREW:
        allowed -= HUB_ONLY_PLACEHOLDERS
    carries_message = False
    for agent_name, agent in crew.agents.items():
        for index, tool in enumerate(agent.tools):
            if tool not in tools:
                yield (
                    (*base, "agents", agent_name, "tools", index),
                    _unknown_tool(tool, tools),
                    _one_of(tools),
                )
        for key in ("role", "goal", "backstory"):
            yield from _placeholder_problems(
                getattr(agent, key), (*base, "agents", agent_name, key), allowed
            )
    seen_tasks: list[str] = []
    for task_name, task in crew.tasks.items():
        path = (*base, "tasks", task_name)
        if task.agent not in crew.agents:
            yield (
                (*path, "agent"),
                f"no agent named {task.agent!r} in this crew",
                _one_of(crew.agents),
            )
        for index, tool in enumerate(task.tools):
            if tool not in tools:
                yield (*path, "tools", index), _unknown_tool(tool, tools), _one_of(tools)
        for index, name in enumerate(task.context):
            if name not in seen_tasks:
                yield (
                    (*path, "context", index),
                    f"context names {name!r}, which is not an earlier task of this crew",
                    _one_of(seen_tasks),
                )
        for key in ("description", "expected_output"):
            yield from _placeholder_problems(getattr(task, key), (*path, key), allowed)
        carries_message = carries_message or "message" in set(placeholders_in(task.description))
        seen_tasks.append(task_name)
    if not carries_message:
        yield (
            (*base, "tasks"),
            "no task of this crew carries the customer's {message}",
            "{message} in at least one task description",
        )


def _placeholder_problems(
    text: str, path: KeyPath, allowed: set[str]
) -> Iterator[tuple[KeyPath, str, str | None]]:
    for name in placeholders_in(text):
        if name not in allowed:
            yield path, f"unknown placeholder {{{name}}}", _one_of(sorted(allowed))


def _unknown_tool(tool: str, tools: dict[str, str]) -> str:
    message = f"unknown tool {tool!r}"
    close = difflib.get_close_matches(tool, list(tools), n=1)
    return message + (f"; did you mean {close[0]!r}?" if close else "")


def _one_of(names: Iterable[str]) -> str:
    listed = ", ".join(sorted(names))
    return f"one of: {listed}" if listed else "nothing is defined yet"


def validate_content(
    files: Iterable[Path], model: type[ModelT]
) -> tuple[dict[Path, tuple[ModelT, SourceDocument]], list[ConfigurationError]]:
    """Validate `data/*.yaml` or `tests/*.yaml` files, each on its own."""
    parsed: dict[Path, tuple[ModelT, SourceDocument]] = {}
    errors: list[ConfigurationError] = []
    for path in files:
        try:
            document = read_yaml(path)
        except ConfigurationError as error:
            errors.append(error)
            continue
        value, problems = validate_model(model, document)
        errors.extend(problems)
        if value is not None:
            parsed[path] = (value, document)
    return parsed, errors


def check_tests(
    tests: dict[Path, tuple[ConversationTests, SourceDocument]], spec: DomainSpec, plugins: Plugins
) -> list[ConfigurationError]:
    """Conversation tests may only expect routes and tools the domain has."""
    errors: list[ConfigurationError] = []
    tools = known_tools(spec, plugins)
    for content, document in tests.values():
        for s, story in enumerate(content.stories):
            for t, step in enumerate(story.steps):
                at: KeyPath = ("stories", s, "steps", t, "expect")
                route = step.expect.route
                if route is not None and route not in spec.routing.routes:
                    errors.append(
                        _reference_error(
                            document,
                            (*at, "route"),
                            f"no route named {route!r}",
                            _one_of(spec.routing.routes),
                        )
                    )
                for i, tool in enumerate(step.expect.tools):
                    if tool not in tools:
                        errors.append(
                            _reference_error(
                                document,
                                (*at, "tools", i),
                                _unknown_tool(tool, tools),
                                _one_of(tools),
                            )
                        )
    return errors


def _reference_error(
    document: SourceDocument, path: KeyPath, message: str, expected: str | None
) -> DanglingReferenceError:
    position = document.position_of(path)
    return DanglingReferenceError(
        message,
        file=position.file if position else None,
        line=position.line if position else None,
        key_path=format_key_path(path),
        expected=expected,
    )


__all__ = [
    "ConversationTests",
    "PluginCatalogue",
    "Plugins",
    "SeedData",
    "check_plugins",
    "check_references",
    "check_tests",
    "known_tools",
    "validate_content",
    "validate_model",
]
