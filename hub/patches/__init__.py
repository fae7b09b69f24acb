"""Every change ChatwootAI makes to a dependency's internals, installed in one place.

One module per dependency (`kombu`, `crewai`, `http_client`, `gc`), each patch a
`Patch` naming the release it was read from. `install(settings)` is called where
a process first uses one of those libraries (the Celery app, the receiver, the
Chatwoot client, CrewAI's set-up, the worker's runtime). The first call decides
which patches are on, from `CHATWOOTAI_PATCHES` and the installed releases, and
logs it in one line; every call installs the patches that are on whose module is
imported by then. A patch written for another release than the installed one
stays off, and the line is a warning naming the package and both releases: a
dependency upgrade runs the library as shipped, never a patch read from an
older one. With `CHATWOOTAI_PATCHES=off`, every library runs as shipped.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import structlog

from hub.patches import crewai, gc, http_client, kombu
from hub.patches.patch import Patch, installed_version
from hub.settings import Settings

log = structlog.get_logger(__name__)

PATCHES: tuple[Patch, ...] = (
    kombu.CHANNEL_CLIENT,
    kombu.TASK_PUBLISHER,
    crewai.LOCK_BACKEND,
    crewai.TOOL_PROMPTS,
    crewai.FLOW_STATES,
    crewai.TASK_OUTPUTS,
    crewai.OPENAI_CLIENTS,
    http_client.PARSE_HEADERS,
    gc.FROZEN_HEAP,
)
"""Every patch, in the order they are installed."""

SWITCHED_OFF = "CHATWOOTAI_PATCHES=off"


@dataclass(frozen=True)
class Plan:
    """Which patches a process runs, and why each of the others does not."""

    on: tuple[Patch, ...]
    off: dict[str, str] = field(default_factory=dict)
    """Patch name → why it is off."""
    other_release: bool = False
    """Whether a patch is off because its package is not the release it was read from."""
    _done: set[str] = field(default_factory=set, compare=False, repr=False)
    """The patches this plan installed: each once, whatever happens to it after."""

    @classmethod
    def of(
        cls,
        patches: Iterable[Patch],
        *,
        enabled: bool,
        versions: Mapping[str, str] | None = None,
    ) -> Plan:
        """The plan for `patches`; `versions` gives a package's release as if it were
        the installed one (what a dependency upgrade would do)."""
        on: list[Patch] = []
        off: dict[str, str] = {}
        other_release = False
        for patch in patches:
            if not enabled:
                off[patch.name] = SWITCHED_OFF
                continue
            installed = (versions or {}).get(patch.package) or installed_version(patch.package)
            if patch.applies(installed):
                on.append(patch)
            else:
                off[patch.name] = (
                    f"{patch.package} {installed} is installed, the patch is for "
                    f"{patch.package} {patch.version}: {patch.package} runs as shipped"
                )
                other_release = True
        return cls(tuple(on), off, other_release)

    def install(self) -> None:
        """Install, once, every patch that is on and whose module is imported by now."""
        for patch in self.on:
            if patch.name not in self._done and patch.module in sys.modules:
                patch.install()
                self._done.add(patch.name)

    def log(self) -> None:
        """One line: what is on, what is off and why (a warning for another release)."""
        report = log.warning if self.other_release else log.info
        report("dependency patches", on=[patch.name for patch in self.on], off=self.off)


_plan: Plan | None = None
_lock = threading.Lock()


def install(settings: Settings) -> Plan:
    """Install the patches that apply, deciding and logging which on the first call."""
    global _plan
    with _lock:
        if _plan is None:
            _plan = Plan.of(PATCHES, enabled=settings.patches == "on")
            _plan.log()
        _plan.install()
        return _plan


__all__ = ["PATCHES", "Patch", "Plan", "install"]
