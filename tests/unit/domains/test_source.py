"""Reading YAML: plain data, positions for every key, and clear syntax errors."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from hub.defaults import MAX_YAML_FILE_BYTES
from hub.domains.source import DELETE, ReplaceMap, format_key_path, read_yaml
from hub.exceptions import YAMLSyntaxError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_key_and_list_item_remembers_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "name: Loja\nchatwoot:\n  account_id: 1\n  inbox_ids:\n    - 11\n    - 12\n"
    )
    document = read_yaml(path)
    assert document.data == {"name": "Loja", "chatwoot": {"account_id": 1, "inbox_ids": [11, 12]}}
    assert document.positions[("chatwoot", "account_id")].line == 3
    assert document.positions[("chatwoot", "inbox_ids", 1)].line == 6
    assert document.positions[("name",)].file == path


def test_a_missing_path_is_placed_at_its_nearest_ancestor(tmp_path: Path) -> None:
    document = read_yaml(write(tmp_path, "a: 1\nchatwoot:\n  account_id: 1\n"))
    position = document.position_of(("chatwoot", "inbox_ids", 0))
    assert position is not None and position.line == 2


def test_keys_are_recorded_under_the_given_prefix(tmp_path: Path) -> None:
    document = read_yaml(write(tmp_path, "agents:\n  a:\n    role: x\n"), ("crews", "sales"))
    assert document.positions[("crews", "sales", "agents", "a", "role")].line == 3


def test_scalars_come_back_as_built_in_types(tmp_path: Path) -> None:
    document = read_yaml(write(tmp_path, "a: 1.5\nb: texto\nc: 2026-12-25\nd: no\ne: true\n"))
    assert document.data == {
        "a": 1.5,
        "b": "texto",
        "c": datetime.date(2026, 12, 25),
        "d": "no",
        "e": True,
    }
    assert type(document.data["b"]) is str


def test_delete_and_replace_tags_become_merge_markers(tmp_path: Path) -> None:
    document = read_yaml(write(tmp_path, "a: !delete\nb: !replace\n  x: 1\n"))
    assert document.data["a"] is DELETE
    assert isinstance(document.data["b"], ReplaceMap)


def test_an_unknown_tag_is_an_error_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(YAMLSyntaxError) as caught:
        read_yaml(write(tmp_path, "a: 1\nb: !remove\n"))
    assert "unknown tag !remove" in str(caught.value)


def test_a_repeated_key_is_an_error_naming_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: A\nlanguage: pt-BR\nname: B\n")
    with pytest.raises(YAMLSyntaxError) as caught:
        read_yaml(path)
    assert caught.value.file == path
    assert caught.value.line == 3
    assert "repeated key" in caught.value.message


def test_malformed_yaml_reports_the_line_of_the_problem(tmp_path: Path) -> None:
    with pytest.raises(YAMLSyntaxError) as caught:
        read_yaml(write(tmp_path, "name: A\nroutes:\n  - a\n   b: [\n"))
    assert caught.value.line is not None and caught.value.line >= 3


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Café".encode("latin-1"))
    with pytest.raises(YAMLSyntaxError, match="not UTF-8"):
        read_yaml(path)


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)
"""Nine levels of ten aliases: 10^9 values once expanded, from a 400-byte file."""


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a: 1\nb: !foo [1, 2]\n", 2, "unknown tag !foo on a sequence"),
        ("a: !delete [1]\n", 1, "unknown tag !delete on a sequence"),
        ("a: !replace [1]\n", 1, "unknown tag !replace on a sequence"),
        ("a:\n  b: !!omap [{x: 1}]\n", 2, "unknown tag tag:yaml.org,2002:omap"),
        ("a: !!set {x, y}\n", 1, "unknown tag tag:yaml.org,2002:set"),
        ("a: !!binary aGVsbG8=\n", 1, "unknown tag tag:yaml.org,2002:binary"),
        ("a: !!python/object:os.system {}\n", 1, "unknown tag tag:yaml.org,2002:python"),
        ("a: 1\n? [1, 2]\n: x\n", 2, "a key must be a plain word or number"),
        ("? {a: 1}\n: x\n", 1, "a key must be a plain word or number"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", 1, "nested too deep"),
        ("a:\n  b: " + "{c: " * 3000 + "1" + "}" * 3000 + "\n", 2, "nested too deep"),
        ("x: &x 1\n" + "".join(f"k{i}: *x\n" for i in range(101)), 102, "too many aliases"),
        (ALIAS_BOMB, None, "too many values"),
    ],
)
def test_odd_tags_deep_nesting_and_alias_bombs_are_syntax_errors_with_their_line(
    tmp_path: Path, text: str, line: int | None, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(YAMLSyntaxError) as caught:
        read_yaml(path)
    assert problem in caught.value.message
    assert caught.value.file == path
    if line is not None:
        assert caught.value.line == line


@pytest.mark.parametrize(
    "text",
    ["a: !!int x\n", "a: 1" + "0" * 5000 + "\n", "a: 2026-13-45\n", "a: !!float abc\n"],
)
def test_a_value_its_type_cannot_build_is_a_syntax_error_of_the_file(
    tmp_path: Path, text: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(YAMLSyntaxError, match="unreadable value") as caught:
        read_yaml(path)
    assert caught.value.file == path


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, "a: |\n" + "  xxxxxxxxxxxxxxx\n" * (MAX_YAML_FILE_BYTES // 16))
    with pytest.raises(YAMLSyntaxError, match="too large") as caught:
        read_yaml(path)
    assert caught.value.file == path
    assert f"at most {MAX_YAML_FILE_BYTES} bytes" in str(caught.value)


def test_a_file_without_an_end_is_read_only_up_to_the_size_limit(tmp_path: Path) -> None:
    endless = tmp_path / "endless.yaml"
    endless.symlink_to("/dev/zero")
    with pytest.raises(YAMLSyntaxError, match="too large"):
        read_yaml(endless)


def test_plain_tags_merge_keys_and_a_few_aliases_still_read(tmp_path: Path) -> None:
    text = (
        "base: &base {tone: formal, size: 2}\n"
        "one:\n  <<: *base\n  size: 3\n"
        "two: *base\n"
        "n: !!int '7'\nname: !!str 123\nlist: !!seq [1]\n"
    )
    document = read_yaml(write(tmp_path, text))
    assert document.data["one"] == {"size": 3, "tone": "formal"}
    assert document.data["two"] == {"tone": "formal", "size": 2}
    assert (document.data["n"], document.data["name"], document.data["list"]) == (7, "123", [1])
    assert document.positions[("one", "tone")].line == 3  # the line of its `<<`


def test_key_paths_read_like_the_yaml() -> None:
    assert format_key_path(("crews", "sales", "agents", "a", "tools", 0)) == (
        "crews.sales.agents.a.tools[0]"
    )
