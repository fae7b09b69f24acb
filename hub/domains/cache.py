"""Validated domains kept on disk, so a process starting beside a thousand tenants
reads their files' bytes instead of parsing and validating every YAML again.

One file per domain, `<data dir>/domains-cache/<id>.pickle`, holding the `Domain` as
its last validation built it. An entry serves only while the hash of every file of
the domain's chain (`loader.chain_fingerprint`) is the domain's fingerprint, and
while the code and plugins that validated it are the same (`code_key`); anything
else, a broken or foreign file included, is ignored and the domain validated from
its files. Writes go to a temporary file renamed into place, so processes sharing
the folder never read half an entry. Only valid domains are kept. The folder is as
trusted as the rest of the data dir (it holds pickles).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path

import structlog

from hub.domains.domain import Domain
from hub.domains.loader import Digests, chain_fingerprint

log = structlog.get_logger(__name__)

FORMAT = 1
"""Bumped when an entry's layout changes."""
PLUGIN_GROUP = "chatwootai.plugins"


@lru_cache(maxsize=1)
def code_key() -> str:
    """What validated the cached domains: this package's domain code, and the installed
    plugins (entry points, their distributions' versions and their modules' files)."""
    digest = hashlib.sha256(f"{FORMAT}".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for point in sorted(entry_points(group=PLUGIN_GROUP), key=lambda p: p.name):
        version = point.dist.version if point.dist is not None else ""
        digest.update(f"{point.name}={point.value}@{version}".encode())
        try:
            spec = find_spec(point.module)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin:
            for path in sorted(Path(spec.origin).parent.rglob("*.py")):
                stat = path.stat()
                digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()


class DomainCache:
    """Validated domains by id, on disk (see the module doc)."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key

    def get(self, domain_id: str, folders: dict[str, Path], digests: Digests) -> Domain | None:
        """The cached domain, if its files are still the ones it was validated from."""
        path = self.folder / f"{domain_id}.pickle"
        try:
            with path.open("rb") as handle:
                key, domain = pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception as error:  # a truncated or foreign file: validate from the YAML
            log.warning("domain cache entry unreadable", domain=domain_id, error=str(error)[:200])
            return None
        if key != self.key or not isinstance(domain, Domain) or domain.id != domain_id:
            return None
        if not all(member in folders for member in domain.chain):
            return None
        current = chain_fingerprint([folders[member] for member in domain.chain], digests)
        return domain if current == domain.fingerprint else None

    def put(self, domain: Domain) -> None:
        """Keep a freshly validated domain; a folder that cannot be written is skipped."""
        temporary: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.folder, prefix=f".{domain.id}.")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump((self.key, domain), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, self.folder / f"{domain.id}.pickle")
        except Exception as error:  # a read-only data dir, a domain that cannot be pickled
            log.warning("domain not cached", domain=domain.id, error=str(error)[:200])
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
