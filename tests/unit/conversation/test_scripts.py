"""The Lua script files: their headers, their includes, and the Python calls that run them."""

from __future__ import annotations

import ast
import configparser
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from hub.conversation import scripts
from hub.exceptions import ScriptError

ROOT = Path(__file__).resolve().parents[3]
SOURCES = sorted([*(ROOT / "hub").rglob("*.py"), *(ROOT / "workers").rglob("*.py")])
NAMES = scripts.names()
SCRIPTS = [name for name in NAMES if scripts.load(name).header.rule is None]
RULES = [name for name in NAMES if scripts.load(name).header.rule is not None]
_REFERENCE = re.compile(r"\b(KEYS|ARGV)\[(\d+)\]")


def code_of(text: str) -> str:
    """A Lua file without its comments."""
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


@dataclass(frozen=True)
class Shape:
    """How many KEYS (or ARGV) a header names or a call passes: `fixed` ones, and
    whether more may follow (`KEYS[i..]` in a header, `*rest` in a call)."""

    fixed: int
    more: bool

    def __str__(self) -> str:
        return f"{self.fixed} or more" if self.more else str(self.fixed)


def header_shape(slots: tuple[scripts.Slot, ...]) -> Shape:
    return Shape(sum(not slot.rest for slot in slots), any(slot.rest for slot in slots))


def call_shape(where: str, node: ast.expr | None) -> Shape:
    if node is None:
        return Shape(0, False)
    assert isinstance(node, ast.List), f"{where}: pass keys and args as a list literal"
    starred = [isinstance(item, ast.Starred) for item in node.elts]
    assert starred == sorted(starred), f"{where}: `*rest` goes after the fixed entries"
    return Shape(starred.count(False), any(starred))


@dataclass(frozen=True)
class Call:
    where: str
    script: str
    keys: Shape
    args: Shape


def script_calls() -> list[Call]:
    """Every call of a registered script in hub/ and workers/: an attribute bound to
    `scripts.register(client, "name")`, called with `keys=[…]` and `args=[…]`."""
    calls = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _registers(node.value):
                assert isinstance(node.value, ast.Call)
                name = node.value.args[1]
                assert isinstance(name, ast.Constant) and isinstance(name.value, str)
                for target in node.targets:
                    assert isinstance(target, ast.Attribute), f"{path}:{node.lineno}"
                    bound[target.attr] = name.value
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr not in bound:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                assert not node.args, f"{where}: call a script with keys= and args="
                given = {keyword.arg: keyword.value for keyword in node.keywords}
                calls.append(
                    Call(
                        where,
                        bound[node.func.attr],
                        call_shape(where, given.get("keys")),
                        call_shape(where, given.get("args")),
                    )
                )
    return calls


def _registers(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "register"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "scripts"
    )


def fits(header: Shape, call: Shape) -> bool:
    if header.more:
        return call.fixed >= header.fixed
    return call == header


def test_the_folder_holds_the_scripts_and_the_rules_they_share() -> None:
    assert RULES == ["claim_reply", "release_if_drained", "takeover_holds"]
    assert set(SCRIPTS) == {
        "gate_open",
        "gate_before_post",
        "gate_close",
        "intake_arrive",
        "lock_renew",
        "lock_release",
        "lock_release_if_drained",
        "takeover_observe",
        "fair_enqueue",
        "fair_claim",
        "fair_release",
    }


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_script_header_names_exactly_the_keys_and_args_its_code_reads(name: str) -> None:
    script = scripts.load(name)
    header = script.header
    assert header.returns
    assert all(slot.meaning for slot in (*header.keys, *header.args))
    code = code_of(script.text)
    read = {(kind, int(index)) for kind, index in _REFERENCE.findall(code)}
    named = {("KEYS", slot.index) for slot in header.keys if not slot.rest} | {
        ("ARGV", slot.index) for slot in header.args if not slot.rest
    }
    assert read == named
    for kind, slots in (("KEYS", header.keys), ("ARGV", header.args)):
        if header_shape(slots).more:
            assert f"#{kind}" in code, f"{name}.lua names {kind}[i..] but never reads #{kind}"


@pytest.mark.parametrize("name", RULES)
def test_a_rule_reads_only_its_parameters_and_some_script_includes_it(name: str) -> None:
    rule = scripts.load(name)
    assert rule.header.parameters
    assert not re.search(r"\b(KEYS|ARGV)\b", code_of(rule.text))
    assert [other for other in SCRIPTS if name in scripts.load(other).header.includes]


