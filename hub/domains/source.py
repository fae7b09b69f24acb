"""Reading one YAML file into plain data while remembering where every key was.

ruamel.yaml keeps line numbers; we flatten its round-trip nodes into dicts and
lists (what Pydantic validates) plus a `positions` index from key path to
(file, line), so any later error, even after inheritance merged several files,
points at the line that produced the value.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml as pyyaml  # type: ignore[import-untyped]  # no stubs installed
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from hub.defaults import MAX_YAML_ALIASES, MAX_YAML_DEPTH, MAX_YAML_FILE_BYTES, MAX_YAML_NODES
from hub.exceptions import YAMLSyntaxError

KeyPath = tuple[str | int, ...]

CParser: Any = getattr(pyyaml, "CParser", None)
"""libyaml's event parser, when PyYAML was built with it."""

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

    def __getstate__(self) -> dict[str, Any]:
        """Pickled compactly (the validated-domains cache): each file's name once."""
        names: dict[Path, int] = {}
        positions = [
            (key, names.setdefault(position.file, len(names)), position.line)
            for key, position in self.positions.items()
        ]
        return {
            "data": self.data,
            "names": [str(path) for path in names],
            "positions": positions,
            "files": [str(path) for path in self.files],
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        paths = [Path(name) for name in state["names"]]
        self.data = state["data"]
        self.positions = {
            key: Position(paths[index], line) for key, index, line in state["positions"]
        }
        self.files = tuple(Path(name) for name in state["files"])

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

    Raises YAMLSyntaxError (with the line where known) for anything that is not a
    plain document of mappings, sequences and scalars: malformed YAML, repeated
    keys, unknown tags, a file over `MAX_YAML_FILE_BYTES`, nesting deeper than
    `MAX_YAML_DEPTH`, more than `MAX_YAML_ALIASES` aliases or `MAX_YAML_NODES`
    values. Nothing else escapes, so one bad file is one domain's error.
    """
    try:
        with path.open("rb") as stream:  # bounded: a link to /dev/zero has no size either
            raw = stream.read(MAX_YAML_FILE_BYTES + 1)
    except OSError as error:
        raise YAMLSyntaxError(f"unreadable: {error.strerror or error}", file=path) from error
    if len(raw) > MAX_YAML_FILE_BYTES:
        raise YAMLSyntaxError(
            "the file is too large", file=path, expected=f"at most {MAX_YAML_FILE_BYTES} bytes"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YAMLSyntaxError(f"not UTF-8 text: {error}", file=path) from error
    try:
        _check_events(text, path)
        node = _yaml().load(text)
        positions: dict[KeyPath, Position] = {prefix: Position(path, 1)}
        data = _plain(node, path, prefix, positions, _Budget())
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or error.context or "malformed YAML"
        if "duplicate key" in str(error):
            problem = f"repeated key: {error.problem}"
        raise YAMLSyntaxError(str(problem).strip(), file=path, line=line) from error
    except YAMLSyntaxError:
        raise
    except (YAMLError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        # A value its tag cannot build (`!!int x`, a 5,000-digit number, 2026-13-45).
        raise YAMLSyntaxError(
            f"unreadable value: {type(error).__name__}: {str(error)[:200]}", file=path
        ) from error
    return SourceDocument(data=data, positions=positions, files=(path,))


COLLECTION_TAGS = frozenset({REPLACE_TAG, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
"""Tags a collection may carry: `!replace` (on a mapping) and YAML's own map and seq."""

SCALAR_TAGS = frozenset(
    {DELETE_TAG} | {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null")}
)
"""Tags a scalar may carry: `!delete` and YAML's plain scalar types."""


def _check_events(text: str, file: Path) -> None:
    """Walk the parser's events (no recursion, no construction) and refuse what no
    domain file needs: deep nesting, many aliases, tags other than ours and YAML's
    plain ones. Runs before the composer, which recurses and expands.

    libyaml's C parser (PyYAML) walks the events when it is installed, many times
    faster than ruamel's; where it cannot read the text, ruamel's parser walks them
    and its load reports the syntax error.
    """
    if CParser is not None:
        try:
            _check(CParser(text), file)
            return
        except pyyaml.YAMLError:
            pass
    _check(_yaml().parse(text), file)


def _check(events: Iterable[Any], file: Path) -> None:
    depth = aliases = 0
    for event in events:
        kind = type(event).__name__
        mark = getattr(event, "start_mark", None)
        line = mark.line + 1 if mark is not None else None
        if kind == "AliasEvent":
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise YAMLSyntaxError(
                    "too many aliases", file=file, line=line, expected=f"at most {MAX_YAML_ALIASES}"
                )
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise YAMLSyntaxError(
                    "nested too deep",
                    file=file,
                    line=line,
                    expected=f"at most {MAX_YAML_DEPTH} levels",
                )
            tag = _tag_text(event.tag)
            if tag is not None and (
                tag not in COLLECTION_TAGS or (tag == REPLACE_TAG and kind != "MappingStartEvent")
            ):
                shape = "mapping" if kind == "MappingStartEvent" else "sequence"
                raise YAMLSyntaxError(
                    f"unknown tag {tag} on a {shape}",
                    file=file,
                    line=line,
                    expected=f"{REPLACE_TAG} on a mapping",
                )
        elif kind == "ScalarEvent":
            tag = _tag_text(event.tag)
            if tag is not None and tag not in SCALAR_TAGS:
                raise YAMLSyntaxError(
                    f"unknown tag {tag}",
                    file=file,
                    line=line,
                    expected=f"{DELETE_TAG} or {REPLACE_TAG} (on a mapping)",
                )


def _tag_text(tag: Any) -> str | None:
    """An event's tag as text (ruamel gives a `Tag` object or a string), None if untagged."""
    if tag is None:
        return None
    value = getattr(tag, "value", tag)
    return None if value is None else str(value)


@dataclass
class _Budget:
    """How many more values `_plain` may produce: aliases expand, the budget does not."""

    left: int = MAX_YAML_NODES

    def spend(self, file: Path, line: int | None) -> None:
        self.left -= 1
        if self.left < 0:
            raise YAMLSyntaxError(
                "the file expands to too many values (aliases)",
                file=file,
                line=line,
                expected=f"at most {MAX_YAML_NODES}",
            )


def _plain(
    node: Any, file: Path, path: KeyPath, positions: dict[KeyPath, Position], budget: _Budget
) -> Any:
    """Convert ruamel nodes to dict/list/scalars, filling `positions` on the way."""
    line = positions[path].line if path in positions else None
    budget.spend(file, line)
    if isinstance(node, TaggedScalar):
        tag = str(node.tag.value if hasattr(node.tag, "value") else node.tag)
        if tag == DELETE_TAG:
            return DELETE
        if tag == "tag:yaml.org,2002:str":
            return str(node.value)
        raise YAMLSyntaxError(
            f"unknown tag {tag}",
            file=file,
            line=line,
            expected=f"{DELETE_TAG} or {REPLACE_TAG} (on a mapping)",
        )
    if isinstance(node, CommentedMap):
        map_tag = getattr(node.tag, "value", None)
        if map_tag not in (None, REPLACE_TAG, "tag:yaml.org,2002:map"):
            raise YAMLSyntaxError(
                f"unknown tag {map_tag}",
                file=file,
                line=node.lc.line + 1,
                expected=f"{REPLACE_TAG} on a mapping",
            )
        result: dict[Any, Any] = ReplaceMap() if map_tag == REPLACE_TAG else {}
        for key, value in node.items():
            key_line = node.lc.data[key][0] + 1 if key in node.lc.data else node.lc.line + 1
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise YAMLSyntaxError(
                    "a key must be a plain word or number", file=file, line=key_line
                )
            plain_key = _scalar(key)
            child = (*path, plain_key)
            positions[child] = Position(file, key_line)
            result[plain_key] = _plain(value, file, child, positions, budget)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            positions[child] = Position(file, node.lc.item(index)[0] + 1)
            items.append(_plain(value, file, child, positions, budget))
        return items
    if isinstance(node, dict | list | set | tuple | bytes):
        raise YAMLSyntaxError("not a plain mapping, sequence or scalar", file=file, line=line)
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
