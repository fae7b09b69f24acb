"""A loaded, validated domain, and the function that builds one from its sources."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from hub.domains.content import ConversationTests, SeedData
from hub.domains.labels import label_warnings
from hub.domains.loader import (
    DATA_DIR,
    TEMPLATE_PREFIX,
    TESTS_DIR,
    Digests,
    DomainSource,
    content_files,
    fingerprint,
    inheritance_chain,
    merged_document,
)
from hub.domains.schema import DomainSpec
from hub.domains.source import SourceDocument
from hub.domains.validation import (
    Plugins,
    check_references,
    check_tests,
    validate_content,
    validate_model,
)
from hub.exceptions import ConfigurationError, DomainInvalidError, SchemaError
from hub.knowledge.chunking import Chunk, load_chunks
from hub.settings import Settings


@dataclass(frozen=True)
class Domain:
    """One business, ready to serve: its merged spec and its own content."""

    id: str
    directory: Path
    spec: DomainSpec
    chain: tuple[str, ...]
    fingerprint: str
    document: SourceDocument = field(repr=False, compare=False)
    seed_data: tuple[SeedData, ...] = field(default=(), repr=False)
    tests: tuple[ConversationTests, ...] = field(default=(), repr=False)
    warnings: tuple[ConfigurationError, ...] = field(default=(), repr=False, compare=False)
    """What is valid but worth fixing: task texts whose prompt labels the offline model
    would not read (`hub.domains.labels`)."""

    def knowledge_chunks(self) -> list[Chunk]:
        """Every chunk of the domain's knowledge files (`knowledge.paths`), read now."""
        return load_chunks(self.id, self.directory, self.spec.knowledge.paths)

    def chatwoot_token(self, settings: Settings) -> str | None:
        """The `api_access_token` this domain names: its own env var, else the global one.

        Replies use the token of the conversation's account instead
        (`DomainRegistry.chatwoot_token`): a token belongs to an account."""
        return _secret(self.spec.chatwoot.token_env, settings.chatwoot_token)

    def webhook_secret(self, settings: Settings) -> str | None:
        """The webhook signing secret: the domain's own env var, else the global one."""
        return _secret(self.spec.chatwoot.webhook_secret_env, settings.webhook_secret)

    def as_data(self) -> dict[str, Any]:
        """The merged configuration as plain data (what `domains show` prints)."""
        data: dict[str, Any] = self.spec.model_dump(mode="json", exclude_none=True)
        return data


def _secret(env_name: str | None, fallback: SecretStr | None) -> str | None:
    """Secrets never live in YAML: a domain names the variable that holds them."""
    if env_name and os.environ.get(env_name):
        return os.environ[env_name]
    return fallback.get_secret_value() if fallback else None


def build_domain(
    domain_id: str,
    sources: Mapping[str, DomainSource],
    plugins: Plugins,
    digests: Digests | None = None,
) -> Domain:
    """Validate one (non-template) domain, given every domain's sources and the
    installed plugins (whose settings it checks).

    Raises DomainInvalidError holding *all* the domain's errors, not just the first.
    """
    source = sources[domain_id]
    try:
        chain = inheritance_chain(domain_id, sources)
    except ConfigurationError as error:
        raise DomainInvalidError(domain_id, [*source.errors, error]) from None
    errors = [e for member in chain for e in sources[member].errors]
    if errors:
        raise DomainInvalidError(domain_id, errors)
    document = merged_document(chain, sources)
    spec, errors = validate_model(DomainSpec, document)
    if spec is None:
        raise DomainInvalidError(domain_id, errors)
    errors = check_references(
        spec,
        document,
        domain_ids=[d for d in sources if not d.startswith(TEMPLATE_PREFIX)],
        plugins=plugins,
        domain_id=domain_id,
    )
    seed, seed_errors = validate_content(content_files(source.directory, DATA_DIR), SeedData)
    tests, test_errors = validate_content(
        content_files(source.directory, TESTS_DIR), ConversationTests
    )
    errors += seed_errors + test_errors + check_tests(tests, spec, plugins)
    errors += _missing_knowledge(spec, source.directory, document)
    if errors:
        raise DomainInvalidError(domain_id, errors)
    return Domain(
        id=domain_id,
        directory=source.directory,
        spec=spec,
        chain=tuple(chain),
        fingerprint=fingerprint(chain, sources, digests),
        document=document,
        seed_data=tuple(value for value, _ in seed.values()),
        tests=tuple(value for value, _ in tests.values()),
        warnings=tuple(label_warnings(spec, document)),
    )


def _missing_knowledge(
    spec: DomainSpec, directory: Path, document: SourceDocument
) -> list[ConfigurationError]:
    """A knowledge path without wildcards must name a file that exists."""
    errors: list[ConfigurationError] = []
    for index, pattern in enumerate(spec.knowledge.paths):
        if any(char in pattern for char in "*?[") or (directory / pattern).is_file():
            continue
        position = document.position_of(("knowledge", "paths", index))
        errors.append(
            SchemaError(
                f"knowledge file {pattern!r} does not exist in {directory.name}/",
                file=position.file if position else None,
                line=position.line if position else None,
                key_path=f"knowledge.paths[{index}]",
            )
        )
    return errors
