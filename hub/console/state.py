"""What the console process holds: the domains, the store it reads, and a sandbox.

The playground and the conversation tests run through the production decision
(`hub.conversation.decision.decide`) on crews whose tools write to a sandbox: a
throwaway SQLite database, migrated and seeded like `chatwootai test`'s, so trying
a booking never books in the real store. The Conversations and At a glance pages
read the real store.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

from hub import defaults
from hub.conversation.decision import Session
from hub.crews.factory import CrewFactory
from hub.crews.stories import STORY_DATABASE, prepare_database
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from hub.store.database import create_engine, database_url


@dataclass
class PlaygroundTurn:
    """One playground exchange: what the customer sent, the reply, and its trace."""

    messages: list[str]
    reply: str
    handoff: bool
    trace: dict[str, Any]


@dataclass
class Playground:
    """One user's conversation with one domain in the playground."""

    domain_id: str
    channel: str
    session: Session = field(default_factory=lambda: Session(secrets.randbelow(2**40) + 2**41))
    turns: list[PlaygroundTurn] = field(default_factory=list)
    handed_off: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Console:
    """The console's shared state, made once per process by `create_app`."""

    def __init__(self, settings: Settings, registry: DomainRegistry | None = None) -> None:
        self.settings = settings
        self.registry = registry or DomainRegistry(
            settings.domains_dir, reload_interval=settings.reload_interval_seconds
        )
        self.store: Engine = create_engine(database_url(settings))
        self._sandbox_dir = Path(tempfile.mkdtemp(prefix="chatwootai-console-"))
        sandbox_url = f"sqlite:///{self._sandbox_dir / STORY_DATABASE}"
        prepare_database(sandbox_url, self.registry.domains.values())
        self.factory = CrewFactory(
            self.registry, settings.model_copy(update={"database_url": sandbox_url})
        )
        self.playgrounds: dict[tuple[str, str], Playground] = {}
        self._lock = threading.Lock()

    def playground(self, owner: str, domain_id: str, channel: str | None = None) -> Playground:
        """The playground of `owner` (a browser session) with `domain_id`; a new one when
        none is open or `channel` changes."""
        with self._lock:
            key = (owner, domain_id)
            found = self.playgrounds.get(key)
            if found is None or (channel is not None and channel != found.channel):
                found = Playground(domain_id, channel or defaults.CONSOLE_CHANNELS[0][0])
                self.playgrounds[key] = found
            return found

    def reset(self, owner: str, domain_id: str) -> None:
        with self._lock:
            self.playgrounds.pop((owner, domain_id), None)

    def close(self) -> None:
        """Let the store go and remove the sandbox."""
        self.store.dispose()
        self.factory.engine.dispose()
        shutil.rmtree(self._sandbox_dir, ignore_errors=True)


EXTENSION = "chatwootai.console"
"""Where `create_app` keeps the Console in `app.extensions`."""


def console_of(app: Flask) -> Console:
    """The app's shared state."""
    found: Console = app.extensions[EXTENSION]
    return found
