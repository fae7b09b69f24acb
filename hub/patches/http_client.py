"""Python 3.11's `http.client.parse_headers`, faster, for the response of every Chatwoot call.

The standard library reads a response's header block and hands it to the `email`
package's feed parser, built for mail messages: a parser object, a line splitter
and a policy for every response. Measured in a worker, that was half the CPU
of a reply's POST to Chatwoot.

`parse_headers` here builds the same `HTTPMessage` directly when the block is
plain (every line `Name: value`, a name of visible characters, no folded
continuation lines, no stray carriage return, a blank line at the end), the way
the feed parser does for such a block: `set_raw(name, value)` with the value's
leading blanks and line end stripped, and an empty payload. Anything else goes
to the standard parser, so unusual headers behave exactly as before. Installed,
it is `http.client`'s, which urllib3 (the Chatwoot client) reads responses
through; the tests compare both parsers on generated header blocks.
"""

from __future__ import annotations

import email.parser
import http.client
import re
from typing import Any

from hub.patches.patch import PYTHON, Patch

_standard_parse_headers = http.client.parse_headers

_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")
"""A header name the feed parser takes as one (its `headerRE`): visible ASCII, no colon."""

_END = (b"\r\n", b"\n", b"")


def parse_headers(
    fp: Any, _class: type[http.client.HTTPMessage] = http.client.HTTPMessage
) -> http.client.HTTPMessage:
    """`http.client.parse_headers`, the same message built without the email parser."""
    lines = _read_lines(fp)
    if lines[-1] == b"":  # the connection ended inside the header block
        return _standard(lines, _class)
    message = _class()
    for raw in lines[:-1]:
        line = raw.decode("iso-8859-1")
        body = line[:-2] if line.endswith("\r\n") else line[:-1]
        name, colon, value = body.partition(":")
        if not colon or "\r" in body or _NAME.fullmatch(name) is None:
            return _standard(lines, _class)
        message.set_raw(name, value.lstrip(" \t"))
    message.set_payload("")
    return message


def _install() -> None:
    http.client.parse_headers = parse_headers  # type: ignore[assignment]


def _remove() -> None:
    http.client.parse_headers = _standard_parse_headers


PARSE_HEADERS = Patch(
    "http.client.parse_headers",
    package=PYTHON,
    version="3.11",
    module="http.client",
    summary="response headers are parsed without the email package when the block is plain",
    install=_install,
    remove=_remove,
)
"""`http.client` (and urllib3 through it) parses response headers with `parse_headers`."""


def _read_lines(fp: Any) -> list[bytes]:
    """The header block's lines, the blank one included: `http.client`'s own reading,
    with its limits on line length and count."""
    lines: list[bytes] = []
    while True:
        line = fp.readline(http.client._MAXLINE + 1)  # type: ignore[attr-defined]
        if len(line) > http.client._MAXLINE:  # type: ignore[attr-defined]
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > http.client._MAXHEADERS:  # type: ignore[attr-defined]
            raise http.client.HTTPException(
                f"got more than {http.client._MAXHEADERS} headers"  # type: ignore[attr-defined]
            )
        if line in _END:
            return lines


def _standard(lines: list[bytes], _class: type[http.client.HTTPMessage]) -> http.client.HTTPMessage:
    """What `http.client.parse_headers` returns for these lines."""
    text = b"".join(lines).decode("iso-8859-1")
    return email.parser.Parser(_class=_class).parsestr(text)
