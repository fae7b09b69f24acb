"""Patch: one change to a dependency's internals, tied to the release it was read from.

A patch replaces or bypasses code its library does not offer as an API (a private
method, a module function other modules look up, a private hook), so it is right
only for the release it was written against. `applies()` compares the installed
release with that one; `hub.patches.install` installs only the patches that apply
and says which did not, so that a dependency upgrade never changes what runs
without a warning: the library then runs as shipped.

Some patches replace nothing when installed: our own code takes a faster path
while `installed` is true (the receiver's `TaskPublisher`, the worker's frozen
heap). `remove()` puts a library back as shipped, so that one process (a test)
can run both ways.
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable
from importlib.metadata import version as distribution_version

PYTHON = "python"
"""The `package` of a patch of the standard library."""


def installed_version(package: str) -> str:
    """The installed release of a distribution; for `python`, the interpreter's
    feature release ("3.11"): the stdlib changes only there, and the image takes
    its bug-fix releases from `python:3.11-slim`."""
    if package == PYTHON:
        major, minor, _ = platform.python_version_tuple()
        return f"{major}.{minor}"
    return distribution_version(package)


def _nothing() -> None:
    """Installing or removing a patch whose users read `Patch.installed`."""


class Patch:
    """A named change to `package`'s internals, written for release `version`.

    `module` is the module the patch changes: it is installed only once that module
    is imported, so that a process never imports a library for its patch alone (the
    receiver never loads CrewAI).
    """

    def __init__(
        self,
        name: str,
        *,
        package: str,
        version: str,
        module: str,
        summary: str,
        install: Callable[[], None] = _nothing,
        remove: Callable[[], None] = _nothing,
    ) -> None:
        self.name = name
        self.package = package
        self.version = version
        self.module = module
        self.summary = summary
        self._install = install
        self._remove = remove
        self._installed = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Patch {self.name} for {self.package} {self.version}>"

    @property
    def installed(self) -> bool:
        """Whether the patch is in place in this process now."""
        return self._installed

    def applies(self, version: str | None = None) -> bool:
        """Whether `version` (the installed release when None) is the one this patch
        was written for."""
        return (version or installed_version(self.package)) == self.version

    def install(self) -> None:
        """Put the patch in place (idempotent). Callers check `applies()` first, as
        `hub.patches.install` does."""
        with self._lock:
            if not self._installed:
                self._install()
                self._installed = True

    def remove(self) -> None:
        """Put the library back as shipped (idempotent)."""
        with self._lock:
            if self._installed:
                self._remove()
                self._installed = False
