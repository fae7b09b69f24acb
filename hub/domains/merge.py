"""The inheritance merge rules, in one function.

mapping + mapping          → merged key by key, recursively
anything + list            → the child's list (lists replace)
anything + scalar          → the child's value
anything + !delete         → the key disappears
mapping + !replace mapping → the child's mapping, nothing inherited under it
"""

from __future__ import annotations

from typing import Any

from hub.domains.source import DELETE, ReplaceMap


def merge(parent: Any, child: Any) -> Any:
    """The value a child domain ends up with, given its parent's and its own."""
    if isinstance(child, ReplaceMap):
        return strip_markers(child)
    if isinstance(parent, dict) and isinstance(child, dict):
        merged: dict[Any, Any] = {}
        for key, value in parent.items():
            if key not in child:
                merged[key] = strip_markers(value)
            elif child[key] is not DELETE:
                merged[key] = merge(value, child[key])
        for key, value in child.items():
            if key not in parent and value is not DELETE:
                merged[key] = strip_markers(value)
        return merged
    return strip_markers(child)


def strip_markers(value: Any) -> Any:
    """A copy of `value` without merge markers: `!delete` keys dropped, `!replace` plain."""
    if isinstance(value, dict):
        return {k: strip_markers(v) for k, v in value.items() if v is not DELETE}
    if isinstance(value, list):
        return [strip_markers(item) for item in value if item is not DELETE]
    return value
