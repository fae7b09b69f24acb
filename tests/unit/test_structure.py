"""The package structure drawn from the imports: no circle, and every arrow points down.

Every import counts: at module level, inside functions, and under TYPE_CHECKING,
since each is a dependency a reader (and a refactoring) has to follow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("hub", "workers", "plugins")

LAYERS: tuple[tuple[str, ...], ...] = (
    ("hub.language",),
    ("hub", "hub.defaults", "hub.exceptions", "hub.settings", "hub.logs", "hub.kvstore"),
    ("hub.turn", "hub.ownership", "hub.trace"),
    ("hub.knowledge",),
    ("hub.domains",),
    ("hub.plugins", "hub.patches"),
    ("hub.domains.registry", "hub.domains.manager", "plugins"),
    ("hub.store", "hub.chatwoot", "hub.queue", "hub.telemetry"),
    ("hub.conversation",),
    ("hub.offline",),
    ("hub.crews",),
    ("hub.web", "workers", "hub.console"),
    ("hub.cli", "hub.__main__"),
)
"""Lowest first. A module may import from its own layer (without a circle) and below."""


def modules() -> dict[str, Path]:
    """Module name → file, for every module of our packages (migrations left out)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts:
                continue
            name = ".".join(relative.with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Our modules that `name` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: set(imported(name, path, known)) for name, path in known.items()}


def layer(module: str) -> int:
    """The layer of the longest prefix that names it."""
    best, depth = -1, -1
    for number, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = number, len(prefix)
    assert best >= 0, f"{module} belongs to no layer: add it to LAYERS"
    return best


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    assert circles(graph()) == []


def test_every_import_points_down_the_layers() -> None:
    upward = [
        f"{module} (layer {layer(module)}) imports {target} (layer {layer(target)})"
        for module, targets in sorted(graph().items())
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_the_plugin_api_imports_only_the_turn_the_domain_and_its_own_package() -> None:
    assert graph()["hub.plugins.hookspecs"] <= {
        "hub.plugins",
        "hub.plugins.signals",
        "hub.turn",
        "hub.domains.domain",
    }


def test_the_turn_types_import_nothing_of_ours() -> None:
    assert graph()["hub.turn"] == set()


def test_the_offline_model_imports_only_the_turn_the_knowledge_the_labels_and_language() -> None:
    edges = graph()
    outside = {
        target
        for module, targets in edges.items()
        if module == "hub.offline" or module.startswith("hub.offline.")
        for target in targets
        if not target.startswith("hub.offline")
    }
    assert outside, "the offline package was not found"
    assert {t for t in outside if not t.startswith("hub.knowledge.")} == {
        "hub.turn",
        "hub.domains.vocabulary",
        "hub.language",
    }


def test_the_checker_sees_a_circle_and_an_upward_import() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert layer("hub.crews.factory") > layer("hub.plugins.hookspecs")
