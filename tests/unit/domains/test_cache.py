"""The validated-domains cache: a registry beside many tenants parses no YAML twice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import hub.domains.registry
from hub.domains.registry import DomainRegistry
from tests.perf.tenant_farm import build_farm


@pytest.fixture
def farm(tmp_path: Path) -> Path:
    root = tmp_path / "domains"
    build_farm(root, 4)
    return root


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    original = hub.domains.registry.read_source

    def counting(domain_id: str, directory: Path) -> object:
        read.append(domain_id)
        return original(domain_id, directory)

    monkeypatch.setattr(hub.domains.registry, "read_source", counting)
    return read


def test_a_second_registry_serves_the_cached_domains_without_parsing_their_files(
    farm: Path, tmp_path: Path, reads: list[str]
) -> None:
    first = DomainRegistry(farm, cache_dir=tmp_path / "cache")
    assert reads  # the first one validated the files
    reads.clear()
    second = DomainRegistry(farm, cache_dir=tmp_path / "cache")
    assert reads == []
    assert sorted(second.domains) == sorted(first.domains)
    assert second.get("tenant-0001").spec == first.get("tenant-0001").spec
    assert second.find(10_001, None) is not None


def test_an_edited_file_of_a_domain_or_its_template_is_validated_again(
    farm: Path, tmp_path: Path, reads: list[str]
) -> None:
    DomainRegistry(farm, cache_dir=tmp_path / "cache")
    domain_file = farm / "tenant-0001" / "domain.yaml"
    domain_file.write_text(
        domain_file.read_text(encoding="utf-8").replace("name: ", "name: Nova "), "utf-8"
    )
    template = farm / "_cosmetics" / "domain.yaml"
    template.write_text(template.read_text(encoding="utf-8") + "\n# edited\n", "utf-8")
    reads.clear()
    again = DomainRegistry(farm, cache_dir=tmp_path / "cache")
    assert again.get("tenant-0001").spec.name.startswith("Nova ")
    assert {"tenant-0000", "tenant-0001", "tenant-0003"} <= set(reads)  # cosmetics: 0 and 3
    assert "tenant-0002" not in reads  # a health tenant: neither file is in its chain


def test_a_broken_cache_entry_is_ignored_and_the_files_validated(
    farm: Path, tmp_path: Path, reads: list[str]
) -> None:
    DomainRegistry(farm, cache_dir=tmp_path / "cache")
    (tmp_path / "cache" / "tenant-0002.pickle").write_bytes(b"not a pickle")
    reads.clear()
    again = DomainRegistry(farm, cache_dir=tmp_path / "cache")
    assert "tenant-0002" in again.domains
    assert "tenant-0002" in reads


def test_a_domains_cache_that_cannot_be_written_only_costs_the_validation(
    farm: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the folder should be", "utf-8")
    registry = DomainRegistry(farm, cache_dir=blocked)
    assert len(registry.domains) == 4
    assert not os.path.isdir(blocked)
