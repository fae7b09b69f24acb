"""The inheritance merge rules, by example and as properties over any YAML-like data."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hub.domains.merge import merge, strip_markers
from hub.domains.source import DELETE, ReplaceMap

keys = st.sampled_from(["a", "b", "c", "d", "name", "routes"])
scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
plain = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
maps = st.dictionaries(keys, plain, max_size=5)


def test_nested_mappings_merge_key_by_key() -> None:
    parent = {"chatwoot": {"account_id": 1, "token_env": "A"}, "name": "Base"}
    child = {"chatwoot": {"account_id": 2}}
    assert merge(parent, child) == {"chatwoot": {"account_id": 2, "token_env": "A"}, "name": "Base"}


def test_a_child_list_replaces_the_inherited_list() -> None:
    assert merge({"keywords": ["a", "b"]}, {"keywords": ["c"]}) == {"keywords": ["c"]}


def test_a_delete_tag_removes_the_inherited_key() -> None:
    parent = {"routes": {"sales": {"crew": "sales"}, "support": {"crew": "support"}}}
    child = {"routes": {"sales": DELETE}}
    assert merge(parent, child) == {"routes": {"support": {"crew": "support"}}}


def test_deleting_a_key_the_parent_does_not_have_is_harmless() -> None:
    assert merge({"a": 1}, {"b": DELETE}) == {"a": 1}


def test_a_replace_tag_drops_everything_inherited_under_the_mapping() -> None:
    parent = {"handoff": {"keywords": ["x"], "labels": ["bot"]}}
    child = {"handoff": ReplaceMap({"labels": ["vip"]})}
    assert merge(parent, child) == {"handoff": {"labels": ["vip"]}}


def test_a_scalar_replaces_a_mapping_and_a_mapping_replaces_a_scalar() -> None:
    assert merge({"a": {"b": 1}}, {"a": 3}) == {"a": 3}
    assert merge({"a": 3}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_merge_never_modifies_its_inputs() -> None:
    parent = {"a": {"b": [1, 2]}}
    child = {"a": {"c": 1}}
    merged = merge(parent, child)
    merged["a"]["b"].append(3)
    assert parent == {"a": {"b": [1, 2]}}
    assert child == {"a": {"c": 1}}


@given(maps)
def test_merging_with_an_empty_child_keeps_the_parent(parent: dict[str, Any]) -> None:
    assert merge(parent, {}) == parent


@given(maps)
def test_merging_onto_an_empty_parent_gives_the_child(child: dict[str, Any]) -> None:
    assert merge({}, child) == child


@given(maps)
def test_merging_a_mapping_with_itself_changes_nothing(value: dict[str, Any]) -> None:
    assert merge(value, value) == value


@given(maps, maps, maps)
def test_a_chain_merges_from_the_root_down(
    root: dict[str, Any], middle: dict[str, Any], leaf: dict[str, Any]
) -> None:
    # Not associative in general (a scalar can replace a mapping mid-chain), so the
    # order is part of the rules: the loader always folds root → leaf.
    merged = merge(merge(root, middle), leaf)
    for key, value in leaf.items():
        if not isinstance(value, dict):
            assert merged[key] == value
    for key in set(root) - set(middle) - set(leaf):
        assert merged[key] == root[key]


@given(maps, maps)
def test_every_key_of_the_child_is_in_the_result_with_the_child_scalars(
    parent: dict[str, Any], child: dict[str, Any]
) -> None:
    merged = merge(parent, child)
    for key, value in child.items():
        assert key in merged
        if not isinstance(value, dict):
            assert merged[key] == value


@given(maps, st.lists(keys, max_size=3))
def test_deleted_keys_never_survive_the_merge(parent: dict[str, Any], doomed: list[str]) -> None:
    merged = merge(parent, dict.fromkeys(doomed, DELETE))
    assert not set(doomed) & set(merged)
    assert merged == {k: v for k, v in parent.items() if k not in doomed}


@given(plain)
def test_data_without_markers_is_unchanged_by_stripping(value: Any) -> None:
    assert strip_markers(value) == value
