"""The Lua scripts the conversation runs in Redis, each a whole file under `lua/`.

A file's header (its leading comment lines) says what it takes and returns: a
script names every `KEYS[i]` and `ARGV[i]` it reads (`KEYS[3..]`: the third and
every later one) and a `Returns:` line. A rule several scripts share is a Lua
function in a file of its own, headed `-- rule: name(parameters)`: everything it
reads comes in as a parameter, and a script pulls it in with `-- include: name.lua`
in its header. Files are read and their includes resolved once per process
(`load`); each owner registers its scripts on its client once (`register`), and
redis-py runs them by SHA from then on.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import redis
from redis.commands.core import Script

from hub.exceptions import ScriptError

FOLDER = resources.files("hub.conversation") / "lua"
"""Where the scripts ship: package data of `hub.conversation` (setup.cfg)."""

_TAG = re.compile(r"(KEYS|ARGV)\b|(include|Returns|rule)\s*:")
_SLOT = re.compile(r"(KEYS|ARGV)\[([1-9]\d*)(\.\.)?\]\s+(\S.*)")
_INCLUDE = re.compile(r"include:\s*(\w+)\.lua")
_RETURNS = re.compile(r"Returns:\s*(\S.*)")
_RULE = re.compile(r"rule:\s*(\w+)\(([^)]*)\)")
_FUNCTION = re.compile(r"^local function (\w+)\(([^)]*)\)", re.MULTILINE)


@dataclass(frozen=True)
class Slot:
    """One `KEYS[i]` or `ARGV[i]` a header names."""

    index: int
    meaning: str
    rest: bool = False
    """`KEYS[i..]`: this one and every one after it, as many as the caller passes."""


@dataclass(frozen=True)
class Header:
    """What a file's leading comment says it takes, includes and returns."""

    keys: tuple[Slot, ...]
    args: tuple[Slot, ...]
    includes: tuple[str, ...]
    """Rule names, in the order their functions are put before the script."""
    returns: str
    rule: str | None = None
    """The function a rule file defines (None for a script)."""
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class LuaScript:
    """One file, parsed: `source` is what Redis runs (included rules, then the file)."""

    name: str
    header: Header
    text: str
    source: str


def names(folder: Traversable = FOLDER) -> list[str]:
    """Every file in `folder`, scripts and rules, by name (without `.lua`)."""
    return sorted(
        item.name.removesuffix(".lua") for item in folder.iterdir() if item.name.endswith(".lua")
    )


@functools.cache
def load(name: str) -> LuaScript:
    """The shipped `name.lua`, parsed and its includes resolved, once per process."""
    return read(name, FOLDER)


def read(name: str, folder: Traversable) -> LuaScript:
    """`name.lua` in `folder` with its header parsed and its includes resolved."""
    try:
        text = (folder / f"{name}.lua").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(f"no Lua script {name}.lua in {folder}") from None
    header = parse_header(name, text)
    parts = []
    for include in header.includes:
        if not (folder / f"{include}.lua").is_file():
            raise ScriptError(f"{name}.lua includes {include}.lua, which is not in {folder}")
        rule = read(include, folder)
        if rule.header.rule is None:
            raise ScriptError(f"{name}.lua includes {include}.lua, a script rather than a rule")
        parts.append(rule.text)
    return LuaScript(name, header, text, "\n".join([*parts, text]))


def register(client: redis.Redis, name: str) -> Script:
    """The script `name` on `client`, run by SHA (loaded into Redis on first use)."""
    script = load(name)
    if script.header.rule is not None:
        raise ScriptError(f"{name}.lua is a rule: scripts include it, Redis does not run it")
    return client.register_script(script.source)


def parse_header(name: str, text: str) -> Header:
    """The header of `name.lua`; a ScriptError says which line is wrong and why."""
    lines = text.splitlines()
    head = list(itertools.takewhile(lambda line: line.startswith("--"), lines))
    for number, line in enumerate(lines[len(head) :], len(head) + 1):
        if _INCLUDE.fullmatch(line.removeprefix("--").strip()):
            raise ScriptError(f"{name}.lua:{number}: an include belongs in the header")
    keys: list[Slot] = []
    args: list[Slot] = []
    includes: list[str] = []
    returns: list[str] = []
    rule: tuple[str, tuple[str, ...]] | None = None
    for number, line in enumerate(head, 1):
        comment = line.removeprefix("--").strip()
        if number == 1 and not (_RULE.match(comment) or comment.startswith(f"{name}: ")):
            raise ScriptError(
                f"{name}.lua:1: the header starts `-- {name}: what it does` (a script) "
                f"or `-- rule: {name}(parameters)` (a rule)"
            )
        if not _TAG.match(comment):
            continue
        if slot := _SLOT.fullmatch(comment):
            found = Slot(int(slot[2]), slot[4], rest=bool(slot[3]))
            (keys if slot[1] == "KEYS" else args).append(found)
        elif include := _INCLUDE.fullmatch(comment):
            includes.append(include[1])
        elif answer := _RETURNS.fullmatch(comment):
            returns.append(answer[1])
        elif (signature := _RULE.fullmatch(comment)) and number == 1:
            rule = (signature[1], _parameters(signature[2]))
        else:
            raise ScriptError(f"{name}.lua:{number}: malformed header line {comment!r}")
    for kind, slots in (("KEYS", keys), ("ARGV", args)):
        if [slot.index for slot in slots] != list(range(1, len(slots) + 1)):
            raise ScriptError(f"{name}.lua: {kind} are not named in order from {kind}[1]")
        if any(slot.rest for slot in slots[:-1]):
            raise ScriptError(f"{name}.lua: only the last of its {kind} can be `[i..]`")
    if len(returns) != 1:
        raise ScriptError(f"{name}.lua: the header needs one `Returns:` line")
    if rule is not None:
        _check_rule(name, text, rule, has_slots=bool(keys or args or includes))
        return Header((), (), (), returns[0], rule=rule[0], parameters=rule[1])
    return Header(tuple(keys), tuple(args), tuple(includes), returns[0])


def _check_rule(
    name: str, text: str, rule: tuple[str, tuple[str, ...]], *, has_slots: bool
) -> None:
    """A rule is one function named after its file, with the parameters it declares."""
    if has_slots:
        raise ScriptError(f"{name}.lua: a rule takes parameters, not KEYS, ARGV or includes")
    defined = [(match[1], _parameters(match[2])) for match in _FUNCTION.finditer(text)]
    if rule[0] != name or defined != [rule]:
        raise ScriptError(
            f"{name}.lua: a rule defines one `local function {name}(…)` with the parameters "
            f"its header names; found {defined or 'none'}"
        )


def _parameters(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())
