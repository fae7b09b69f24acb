"""The benches' tenant generator: valid tenants, each on its own account and knowledge."""

from __future__ import annotations

from pathlib import Path

from hub.domains.registry import DomainRegistry
from tests.perf.tenant_farm import build_farm, vary


def test_every_generated_tenant_is_valid_on_its_own_account_with_knowledge_of_its_own(
    tmp_path: Path,
) -> None:
    ids = build_farm(tmp_path / "domains", 6)
    registry = DomainRegistry(tmp_path / "domains")
    assert sorted(registry.domains) == ids and not registry.problems
    accounts = {registry.get(d).spec.chatwoot.account_id for d in ids}
    assert len(accounts) == 6
    texts: dict[tuple[str, str], str] = {}
    for domain_id in ids:
        for chunk in registry.get(domain_id).knowledge_chunks():
            key = (chunk.heading, chunk.text)
            assert key not in texts, f"{domain_id} shares a chunk with {texts[key]}"
            texts[key] = domain_id
    names = {registry.get(d).spec.name for d in ids}
    assert len(names) == 6


def test_building_a_larger_farm_only_adds_tenants(tmp_path: Path) -> None:
    root = tmp_path / "domains"
    build_farm(root, 3)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    assert build_farm(root, 4)[-1] == "tenant-0003"
    after = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file() and p in before}
    assert after == before
    assert build_farm(tmp_path / "other", 4, seed=1) != [] and (
        (tmp_path / "other" / "tenant-0001" / "domain.yaml").read_text("utf-8")
        != (root / "tenant-0001" / "domain.yaml").read_text("utf-8")
    )


def test_a_sample_document_is_told_of_another_business_with_other_facts() -> None:
    text = "# Casa & Cia Utilidades\n\n## Horário\n\nDas 10:00 às 22:00, R$ 89,90. (11) 3456-7890\n"
    varied = vary(text, "retail", "Aurora Azul Utilidades", salt=123_456)
    assert "Casa & Cia" not in varied and "Aurora Azul Utilidades" in varied
    assert "## Horário (Aurora Azul Utilidades)" in varied
    assert "R$ 89,90" not in varied and "(11) 3456-7890" not in varied
