"""Many tenants for the benches: copies of the sample businesses with their facts varied.

`build_farm(root, count)` writes a domains folder with `count` tenants, each on its
own Chatwoot account (`FIRST_ACCOUNT + i`, its bot token in the variable
`token_env(i)`), each extending one of the samples (through a template copy of it,
`_cosmetics`, `_health`, `_retail`, so the tenants inherit its crews, routes and
messages) and holding its own knowledge: the sample's documents with the
business name, prices, opening hours and phone numbers changed per tenant, and
each section's heading tagged with the tenant's name, so no two tenants share a
chunk (nor an embedding). Calling it again with a larger count only adds tenants:
files whose content is unchanged are not rewritten.
"""

from __future__ import annotations

import hashlib
import re
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from tests.conftest import SAMPLE_DOMAINS

SAMPLES = ("cosmetics", "health", "retail")
"""The samples the tenants copy, in turn."""

FIRST_ACCOUNT = 10_000
"""Tenant i answers Chatwoot account FIRST_ACCOUNT + i (clear of the samples' 1-3)."""

BRANDS = {
    "cosmetics": ("Bela Pele Cosméticos", "Bela Pele", "Cosméticos"),
    "health": ("Clínica Vida Plena", "Vida Plena", "Clínica"),
    "retail": ("Casa & Cia Utilidades", "Casa & Cia", "Utilidades"),
}
"""Each sample's business name, the short form its documents also use, and the kind
of business the tenant's own name is followed by."""

_FIRST = (
    "Aurora", "Bonança", "Cerrado", "Duna", "Estrela", "Fênix", "Girassol", "Horizonte",
    "Ipê", "Jasmim", "Lumiar", "Maré", "Norte", "Oásis", "Pitanga", "Quaresma", "Raiz",
    "Sereno", "Tupã", "Urbana", "Vértice", "Xodó", "Zênite", "Acauã", "Baobá", "Caju",
    "Delta", "Encanto", "Farol", "Guará", "Harmonia", "Iara", "Jabuti", "Lótus",
    "Mandacaru", "Nascente", "Orvalho", "Pampa", "Rio Claro", "Sabiá",
)  # fmt: skip
_SECOND = (
    "Azul", "Bela", "Central", "Dourada", "Essencial", "Feliz", "Grande", "Ideal",
    "Jovem", "Leve", "Moderna", "Nobre", "Original", "Prática", "Real", "Serena",
    "Total", "Única", "Viva", "Alegre", "Boa Vista", "Clara", "Doce", "Elegante",
    "Forte", "Gentil", "Humana", "Justa", "Livre", "Mágica", "Nativa", "Oeste",
    "Plena", "Querida", "Rara", "Sul", "Terra", "Unida", "Vitória", "Zen",
)  # fmt: skip

_PRICE = re.compile(r"R\$ ?(\d{1,3}(?:\.\d{3})*),(\d{2})")
_TIME = re.compile(r"\b([01]?\d|2[0-3])(:[0-5]\d|h)(?![\w:])")
_PHONE = re.compile(r"\((\d{2})\) ?(\d{4,5})-(\d{4})")
_HEADING = re.compile(r"^(#{1,6}\s+.*?)\s*$", re.MULTILINE)


def tenant_id(index: int) -> str:
    """The domain id of tenant `index` (0-based)."""
    return f"tenant-{index:04d}"


def token_env(index: int) -> str:
    """The variable holding tenant `index`'s Chatwoot bot token (`chatwoot.token_env`)."""
    return f"CHATWOOTAI_TENANT_{index:04d}_TOKEN"


def tenant_tokens(count: int) -> dict[str, int]:
    """Each tenant's bot token → its account: for the fake Chatwoot (`FakeChatwoot`)."""
    return {f"bench-token-{index}": FIRST_ACCOUNT + index for index in range(count)}


def tenant_environment(count: int) -> dict[str, str]:
    """The variables that give the first `count` tenants their tokens, for a worker."""
    return {token_env(index): f"bench-token-{index}" for index in range(count)}


def tenant_name(index: int, sample: str, *, seed: int = 0) -> str:
    """A business name unique to (index, seed) among the first 1,600 tenants of a seed."""
    shifted = (index + seed * 7) % (len(_FIRST) * len(_SECOND))
    first, second = divmod(shifted, len(_SECOND))
    return f"{_FIRST[first]} {_SECOND[second]} {BRANDS[sample][2]}"


