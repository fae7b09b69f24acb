"""FakeChatwoot: a real local HTTP server that speaks the bot-API paths we call.

It enforces what Chatwoot's bot API does (read from its code): a bot token works
only in its own account (`bot_token`; 401 "Bot is not authorized to access this
account" elsewhere, 401 for a token it does not know), labels create replaces
the list, `toggle_priority` takes Chatwoot's enum or null (422 otherwise, "none"
included), assignments with both ids set only the agent, and the typing endpoint.
It records every request (method, path, lower-cased headers, parsed JSON body,
arrival time, the status it answered), answers like Chatwoot does (a message
object with an incrementing id for `POST …/messages`), keeps a little
conversation state, and can be told to fail, drop connections, answer slowly or be down for a while.
It also serves attachments' files (`serve_file`), as Chatwoot's `data_url`s do.
Told where the bot's webhook is (`deliver_webhooks`), it also sends the bot each
message it stores, as Chatwoot does (`tests.fakes.bot_webhooks`).
Thread-safe: the worker's threads and the test's thread use it at once.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypedDict

import pytest

from tests.fakes.bot_webhooks import BotWebhooks

CONVERSATION_PATH = re.compile(
    r"^/api/v1/accounts/(?P<account>\d+)/conversations/(?P<conversation>\d+)/(?P<action>[a-z_]+)$"
)
BOT = {"id": 1, "name": "ChatwootAI", "avatar_url": "", "type": "agent_bot"}
UNAUTHORIZED = {"error": "You need to sign in or sign up before continuing."}
INVALID_TOKEN = {"error": "Invalid Access Token"}
OTHER_ACCOUNT = {"error": "Bot is not authorized to access this account"}
PRIORITIES = frozenset({"urgent", "high", "medium", "low"})
"""`Conversation.priority`'s enum; JSON null clears it."""
TYPING_STATUSES = frozenset({"on", "off", "recording"})
ACTIONS = frozenset(
    {
        "messages",
        "toggle_status",
        "labels",
        "assignments",
        "toggle_priority",
        "toggle_typing_status",
        "custom_attributes",
    }
)
"""The conversation endpoints a bot token may call (`BOT_ACCESSIBLE_ENDPOINTS`)."""
NOT_FOUND = {"error": "Resource could not be found"}


