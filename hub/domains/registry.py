"""Every domain of a folder, validated, re-read when its files change.

One invalid domain never takes the others down: it is reported and skipped, and
if it was valid before, its last good version keeps serving until the file is
fixed. Reload is cheap to call often: it stats the tree and does nothing when no
file changed, and rebuilds only domains whose files (or ancestors' files) changed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog

from hub import defaults
from hub.domains.cache import DomainCache, code_key
from hub.domains.domain import Domain, build_domain
from hub.domains.loader import (
    TEMPLATE_PREFIX,
    Digests,
    DomainSource,
    chain_fingerprint,
    discover,
    read_source,
    require_domains_dir,
)
from hub.domains.tokens import account_token
from hub.domains.validation import Plugins
from hub.exceptions import (
    ConfigurationError,
    DomainInvalidError,
    DomainNotFoundError,
    SchemaError,
)
from hub.plugins.discovery import installed
from hub.settings import Settings

log = structlog.get_logger(__name__)

CACHE_FOLDER = "domains-cache"
"""Under the data dir: the validated domains (`hub.domains.cache`)."""

MappingKey = tuple[int, int | None]
"""(account id, inbox id); inbox None means "every inbox of the account"."""

MatchedBy = Literal["inbox", "account"]


@dataclass(frozen=True)
class RawClaim:
    """What an invalid, unserved domain's files say of its Chatwoot mapping, read as
    plain data: an account it would serve must still not take unsigned payloads."""

    domain_id: str
    account_id: int | None
    webhook_secret_env: str | None


@dataclass(frozen=True)
class Snapshot:
    """One consistent view of the registry, swapped atomically on reload."""

    domains: Mapping[str, Domain] = field(default_factory=dict)
    problems: Mapping[str, DomainInvalidError] = field(default_factory=dict)
    mapping: Mapping[MappingKey, str] = field(default_factory=dict)
    unserved: tuple[RawClaim, ...] = ()


class DomainRegistry:
    """Loads `domains_dir`; `get`, `find` and `domains` serve the last good state."""

    @classmethod
    def serving(cls, settings: Settings) -> DomainRegistry:
        """The registry of a long-running process (receiver, worker): reloaded every
        `CHATWOOTAI_RELOAD_INTERVAL_SECONDS`, validated domains cached under the data dir."""
        return cls(
            settings.domains_dir,
            reload_interval=settings.reload_interval_seconds,
            cache_dir=settings.data_dir / CACHE_FOLDER,
        )

    def __init__(
        self,
        domains_dir: Path,
        *,
        reload_interval: float = defaults.RELOAD_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        log_problems: bool = True,
        plugins: Plugins = installed,
        cache_dir: Path | None = None,
    ) -> None:
        self.domains_dir = Path(domains_dir)
        self.cache = DomainCache(cache_dir, code_key()) if cache_dir is not None else None
        """Validated domains on disk (`hub.domains.cache`); None: validate every file."""
        self.plugins = plugins
        """The installed plugins, whose settings each domain's `plugins:` must pass."""
        self.log_problems = log_problems
        self.reload_interval = reload_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._checked_at = float("-inf")
        self._snapshot = Snapshot()
        self.reload()

    @property
    def domains(self) -> Mapping[str, Domain]:
        """Valid domains that serve conversations (templates are never loaded on their own)."""
        return self._snapshot.domains

    @property
    def problems(self) -> Mapping[str, DomainInvalidError]:
        """Domains whose current files are invalid, with every error."""
        return self._snapshot.problems

    def get(self, domain_id: str) -> Domain:
        """A serving domain by id; raises DomainNotFoundError."""
        domain = self.domains.get(domain_id)
        if domain is None:
            raise DomainNotFoundError(domain_id, self.domains)
        return domain

    def find(self, account_id: int, inbox_id: int | None) -> tuple[Domain, MatchedBy] | None:
        """The domain mapped to this inbox, else to the whole account, else None."""
        snapshot = self._snapshot
        if inbox_id is not None and (account_id, inbox_id) in snapshot.mapping:
            return snapshot.domains[snapshot.mapping[(account_id, inbox_id)]], "inbox"
        if (account_id, None) in snapshot.mapping:
            return snapshot.domains[snapshot.mapping[(account_id, None)]], "account"
        return None

    def claimants(self, account_id: int) -> tuple[Domain, ...]:
        """Every serving domain mapped to this Chatwoot account, by any of its inboxes or
        the whole account: who may speak for the account (its secrets, its tokens)."""
        snapshot = self._snapshot
        ids = sorted(
            {owner for (account, _), owner in snapshot.mapping.items() if account == account_id}
        )
        return tuple(snapshot.domains[domain_id] for domain_id in ids)

    def chatwoot_token(self, account_id: int, settings: Settings) -> str | None:
        """The `api_access_token` for a conversation of this Chatwoot account, whichever
        domain answers it: a bot token works only in its own account
        (`hub.domains.tokens`)."""
        return account_token(self.claimants(account_id), settings)

    def unserved_claims(self) -> tuple[RawClaim, ...]:
        """The Chatwoot mapping of every domain that is invalid and has no last good
        version, as far as its files can be read (`hub.web.signatures` keeps their
        accounts closed to unsigned payloads)."""
        return self._snapshot.unserved

    def account_of_inbox(self, inbox_id: int) -> int | None:
        """The account of an inbox some domain lists (Chatwoot inbox ids are global)."""
        for account_id, mapped_inbox in self._snapshot.mapping:
            if mapped_inbox == inbox_id:
                return account_id
        return None

    def maybe_reload(self) -> bool:
        """Reload if the interval has passed since the last look; True when anything changed."""
        if self._clock() - self._checked_at < self.reload_interval:
            return False
        try:
            return self.reload()
        except ConfigurationError as error:
            log.error("domains folder unreadable; serving the last good domains", error=str(error))
            return False

    def reload(self, *, force: bool = False) -> bool:
        """Re-read changed files now; True when the served state changed."""
        with self._lock:
            self._checked_at = self._clock()
            signature = _tree_signature(self.domains_dir)
            if signature == self._signature and not force:
                return False
            self._signature = signature
            previous = self._snapshot
            self._snapshot = self._load(previous)
            changed = {k: v.fingerprint for k, v in previous.domains.items()} != {
                k: v.fingerprint for k, v in self._snapshot.domains.items()
            } or set(previous.problems) != set(self._snapshot.problems)
            return changed

    def _load(self, previous: Snapshot) -> Snapshot:
        folders = discover(self.domains_dir)
        sources = LazySources(folders)
        digests: Digests = {}
        domains: dict[str, Domain] = {}
        problems: dict[str, DomainInvalidError] = {}
        for domain_id, directory in folders.items():
            if domain_id.startswith(TEMPLATE_PREFIX):
                continue  # validated through the domains that extend it
            old = previous.domains.get(domain_id)
            try:
                if old is not None and _unchanged(old, folders, digests):
                    domains[domain_id] = old
                    continue
                cached = self.cache.get(domain_id, folders, digests) if self.cache else None
                if cached is not None:
                    domains[domain_id] = cached
                    continue
                domains[domain_id] = build_domain(domain_id, sources, self.plugins, digests)
                if self.cache is not None:
                    self.cache.put(domains[domain_id])
                log.info("domain loaded", domain=domain_id, reloaded=old is not None)
                if domains[domain_id].warnings and self.log_problems:
                    log.warning(
                        "domain has warnings",
                        domain=domain_id,
                        warnings=[w.render() for w in domains[domain_id].warnings],
                    )
            except Exception as caught:
                # Whatever one domain's files do, the others keep serving.
                error = _as_invalid(domain_id, directory, caught)
                problems[domain_id] = error
                if self.log_problems:
                    log.error(
                        "domain invalid",
                        domain=domain_id,
                        errors=[e.render() for e in error.errors],
                        serving="last good version" if old else "nothing",
                    )
                if old is not None:
                    domains[domain_id] = old
        mapping = _mapping(domains, problems, previous)
        unserved = tuple(
            _raw_claim(domain_id, sources)
            for domain_id in sorted(problems)
            if domain_id not in domains
        )
        return Snapshot(domains=domains, problems=problems, mapping=mapping, unserved=unserved)