def build_farm(root: Path, count: int, *, seed: int = 0) -> list[str]:
    """Write `count` tenants (and the templates they extend) into the domains folder
    `root`; return their domain ids. Deterministic for a (count, seed)."""
    root.mkdir(parents=True, exist_ok=True)
    _write_templates(root)
    return [write_tenant(root, index, seed=seed) for index in range(count)]


def write_tenant(root: Path, index: int, *, seed: int = 0) -> str:
    """Write tenant `index` into `root` (whose templates `build_farm` wrote); its id."""
    sample = SAMPLES[index % len(SAMPLES)]
    domain_id = tenant_id(index)
    name = tenant_name(index, sample, seed=seed)
    folder = root / domain_id
    _write(folder / "domain.yaml", _domain_yaml(sample, name, index))
    knowledge = SAMPLE_DOMAINS / sample / "knowledge"
    for document in sorted(knowledge.glob("*.md")):
        text = vary(document.read_text(encoding="utf-8"), sample, name, _salt(index, seed))
        _write(folder / "knowledge" / document.name, text)
    return domain_id


def vary(text: str, sample: str, name: str, salt: int) -> str:
    """A sample document told of another business: its name, prices, hours and phone
    numbers changed by `salt`, and every heading tagged with the name."""
    full, short, _kind = BRANDS[sample]
    text = text.replace(full, name).replace(short, name)
    text = _PRICE.sub(lambda m: _price(m, salt), text)
    text = _TIME.sub(lambda m: _time(m, salt), text)
    text = _PHONE.sub(lambda m: _phone(m, salt), text)
    return _HEADING.sub(lambda m: f"{m.group(1)} ({name})", text)


def _domain_yaml(sample: str, name: str, index: int) -> str:
    # The retail sample's connectors name the retail's own variables, which another
    # domain may not read: the tenants go without them.
    plugins = "plugins:\n  connectors: !delete\n" if sample == "retail" else ""
    return (
        f"# A generated tenant (tests/perf/tenant_farm.py): the {sample} sample, varied.\n"
        f"extends: _{sample}\n"
        f"name: {name}\n"
        "chatwoot:\n"
        f"  account_id: {FIRST_ACCOUNT + index}\n"
        "  inbox_ids: []\n"
        f"  token_env: {token_env(index)}\n"
        "  webhook_secret_env: !delete\n" + plugins
    )


def _write_templates(root: Path) -> None:
    """`_base` as it is, and each sample as a template: its domain.yaml and crews,
    without its knowledge, data, tests or Chatwoot mapping; switching labels that
    name the samples are dropped (the farm has no `retail` to switch to)."""
    base = SAMPLE_DOMAINS / "_base"
    for path in sorted(base.rglob("*.yaml")):
        _write(root / "_base" / path.relative_to(base), path.read_text(encoding="utf-8"))
    for sample in SAMPLES:
        source = SAMPLE_DOMAINS / sample
        text = source.joinpath("domain.yaml").read_text(encoding="utf-8")
        text += "\nswitching:\n  labels: !replace {}\n"
        _write(root / f"_{sample}" / "domain.yaml", text)
        for path in sorted((source / "crews").glob("*.yaml")):
            _write(root / f"_{sample}" / "crews" / path.name, path.read_text(encoding="utf-8"))


def _write(path: Path, text: str) -> None:
    """Write only when the content differs, so a reload sees only real changes."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _salt(index: int, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:4], "big")


def _price(match: re.Match[str], salt: int) -> str:
    reais = Decimal(match.group(1).replace(".", "") + "." + match.group(2))
    factor = Decimal(100 + salt % 37 - 18) / 100  # within 18% of the sample's price
    value = max(
        Decimal("1.90"), (reais * factor).quantize(Decimal("1"), ROUND_DOWN) + Decimal("0.90")
    )
    whole, cents = f"{value:.2f}".split(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"R$ {grouped},{cents}"


def _time(match: re.Match[str], salt: int) -> str:
    hour = int(match.group(1))
    shift = (salt >> 8) % 3 - 1  # an hour earlier, the same, or an hour later
    shifted = min(23, max(0, hour + shift))
    return f"{shifted:02d}{match.group(2)}" if match.group(2) != "h" else f"{shifted}h"


def _phone(match: re.Match[str], salt: int) -> str:
    area = 11 + (salt >> 12) % 88
    head = match.group(2)
    number = f"{(int(head) + salt) % (10 ** len(head)):0{len(head)}d}"
    tail = f"{(int(match.group(3)) + (salt >> 4)) % 10_000:04d}"
    return f"({area:02d}) {number}-{tail}"