class RecordedRequest(TypedDict):
    """One request as the fake saw it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    time: float
    status: int
    answered: float | None
    """When the answer was written back (None: not yet, or the connection was dropped)."""


class ConversationState(TypedDict):
    """What the bot API has set on one conversation so far."""

    status: str
    labels: list[str]
    priority: str | None
    assignee_id: int | None
    team_id: int | None
    typing: str
    typing_changes: list[str]
    """Every typing status set, in order."""


class FakeChatwoot:
    """A threaded server on 127.0.0.1 (a free port); `url` is its base URL."""

    def __init__(self, tokens: Mapping[str, int] | None = None) -> None:
        """`tokens` maps each bot token the fake knows to the account it belongs to."""
        self._lock = threading.Lock()
        self._tokens: dict[str, int] = dict(tokens or {})
        self._records: list[RecordedRequest] = []
        self._conversations: dict[tuple[int, int], ConversationState] = {}
        self._next_message_id = 1000
        self._failures: list[tuple[int, float | None, str | None]] = []
        self._drops: list[str | None] = []
        self._delay = 0.0
        self._slow: list[tuple[float, str | None]] = []
        self._down: tuple[float, int, str | None] | None = None
        self._webhooks: BotWebhooks | None = None
        self._serving = 0
        self._files: dict[str, tuple[bytes, str]] = {}
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        self._closed = False
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    # Scripting --------------------------------------------------------------

    def bot_token(self, token: str, account_id: int) -> None:
        """Know `token` as the agent bot's token of `account_id` (its only account)."""
        with self._lock:
            self._tokens[token] = account_id

    def fail_next(
        self,
        n: int,
        status: int = 500,
        retry_after: float | None = None,
        *,
        path: str | None = None,
    ) -> None:
        """Answer the next `n` requests with `status`, plus `Retry-After` if given; only
        requests whose path ends in `path` (e.g. "/messages") when given, else any."""
        with self._lock:
            self._failures.extend([(status, retry_after, path)] * n)

    def down_for(self, seconds: float, status: int = 500, *, path: str | None = None) -> float:
        """Answer every POST (whose path ends in `path`, when given) with `status` for the
        next `seconds`: a Chatwoot being deployed or restarted. Returns when it is back
        (Unix time)."""
        until = time.time() + seconds
        with self._lock:
            self._down = (until, status, path)
        return until

    def drop_next(self, n: int, *, path: str | None = None) -> None:
        """Close the connection without answering the next `n` requests (a network
        error); only those whose path ends in `path` when given."""
        with self._lock:
            self._drops.extend([path] * n)

    def slow_next(self, n: int, seconds: float, *, path: str | None = None) -> None:
        """Serve the next `n` requests (whose path ends in `path`, when given) as usual,
        but answer each only after `seconds`: a client that gives up sooner never
        learns that Chatwoot did the work."""
        with self._lock:
            self._slow.extend([(seconds, path)] * n)

    def delay_responses(self, seconds: float) -> None:
        """Wait `seconds` before every answer from now on (0 to stop)."""
        with self._lock:
            self._delay = seconds

    def deliver_webhooks(
        self, url: str, secret: str | None = None, inboxes: dict[int, int] | None = None
    ) -> BotWebhooks:
        """From now on, send each message stored to the bot's webhook at `url` (signed
        with `secret`), like Chatwoot; `inboxes` maps an account to its inbox id."""
        webhooks = BotWebhooks(url, secret, inboxes)
        with self._lock:
            previous, self._webhooks = self._webhooks, webhooks
        if previous is not None:
            previous.close()
        return webhooks

    def serve_file(self, path: str, body: bytes, content_type: str) -> str:
        """Answer `GET path` with `body` (an attachment's file); returns its full URL."""
        with self._lock:
            self._files[path] = (body, content_type)
        return f"{self.url}{path}"

    def reset(self) -> None:
        """Forget requests, state and scripted failures; message ids keep increasing."""
        with self._lock:
            self._records.clear()
            self._conversations.clear()
            self._failures.clear()
            self._drops.clear()
            self._delay = 0.0
            self._slow.clear()
            self._down = None

    # Inspection -------------------------------------------------------------

    def requests(self, path_suffix: str | None = None) -> list[RecordedRequest]:
        """Every request so far, oldest first, optionally only paths ending in `path_suffix`."""
        with self._lock:
            records = list(self._records)
        if path_suffix is None:
            return records
        return [r for r in records if r["path"].endswith(path_suffix)]

    def messages(
        self, conversation_id: int | None = None, *, account_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Bodies of the `POST …/messages` Chatwoot accepted (2xx), oldest first."""
        bodies = []
        for record in self.requests("/messages"):
            match = CONVERSATION_PATH.match(record["path"])
            accepted = 200 <= record["status"] < 300
            if record["method"] != "POST" or match is None or not accepted:
                continue
            if conversation_id is not None and int(match["conversation"]) != conversation_id:
                continue
            if account_id is not None and int(match["account"]) != account_id:
                continue
            bodies.append(record["body"])
        return bodies

    def serving(self) -> int:
        """Requests received and not yet answered (or dropped): work still under way."""
        with self._lock:
            return self._serving

    def message_id(self) -> int:
        """An id for a customer message arriving now, from the sequence the fake's own
        messages take theirs from: in Chatwoot every message stored, whoever wrote it,
        gets a greater id than those before it."""
        with self._lock:
            self._next_message_id += 1
            return self._next_message_id

    def conversation(self, account_id: int, conversation_id: int) -> ConversationState:
        """The state the bot API gave a conversation (status "pending" if never touched)."""
        with self._lock:
            state = self._state(account_id, conversation_id).copy()
        state["labels"] = list(state["labels"])
        state["typing_changes"] = list(state["typing_changes"])
        return state

    def wait_for(
        self,
        predicate: Callable[[], object],
        timeout: float = 5.0,
        *,
        interval: float = 0.02,
        raise_on_timeout: bool = True,
    ) -> bool:
        """Poll until `predicate()` is truthy; on timeout raise AssertionError (or return False)."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        if raise_on_timeout:
            seen = [f"{r['method']} {r['path']} → {r['status']}" for r in self.requests()]
            raise AssertionError(f"condition not met within {timeout} s; requests: {seen}")
        return False

    def close(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._webhooks is not None:
            self._webhooks.close()

    def __enter__(self) -> FakeChatwoot:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # Serving (called from the handler threads) ------------------------------

    def _state(self, account_id: int, conversation_id: int) -> ConversationState:
        return self._conversations.setdefault(
            (account_id, conversation_id),
            {
                "status": "pending",
                "labels": [],
                "priority": None,
                "assignee_id": None,
                "team_id": None,
                "typing": "off",
                "typing_changes": [],
            },
        )

    def _script(
        self, path: str, method: str = "POST"
    ) -> tuple[str, int | None, float | None, float]:
        """What to do with the next request to `path`: ("drop"|"fail"|"serve", status,
        retry_after, delay)."""

        def first(targets: list[str | None]) -> int | None:
            return next((i for i, t in enumerate(targets) if t is None or path.endswith(t)), None)

        with self._lock:
            down = self._down
            if (
                down is not None
                and method == "POST"
                and time.time() < down[0]
                and (down[2] is None or path.endswith(down[2]))
            ):
                return "fail", down[1], None, self._delay
            index = first(self._drops)
            if index is not None:
                del self._drops[index]
                return "drop", None, None, self._delay
            index = first([target for _, _, target in self._failures])
            if index is not None:
                status, retry_after, _ = self._failures.pop(index)
                return "fail", status, retry_after, self._delay
            index = first([target for _, target in self._slow])
            if index is not None:
                return "serve", None, None, self._delay + self._slow.pop(index)[0]
            return "serve", None, None, self._delay

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any) -> int:
        record: RecordedRequest = {
            "method": method,
            "path": path,
            "headers": headers,
            "body": body,
            "time": time.time(),
            "status": 0,
            "answered": None,
        }
        with self._lock:
            self._records.append(record)
            self._serving += 1
            return len(self._records) - 1

    def _done(self) -> None:
        with self._lock:
            self._serving -= 1

    def _set_status(self, index: int, status: int) -> None:
        with self._lock:
            self._records[index]["status"] = status

    def _answered(self, index: int) -> None:
        with self._lock:
            self._records[index]["answered"] = time.time()

    def _answer(
        self, method: str, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        """Status and JSON body (None for an empty body) Chatwoot would give."""
        match = CONVERSATION_PATH.match(path)
        if method != "POST" or match is None:
            return 404, NOT_FOUND
        if match["action"] not in ACTIONS:  # no such route: Rails answers before auth
            return 404, NOT_FOUND
        token = headers.get("api_access_token")
        if not token:
            return 401, UNAUTHORIZED
        account_id, conversation_id = int(match["account"]), int(match["conversation"])
        action = match["action"]
        with self._lock:
            if token not in self._tokens:
                return 401, INVALID_TOKEN
            if self._tokens[token] != account_id:  # ensure_current_account_helper.rb
                return 401, OTHER_ACCOUNT
            state = self._state(account_id, conversation_id)
            if action == "messages":
                self._next_message_id += 1
                message = self._message(account_id, conversation_id, self._next_message_id, body)
                if self._webhooks is not None:
                    self._webhooks.stored(account_id, conversation_id, state["status"], message)
                return 200, message
            if action == "toggle_status":
                state["status"] = str(body.get("status", "open"))
                payload = {
                    "success": True,
                    "current_status": state["status"],
                    "conversation_id": conversation_id,
                }
                return 200, {"meta": {}, "payload": payload}
            if action == "labels":
                state["labels"] = [str(label) for label in body.get("labels", [])]
                return 200, {"payload": list(state["labels"])}
            if action == "assignments":
                return 200, self._assign(state, body)
            if action == "toggle_priority":
                priority = body.get("priority")
                if priority is not None and priority not in PRIORITIES:
                    return 422, {"error": f"'{priority}' is not a valid priority"}
                state["priority"] = priority
                return 200, None
            if action == "toggle_typing_status":
                typing = body.get("typing_status")
                if typing not in TYPING_STATUSES:
                    return 422, {"error": f"'{typing}' is not a valid typing status"}
                state["typing"] = str(typing)
                state["typing_changes"].append(str(typing))
                return 200, None
            if action == "custom_attributes":
                return 200, {"custom_attributes": body.get("custom_attributes", {})}
        return 404, NOT_FOUND

    @staticmethod
    def _message(
        account_id: int, conversation_id: int, message_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        """The message object Chatwoot's `messages/create.json` returns."""
        return {
            "id": message_id,
            "content": body.get("content"),
            "account_id": account_id,
            "inbox_id": 1,
            "conversation_id": conversation_id,
            "message_type": 1 if body.get("message_type", "outgoing") == "outgoing" else 0,
            "content_type": body.get("content_type", "text"),
            "status": "sent",
            "content_attributes": body.get("content_attributes", {}),
            "created_at": int(time.time()),
            "private": bool(body.get("private", False)),
            "source_id": None,
            "sender": BOT,
        }

    @staticmethod
    def _assign(state: ConversationState, body: dict[str, Any]) -> dict[str, Any]:
        """`AssignmentsController#create`: the agent when `assignee_id` is given (a
        `team_id` beside it is ignored), else the team."""
        if body.get("assignee_id") is not None:
            state["assignee_id"] = int(body["assignee_id"])
            agent = state["assignee_id"]
            return {"id": agent, "name": f"Agent {agent}", "type": "user", "availability": "online"}
        state["team_id"] = int(body["team_id"]) if body.get("team_id") is not None else None
        return {"id": state["team_id"], "name": f"Team {state['team_id']}"}


def _handler_for(fake: FakeChatwoot) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 64 * 1024  # headers and body in one write: no Nagle/delayed-ACK stalls

        def log_message(self, *_: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PATCH(self) -> None:
            self._handle()

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            path = self.path.split("?", 1)[0]
            try:
                parsed = json.loads(raw) if raw else {}
            except ValueError:
                parsed = None
            body = parsed if isinstance(parsed, dict) else {}
            index = fake._record(self.command, path, headers, body)
            served = fake._files.get(path) if self.command == "GET" else None
            if served is not None:
                fake._set_status(index, 200)
                self._send_file(*served)
                fake._answered(index)
                fake._done()
                return
            try:
                action, status, retry_after, delay = fake._script(path, self.command)
                if delay:
                    time.sleep(delay)
                if action == "drop":
                    self.close_connection = True
                    return
                extra: dict[str, str] = {}
                payload: Any
                if action == "fail" and status is not None:
                    payload = {"error": f"scripted failure {status}"}
                    if retry_after is not None:
                        extra["Retry-After"] = f"{retry_after:g}"
                elif parsed is None or (raw and not isinstance(parsed, dict)):
                    status, payload = 400, {"error": "body must be a JSON object"}
                else:
                    status, payload = fake._answer(self.command, path, headers, body)
                fake._set_status(index, status)
                self._send(status, payload, extra)
                fake._answered(index)
            finally:
                fake._done()

        def _send_file(self, data: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        def _send(self, status: int, payload: Any, extra: dict[str, str]) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()  # now, so that `answered` is when the client could read it

    return Handler


class _QuietServer(ThreadingHTTPServer):
    """Daemon handler threads; a client that gave up (a timeout) is no traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@pytest.fixture
def fake_chatwoot() -> Iterator[FakeChatwoot]:
    """A running FakeChatwoot, closed after the test."""
    server = FakeChatwoot()
    yield server
    server.close()


__all__ = ["ConversationState", "FakeChatwoot", "RecordedRequest", "fake_chatwoot"]