class LazySources(Mapping[str, DomainSource]):
    """Every domain folder's source, read from disk the first time it is asked for: a
    load whose domains are unchanged or cached parses no YAML at all."""

    def __init__(self, folders: Mapping[str, Path]) -> None:
        self.folders = folders
        self._read: dict[str, DomainSource] = {}

    def __getitem__(self, domain_id: str) -> DomainSource:
        source = self._read.get(domain_id)
        if source is None:
            source = self._read[domain_id] = read_source(domain_id, self.folders[domain_id])
        return source

    def __contains__(self, domain_id: object) -> bool:
        return domain_id in self.folders

    def __iter__(self) -> Iterator[str]:
        return iter(self.folders)

    def __len__(self) -> int:
        return len(self.folders)


def _unchanged(domain: Domain, folders: Mapping[str, Path], digests: Digests) -> bool:
    """Whether every file of the domain's chain is still what it was built from (a
    changed `extends` changes the domain's own file, so the old chain is enough)."""
    if not all(member in folders for member in domain.chain):
        return False
    current = chain_fingerprint([folders[member] for member in domain.chain], digests)
    return current == domain.fingerprint


def _raw_claim(domain_id: str, sources: Mapping[str, DomainSource]) -> RawClaim:
    """`chatwoot.account_id` and `chatwoot.webhook_secret_env` from the domain's file or,
    failing that, the nearest ancestor's that sets them: whatever of them reads as data."""
    found: dict[str, object] = {}
    seen: set[str] = set()
    current: str | None = domain_id
    while current is not None and current in sources and current not in seen:
        seen.add(current)
        source = sources[current]
        data = source.document.data if isinstance(source.document.data, dict) else {}
        chatwoot = data.get("chatwoot")
        if isinstance(chatwoot, dict):
            for key in ("account_id", "webhook_secret_env"):
                if chatwoot.get(key) is not None:
                    found.setdefault(key, chatwoot[key])
        parent = source.extends
        current = parent if isinstance(parent, str) else None
    account = found.get("account_id")
    secret_env = found.get("webhook_secret_env")
    return RawClaim(
        domain_id,
        account if isinstance(account, int) and not isinstance(account, bool) else None,
        secret_env if isinstance(secret_env, str) and secret_env else None,
    )