def test_every_caller_passes_the_keys_and_args_its_script_header_names() -> None:
    calls = script_calls()
    assert {call.script for call in calls} == set(SCRIPTS)
    for call in calls:
        header = scripts.load(call.script).header
        keys, args = header_shape(header.keys), header_shape(header.args)
        assert fits(keys, call.keys), f"{call.where}: {call.script}.lua takes {keys} KEYS"
        assert fits(args, call.args), f"{call.where}: {call.script}.lua takes {args} ARGV"


def test_no_lua_is_left_in_python_strings() -> None:
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        assert "redis.call(" not in text, path
        if path.name != "scripts.py":
            assert "register_script(" not in text, path


def test_an_included_rule_comes_once_before_the_script_that_calls_it() -> None:
    script = scripts.load("gate_before_post")
    rule = scripts.load("claim_reply")
    assert script.header.includes == ("claim_reply",)
    assert script.source == f"{rule.text}\n{script.text}"
    assert script.source.count("local function claim_reply(") == 1
    assert scripts.load("gate_before_post") is script


def test_a_rule_cannot_be_registered_as_a_script() -> None:
    with pytest.raises(ScriptError, match=r"claim_reply\.lua is a rule"):
        scripts.register(redis.Redis(), "claim_reply")


def test_an_include_that_names_no_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.lua").write_text(
        "-- broken: reads a key\n-- include: nowhere.lua\n-- KEYS[1]  a key\n"
        "-- Returns: what nowhere answered\nreturn nowhere(KEYS[1])\n"
    )
    with pytest.raises(ScriptError) as raised:
        scripts.read("broken", tmp_path)
    assert str(raised.value) == f"broken.lua includes nowhere.lua, which is not in {tmp_path}"


RULE = "-- rule: twice(n)\n-- Returns: n times two\nlocal function twice(n) return n * 2 end\n"
SCRIPT_T = "-- t: y\n-- Returns: 2\nreturn 2\n"
MALFORMED = {
    "s.lua:1: the header starts": {"s": "-- KEYS[1]  a key\n-- Returns: 1\nreturn 1\n"},
    "KEYS are not named in order": {"s": "-- s: x\n-- KEYS[1]  a\n-- KEYS[3]  b\n-- Returns: 1\n"},
    "only the last of its ARGV": {"s": "-- s: x\n-- ARGV[1..]  a\n-- ARGV[2]  b\n-- Returns: 1\n"},
    "s.lua:2: malformed header line": {"s": "-- s: x\n-- KEYS[1]\n-- Returns: 1\n"},
    "needs one `Returns:` line": {"s": "-- s: x\n-- KEYS[1]  a key\nreturn 1\n"},
    "s.lua:4: an include belongs in the header": {
        "s": "-- s: x\n-- Returns: 1\nreturn 1\n-- include: twice.lua\n"
    },
    "a script rather than a rule": {
        "s": "-- s: x\n-- include: t.lua\n-- Returns: 1\nreturn t()\n",
        "t": SCRIPT_T,
    },
    "a rule takes parameters, not KEYS": {
        "twice": RULE.replace("-- Returns", "-- KEYS[1]  a\n-- Returns")
    },
    "a rule defines one `local function twice": {
        "twice": RULE.replace("twice(n) return", "twice(m) return")
    },
    "a rule defines one `local function once": {"once": RULE},
}


@pytest.mark.parametrize(("message", "files"), MALFORMED.items(), ids=list(MALFORMED))
def test_a_malformed_file_is_refused_with_what_to_fix(
    tmp_path: Path, message: str, files: dict[str, str]
) -> None:
    for name, text in files.items():
        (tmp_path / f"{name}.lua").write_text(text)
    first = next(iter(files))
    with pytest.raises(ScriptError, match=re.escape(message)):
        scripts.read(first, tmp_path)


def test_a_well_formed_rule_and_script_load_from_any_folder(tmp_path: Path) -> None:
    (tmp_path / "twice.lua").write_text(RULE)
    (tmp_path / "s.lua").write_text(
        "-- s: doubles\n-- include: twice.lua\n-- ARGV[1]  a number\n"
        "-- Returns: ARGV[1] doubled\nreturn twice(tonumber(ARGV[1]))\n"
    )
    script = scripts.read("s", tmp_path)
    assert script.header.args == (scripts.Slot(1, "a number"),)
    assert script.source.startswith(RULE)
    assert scripts.read("twice", tmp_path).header.parameters == ("n",)


def test_the_script_files_ship_as_package_data() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    patterns = config["options.package_data"]["hub.conversation"].split()
    package = ROOT / "hub" / "conversation"
    shipped = {
        path.relative_to(package).as_posix()
        for pattern in patterns
        for path in package.glob(pattern)
    }
    assert {f"lua/{name}.lua" for name in NAMES} <= shipped
