"""The fast header parser gives what the standard library's gives, for any header block."""

from __future__ import annotations

import email.parser
import http.client
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.patches import http_client
from hub.patches.http_client import PARSE_HEADERS
from tests.patch_kit import installed, removed

CHATWOOT_RESPONSE = (
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Connection: keep-alive\r\n"
    b"X-Frame-Options: SAMEORIGIN\r\n"
    b"Cache-Control: max-age=0, private, must-revalidate\r\n"
    b'ETag: W/"8d0c1e5f2b"\r\n'
    b"Set-Cookie: a=1; path=/\r\n"
    b"Set-Cookie: b=2; path=/\r\n"
    b"X-Request-Id: 4a1d6a0e-3b0f-4a57-9d0c-2c6e1c0b5f1e\r\n"
    b"X-Runtime: 0.041377\r\n"
    b"\r\n"
    b'{"id": 1}'
)


def standard(block: bytes | io.BytesIO) -> http.client.HTTPMessage:
    """What Python's own `http.client.parse_headers` returns (its two steps, inlined)."""
    lines = []
    fp = io.BytesIO(block) if isinstance(block, bytes) else block
    while True:
        line = fp.readline(65537)
        lines.append(line)
        if line in (b"\r\n", b"\n", b""):
            break
    text = b"".join(lines).decode("iso-8859-1")
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)  # type: ignore[return-value]


def described(message: http.client.HTTPMessage) -> tuple[object, ...]:
    return (
        message.items(),
        message.get_payload(),
        [type(defect) for defect in message.defects],
        message.get_unixfrom(),
        message.get_content_type(),
        message.get_all("set-cookie"),
    )


def test_a_chatwoot_response_parses_alike_and_leaves_the_body_to_read() -> None:
    fp = io.BytesIO(CHATWOOT_RESPONSE)
    fast = http_client.parse_headers(fp)
    assert described(fast) == described(standard(CHATWOOT_RESPONSE))
    assert fast.get_all("Set-Cookie") == ["a=1; path=/", "b=2; path=/"]
    assert fast["content-type"] == "application/json; charset=utf-8"
    assert fp.read() == b'{"id": 1}'


@pytest.mark.parametrize(
    "block",
    [
        b"X-Folded: first\r\n  second line\r\n\r\n",  # obsolete line folding
        b"Bad Name: value\r\n\r\n",  # a space in the name ends the header block
        b": no name\r\n\r\n",
        b"no colon at all\r\n\r\n",
        b"From nobody Mon Jan 1 00:00:00 2026\r\nX-A: 1\r\n\r\n",
        b"X-Stray: a\rb\r\n\r\n",
        b"X-Cut: the connection closed here",
        b"X-Latin: caf\xe9\n\n",
    ],
)
def test_unusual_header_blocks_parse_exactly_as_the_standard_library_does(block: bytes) -> None:
    assert described(http_client.parse_headers(io.BytesIO(block))) == described(standard(block))


visible_name = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=0, max_size=12
)
any_name = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=8)
value = st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=30)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(visible_name, any_name),
            value,
            st.sampled_from(["\r\n", "\n"]),
            st.sampled_from([": ", ":", ":\t", ""]),
        ),
        max_size=8,
    ),
    st.sampled_from(["\r\n", "\n", ""]),
)
def test_any_header_block_parses_as_the_standard_library_parses_it(
    fields: list[tuple[str, str, str, str]], end: str
) -> None:
    text = "".join(f"{name}{colon}{val}{eol}" for name, val, eol, colon in fields) + end
    if "\n\n" in text or "\r\n\r\n" in text:  # a blank line would end the block early
        return
    block = text.encode("iso-8859-1") + b"body"
    fast_fp, standard_fp = io.BytesIO(block), io.BytesIO(block)
    assert described(http_client.parse_headers(fast_fp)) == described(standard(standard_fp))
    assert fast_fp.read() == standard_fp.read()


def test_installing_it_makes_http_client_use_it() -> None:
    with installed(PARSE_HEADERS):
        assert http.client.parse_headers is http_client.parse_headers


def test_removing_it_gives_http_client_the_standard_parser_back() -> None:
    with removed(PARSE_HEADERS):
        assert http.client.parse_headers.__module__ == "http.client"  # the stdlib's own
