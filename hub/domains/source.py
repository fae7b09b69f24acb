"""Reading one YAML file into plain data while remembering where every key was.

ruamel.yaml keeps line numbers; we flatten its round-trip nodes into dicts and
lists (what Pydantic validates) plus a `positions` index from key path to
(file, line), so any later error, even after inheritance merged several files,
points at the line that produced the value.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from hub.exceptions import YAMLSyntaxError

KeyPath = tuple[str | int, ...]

DELETE_TAG = "!delete"
REPLACE_TAG = "!replace"


class _Delete:
    """The value of a key tagged `!delete`: remove the inherited key."""

    _instance: _Delete | None = None

    def __new__(cls) -> _Delete:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return DELETE_TAG


DELETE = _Delete()


class ReplaceMap(dict[str, Any]):
    """A mapping tagged `!replace`: it replaces the inherited mapping instead of merging."""


@dataclass(frozen=True)
class Position:
    """A file and a 1-based line."""

    file: Path
    line: int


@dataclass
class SourceDocument:
    """Plain data from YAML and where each key path came from."""

    data: Any
    positions: dict[KeyPath, Position] = field(default_factory=dict)
    files: tuple[Path, ...] = ()

    def position_of(self, path: KeyPath) -> Position | None:
        """The position of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return found
        return None


def format_key_path(path: KeyPath) -> str:
    """`("crews", "sales", "agents", 0)` → `crews.sales.agents[0]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml(path: Path, prefix: KeyPath = ()) -> SourceDocument:
    """Parse `path`; its keys are recorded under `prefix` in the positions index.

    Raises YAMLSyntaxError (with the line) for malformed YAML, repeated keys and
    unknown tags.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise YAMLSyntaxError(f"not UTF-8 text: {error}", file=path) from error
    try:
        node = _yaml().load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "malformed YAML"
        if "duplicate key" in str(error):
            problem = f"repeated key: {error.problem}"
        raise YAMLSyntaxError(str(problem).strip(), file=path, line=line) from error
    positions: dict[KeyPath, Position] = {prefix: Position(path, 1)}
    data = _plain(node, path, prefix, positions)
    return SourceDocument(data=data, positions=positions, files=(path,))


def _plain(node: Any, file: Path, path: KeyPath, positions: dict[KeyPath, Position]) -> Any:
    """Convert ruamel nodes to dict/list/scalars, filling `positions` on the way."""
    if isinstance(node, TaggedScalar):
        tag = str(node.tag.value if hasattr(node.tag, "value") else node.tag)
        if tag == DELETE_TAG:
            return DELETE
        raise YAMLSyntaxError(
            f"unknown tag {tag}",
            file=file,
            line=positions[path].line if path in positions else None,
            expected=f"{DELETE_TAG} or {REPLACE_TAG} (on a mapping)",
        )
    if isinstance(node, CommentedMap):
        map_tag = getattr(node.tag, "value", None)
        if map_tag not in (None, REPLACE_TAG):
            raise YAMLSyntaxError(
                f"unknown tag {map_tag}",
                file=file,
                line=node.lc.line + 1,
                expected=f"{REPLACE_TAG} on a mapping",
            )
        result: dict[Any, Any] = ReplaceMap() if map_tag == REPLACE_TAG else {}
        for key, value in node.items():
            plain_key = _scalar(key)
            child = (*path, plain_key)
            positions[child] = Position(file, node.lc.key(key)[0] + 1)
            result[plain_key] = _plain(value, file, child, positions)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            positions[child] = Position(file, node.lc.item(index)[0] + 1)
            items.append(_plain(value, file, child, positions))
        return items
    return _scalar(node)


def _scalar(value: Any) -> Any:
    """ruamel's scalar subclasses (ScalarFloat, ScalarString…) as built-in types."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value
    return value


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Render plain data as YAML (for `chatwootai domains show`)."""
    import io

    buffer = io.StringIO()
    yaml = YAML(typ="rt")  # keeps the key order of the data
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 100
    yaml.dump(_literal_blocks(dict(data)), buffer)
    return buffer.getvalue()


def _literal_blocks(value: Any) -> Any:
    """Multi-line texts (prompts) as `|` blocks, the way people write them."""
    if isinstance(value, dict):
        return {k: _literal_blocks(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_literal_blocks(item) for item in value]
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value
