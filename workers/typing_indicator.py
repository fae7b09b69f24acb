"""The typing indicator: "typing…" shown to the contact while the crew composes.

On when the crew starts composing a reply, off when the reply is posted or the
turn ends without one. It is cosmetic, so it is bounded: each call is one short
attempt (`ChatwootClient.toggle_typing`), a failure is logged and never fails the
turn, and an account whose Chatwoot has no typing endpoint (404: versions before
2026-03) is not asked again by this process.
"""

from __future__ import annotations

import threading

import structlog

from hub.chatwoot.client import ChatwootClient
from hub.exceptions import ChatwootAPIError

log = structlog.get_logger(__name__)

_unsupported: set[int] = set()
"""Accounts whose Chatwoot answered 404 to the typing endpoint."""
_unsupported_lock = threading.Lock()


class TypingIndicator:
    """One turn's indicator in one conversation; `on` and `off` never raise."""

    def __init__(
        self, chatwoot: ChatwootClient, account_id: int, conversation_id: int, token: str | None
    ) -> None:
        self.chatwoot = chatwoot
        self.account_id = account_id
        self.conversation_id = conversation_id
        self.token = token
        self.shown = False

    def on(self) -> None:
        """Show "typing…" (once per turn: a crew run again keeps it on)."""
        if self.shown or not self.token or self.account_id in _unsupported:
            return
        self.shown = self._toggle(True)

    def off(self) -> None:
        """Hide it, if this turn showed it."""
        if self.shown:
            self.shown = False
            self._toggle(False)

    def _toggle(self, on: bool) -> bool:
        try:
            self.chatwoot.toggle_typing(self.account_id, self.conversation_id, on, token=self.token)
        except ChatwootAPIError as error:
            if error.status == 404:
                with _unsupported_lock:
                    _unsupported.add(self.account_id)
            log.warning(
                "typing indicator failed; the turn goes on",
                account_id=self.account_id,
                conversation_id=self.conversation_id,
                typing="on" if on else "off",
                status=error.status,
                error=str(error),
            )
            return False
        return True
