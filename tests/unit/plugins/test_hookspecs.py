"""Every hook is documented in docs/plugins.md and exercised by a test."""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import ROOT

HOOKSPECS = ROOT / "hub" / "plugins" / "hookspecs.py"
DOCS = ROOT / "docs" / "plugins.md"


def hook_names() -> list[str]:
    tree = ast.parse(HOOKSPECS.read_text(encoding="utf-8"))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any("hookspec" in ast.unparse(decorator) for decorator in node.decorator_list)
    ]


def test_the_hookspecs_are_found() -> None:
    assert {"message_received", "before_crew", "after_crew", "reply_parts"} <= set(hook_names())


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_documentation_entry(hook: str) -> None:
    assert re.search(rf"^### `{hook}\(", DOCS.read_text(encoding="utf-8"), re.M), (
        f"docs/plugins.md has no '### `{hook}(…)`' entry"
    )


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_test(hook: str) -> None:
    this = __file__
    used = [
        path
        for path in (ROOT / "tests").rglob("test_*.py")
        if str(path) != this and re.search(rf"\b{hook}\b", path.read_text(encoding="utf-8"))
    ]
    assert used, f"no test mentions the hook {hook!r}"
