"""What Chatwoot tells an agent bot about the messages the bot itself posted.

Chatwoot delivers every message of an inbox to the inbox's agent bot, the bot's
own replies and private notes included: a `message_created` whose message is
`outgoing` and whose sender has `type: "agent_bot"`. It sends it from its job
queue once the message is stored, whatever became of the API call that created
it (a client that timed out still gets the webhook). `BotWebhooks` is that
delivery for FakeChatwoot: each stored message is POSTed, signed the way
Chatwoot signs, to the bot's webhook URL, in order, from a thread of its own.
"""

from __future__ import annotations

import http.client
import json
import queue
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict
from urllib.parse import urlsplit

from hub.chatwoot.signature import sign

TIMEOUT_SECONDS = 5.0
"""Chatwoot waits this long for the bot's answer to a webhook."""


class Delivery(TypedDict):
    """One webhook sent: the message it was about and the status the bot answered
    (0: no answer)."""

    message_id: int
    status: int


class BotWebhooks:
    """Sends `message_created` for each message FakeChatwoot stores to `url`."""

    def __init__(
        self, url: str, secret: str | None = None, inboxes: Mapping[int, int] | None = None
    ) -> None:
        """`secret` signs the webhooks (none: unsigned); `inboxes` maps an account to
        the inbox its conversations are in (1 when not given)."""
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.secret = secret
        self.inboxes = dict(inboxes or {})
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="bot-webhooks", daemon=True)
        self._thread.start()

    def stored(
        self, account_id: int, conversation_id: int, status: str, message: dict[str, Any]
    ) -> None:
        """A message was stored in a conversation whose status is `status`: tell the bot."""
        inbox_id = self.inboxes.get(account_id, 1)
        self._queue.put(
            {
                "event": "message_created",
                "id": message["id"],
                "content": message["content"],
                "content_type": message["content_type"],
                "content_attributes": message["content_attributes"],
                "message_type": "outgoing",
                "private": message["private"],
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "source_id": None,
                "sender": message["sender"],
                "inbox": {"id": inbox_id, "name": f"Inbox {inbox_id}"},
                "account": {"id": account_id, "name": f"Account {account_id}"},
                "conversation": {
                    "id": conversation_id,
                    "inbox_id": inbox_id,
                    "status": status,
                    "messages": [
                        {
                            "id": message["id"],
                            "content": message["content"],
                            "message_type": 1,
                            "private": message["private"],
                        }
                    ],
                },
            }
        )

    def deliveries(self) -> list[Delivery]:
        """Every webhook sent so far, oldest first."""
        with self._lock:
            return list(self._deliveries)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every stored message's webhook was sent; False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Send what is queued, then stop."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while True:
            payload = self._queue.get()
            try:
                if payload is None:
                    if connection is not None:
                        connection.close()
                    return
                connection = connection or http.client.HTTPConnection(
                    self.host, self.port, timeout=TIMEOUT_SECONDS
                )
                status = self._send(connection, payload)
                if status == 0:
                    connection.close()
                    connection = None
                with self._lock:
                    self._deliveries.append({"message_id": payload["id"], "status": status})
            finally:
                self._queue.task_done()

    def _send(self, connection: http.client.HTTPConnection, payload: dict[str, Any]) -> int:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "X-Chatwoot-Delivery": str(uuid.uuid4())}
        if self.secret is not None:
            timestamp = str(int(time.time()))
            headers["X-Chatwoot-Timestamp"] = timestamp
            headers["X-Chatwoot-Signature"] = sign(self.secret, timestamp, body)
        try:
            connection.request("POST", self.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            return 0
        return response.status
