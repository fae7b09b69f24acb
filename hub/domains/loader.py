"""Finding domain folders, reading their files and resolving `extends`.

A domain's *source* is its `domain.yaml` with each `crews/<name>.yaml` placed
under `crews.<name>`; its *merged* document is the sources of its `extends`
chain merged from the root down (see `merge.py`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.domains.merge import merge
from hub.domains.source import DELETE, Position, SourceDocument, read_yaml
from hub.domains.vocabulary import DOMAIN_ID
from hub.exceptions import ConfigurationError, InheritanceError, SchemaError

DOMAIN_FILE = "domain.yaml"
CREWS_DIR = "crews"
DATA_DIR = "data"
TESTS_DIR = "tests"
TEMPLATE_PREFIX = "_"
"""A folder whose name starts with it is a template: extended, never served."""


@dataclass
class DomainSource:
    """One domain folder as read from disk, before inheritance."""

    id: str
    directory: Path
    document: SourceDocument
    errors: list[ConfigurationError] = field(default_factory=list)

    @property
    def extends(self) -> Any:
        data = self.document.data
        return data.get("extends") if isinstance(data, dict) else None

    @property
    def is_template(self) -> bool:
        return self.id.startswith(TEMPLATE_PREFIX)


def require_domains_dir(domains_dir: Path) -> None:
    """Raise a ConfigurationError naming the folder when it does not exist."""
    if not domains_dir.is_dir():
        raise ConfigurationError(
            "the domains folder does not exist",
            file=domains_dir,
            expected="a folder with one sub-folder per domain (CHATWOOTAI_DOMAINS_DIR)",
        )


def discover(domains_dir: Path) -> dict[str, Path]:
    """Domain id → folder, for every sub-folder holding a `domain.yaml`."""
    require_domains_dir(domains_dir)
    return {
        path.name: path
        for path in sorted(domains_dir.iterdir())
        if path.is_dir() and (path / DOMAIN_FILE).is_file()
    }


def read_source(domain_id: str, directory: Path) -> DomainSource:
    """Read `domain.yaml` and `crews/*.yaml`; syntax errors are collected, not raised."""
    errors: list[ConfigurationError] = []
    domain_file = directory / DOMAIN_FILE
    if not DOMAIN_ID.fullmatch(domain_id):
        errors.append(
            ConfigurationError(
                f"folder name {domain_id!r} is not a valid domain id",
                file=directory,
                expected=f"lower-case letters, digits, '_' and '-' ({DOMAIN_ID.pattern})",
            )
        )
    try:
        document = read_yaml(domain_file)
    except ConfigurationError as error:
        return DomainSource(domain_id, directory, SourceDocument({}, {}, (domain_file,)), [error])
    if document.data is None:
        document.data = {}
    if not isinstance(document.data, dict):
        errors.append(SchemaError("the file must be a mapping of keys", file=domain_file, line=1))
        document.data = {}
    _add_crew_files(document, directory, errors)
    return DomainSource(domain_id, directory, document, errors)


def _add_crew_files(
    document: SourceDocument, directory: Path, errors: list[ConfigurationError]
) -> None:
    crews = document.data.setdefault("crews", {})
    if not isinstance(crews, dict):
        errors.append(
            SchemaError(
                "`crews` must be a mapping (crews live in crews/*.yaml)",
                file=directory / DOMAIN_FILE,
                line=document.positions[("crews",)].line,
                key_path="crews",
            )
        )
        return
    for path in sorted((directory / CREWS_DIR).glob("*.yaml")):
        name = path.stem
        try:
            crew = read_yaml(path, ("crews", name))
        except ConfigurationError as error:
            errors.append(error)
            continue
        if name in crews and crews[name] is not DELETE:
            errors.append(
                SchemaError(
                    f"crew {name!r} is defined both in domain.yaml and in {path.name}",
                    file=path,
                    line=1,
                    key_path=f"crews.{name}",
                )
            )
            continue
        crews[name] = crew.data
        document.positions.update(crew.positions)
        document.files = (*document.files, path)


def inheritance_chain(domain_id: str, sources: Mapping[str, DomainSource]) -> list[str]:
    """[domain, parent, grandparent, …]; raises InheritanceError on a cycle or missing parent."""
    chain = [domain_id]
    while True:
        current = sources[chain[-1]]
        parent = current.extends
        if parent is None:
            return chain
        file = current.directory / DOMAIN_FILE
        line = current.document.positions.get(("extends",), Position(file, 1)).line
        if not isinstance(parent, str):
            raise InheritanceError(
                f"extends must be a domain id, got {parent!r}",
                file=file,
                line=line,
                key_path="extends",
            )
        if parent not in sources:
            known = ", ".join(sorted(sources)) or "none"
            raise InheritanceError(
                f"extends {parent!r}, but there is no such domain",
                file=file,
                line=line,
                key_path="extends",
                expected=f"one of: {known}",
            )
        if parent in chain:
            cycle = " → ".join([*chain[chain.index(parent) :], parent])
            raise InheritanceError(
                f"inheritance cycle: {cycle}", file=file, line=line, key_path="extends"
            )
        chain.append(parent)


def merged_document(chain: list[str], sources: Mapping[str, DomainSource]) -> SourceDocument:
    """Merge the chain's documents root first; positions follow whoever set each value."""
    data: Any = {}
    positions: dict[Any, Position] = {}
    files: tuple[Path, ...] = ()
    for domain_id in reversed(chain):
        document = sources[domain_id].document
        data = merge(data, document.data)
        positions.update(document.positions)
        files = (*files, *document.files)
    return SourceDocument(data=data, positions=positions, files=files)


def content_files(directory: Path, sub_folder: str) -> list[Path]:
    """The YAML files of `data/` or `tests/` in one domain folder."""
    return sorted((directory / sub_folder).glob("*.yaml"))


def fingerprint(
    chain: list[str], sources: Mapping[str, DomainSource], digests: Digests | None = None
) -> str:
    """A hash of every file that shapes the domain, so a reload rebuilds only what changed."""
    return chain_fingerprint([sources[domain_id].directory for domain_id in chain], digests)


Digests = dict[Path, str]
"""Folder → the hash of its files, computed once per load and shared by the domains
that extend the same parents."""


def chain_fingerprint(directories: Sequence[Path], digests: Digests | None = None) -> str:
    """The fingerprint of a domain whose chain lives in these folders (domain first)."""
    digest = hashlib.sha256()
    for directory in directories:
        part = digests.get(directory) if digests is not None else None
        if part is None:
            part = folder_digest(directory)
            if digests is not None:
                digests[directory] = part
        digest.update(part.encode())
    return digest.hexdigest()


def folder_digest(directory: Path) -> str:
    """A hash of the names and bytes of every file under one domain folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(directory.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