def _as_invalid(domain_id: str, directory: Path, error: Exception) -> DomainInvalidError:
    """The domain's validation error for any failure while building it."""
    if isinstance(error, DomainInvalidError):
        return error
    problem = ConfigurationError(
        f"could not be loaded: {type(error).__name__}: {str(error)[:200]}", file=directory
    )
    return DomainInvalidError(domain_id, [problem])


def _mapping(
    domains: dict[str, Domain], problems: dict[str, DomainInvalidError], previous: Snapshot
) -> dict[MappingKey, str]:
    """Index (account, inbox) → domain; a domain claiming a taken key is invalid.

    The domain that held a key before the reload keeps it, so a new file can never
    steal a live mapping; on a fresh start the first id in alphabetical order wins.
    """
    mapping: dict[MappingKey, str] = {}
    keepers = sorted(domains, key=lambda d: (previous.domains.get(d) is None, d))
    for domain_id in keepers:
        domain = domains[domain_id]
        chatwoot = domain.spec.chatwoot
        if chatwoot.account_id is None:
            continue
        keys: list[MappingKey] = [(chatwoot.account_id, inbox) for inbox in chatwoot.inbox_ids]
        keys = keys or [(chatwoot.account_id, None)]
        taken = [(key, mapping[key]) for key in keys if key in mapping]
        if taken:
            (account, inbox), owner = taken[0]
            position = domain.document.position_of(("chatwoot",))
            what = f"account {account}" + (f" inbox {inbox}" if inbox is not None else "")
            problems[domain_id] = DomainInvalidError(
                domain_id,
                [
                    SchemaError(
                        f"{what} is already mapped to domain {owner!r}",
                        file=position.file if position else None,
                        line=position.line if position else None,
                        key_path="chatwoot",
                        expected="each Chatwoot account/inbox mapped to one domain",
                    )
                ],
            )
            log.error("domain mapping conflict", domain=domain_id, owner=owner, key=what)
            del domains[domain_id]
            continue
        mapping.update(dict.fromkeys(keys, domain_id))
    return mapping


def _tree_signature(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of every file: a cheap way to notice any edit."""
    require_domains_dir(directory)
    entries = []
    for path in directory.rglob("*"):
        if path.is_file():
            stat = path.stat()
            entries.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))
