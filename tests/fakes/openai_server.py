"""A local OpenAI-compatible server for the real-provider path.

It speaks `POST /v1/chat/completions` (non-streaming and SSE streaming) and
`POST /v1/audio/transcriptions` (multipart `file`, `model`…, as OpenAI's Whisper
API), records every request, and answers with a scripted function of the prompt
(or of the audio), after an optional delay, or fails with a given HTTP status:
enough to test timeouts, errors and a slow model without any network.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class ToolCall(dict[str, Any]):
    """A responder's way to answer with a native tool call: `ToolCall(name=…, arguments={…})`."""


Responder = Callable[[list[dict[str, Any]]], "str | ToolCall"]
Transcriber = Callable[[bytes], str]


def multipart_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """A multipart/form-data body as {name: text} for fields and {name: (filename,
    content type, bytes)} for files, parsed the way any server would."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            fields[str(name)] = payload.decode()
        else:
            fields[str(name)] = (filename, part.get_content_type(), payload)
    return fields


def echo_last_user_message(messages: list[dict[str, Any]]) -> str:
    """Default answer: a final answer quoting the start of the last user message."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": ""})
    return f"Final Answer: recebido: {str(last.get('content'))[:60]}"


class FakeOpenAI:
    """A threaded HTTP server on 127.0.0.1 that imitates OpenAI's chat completions."""

    def __init__(self) -> None:
        self.responder: Responder = echo_last_user_message
        self.transcriber: Transcriber = lambda audio: "transcrição de teste"
        self.delay_seconds = 0.0
        self.fail_status: int | None = None
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if self.path.endswith("/audio/transcriptions"):
                    self._transcribe(raw)
                    return
                body = json.loads(raw or b"{}")
                with server._lock:
                    server.requests.append(
                        {"path": self.path, "body": body, "headers": dict(self.headers)}
                    )
                if server.delay_seconds:
                    time.sleep(server.delay_seconds)
                if server.fail_status:
                    payload = json.dumps(
                        {"error": {"message": "scripted failure", "type": "server_error"}}
                    ).encode()
                    self.send_response(server.fail_status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                text = server.responder(body.get("messages", []))
                if body.get("stream"):
                    self._stream(body, text)
                else:
                    self._complete(body, text)

            def _transcribe(self, raw: bytes) -> None:
                fields = multipart_fields(self.headers.get("Content-Type", ""), raw)
                with server._lock:
                    server.requests.append(
                        {"path": self.path, "body": fields, "headers": dict(self.headers)}
                    )
                upload = fields.get("file")
                if server.fail_status or not isinstance(upload, tuple) or "model" not in fields:
                    status = server.fail_status or 400
                    self._json(status, {"error": {"message": "file and model are required"}})
                    return
                self._json(200, {"text": server.transcriber(upload[2])})

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _complete(self, body: dict[str, Any], text: str | ToolCall) -> None:
                message: dict[str, Any] = {"role": "assistant", "content": text}
                finish = "stop"
                if isinstance(text, ToolCall):
                    finish = "tool_calls"
                    call = {
                        "id": f"call_{len(server.requests)}",
                        "type": "function",
                        "function": {
                            "name": text["name"],
                            "arguments": json.dumps(text["arguments"]),
                        },
                    }
                    message = {"role": "assistant", "content": None, "tool_calls": [call]}
                payload = json.dumps(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "fake"),
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": finish,
                                "message": message,
                            }
                        ],
                        "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, body: dict[str, Any], text: Any) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for chunk in (text, None):
                    delta = {"content": chunk} if chunk is not None else {}
                    event = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": body.get("model", "fake"),
                        "choices": [
                            {"index": 0, "delta": delta, "finish_reason": None if chunk else "stop"}
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL to give as CHATWOOTAI_LLM_BASE_URL (`…/v1`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.close()
