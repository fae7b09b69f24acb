"""Markdown knowledge documents cut into chunks, one per section, and chunks into sentences.

A section under a heading is the natural unit of a FAQ-like document: it is
about one thing, and its heading path ("Entregas > Frete") says what. Long
sections are cut on paragraph boundaries so no chunk is much over MAX_CHARS;
what is left over and tiny joins the piece before it. Each chunk keeps the file
it came from (relative to the domain folder) and a content hash, so an index
(BM25 now, a vector store later) can tell when a chunk changed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hub.exceptions import ConfigurationError

MAX_CHARS = 1200
"""A section longer than this is cut on paragraphs (a paragraph longer, on sentences)."""

MIN_CHARS = 200
"""A cut-off piece shorter than this is merged into the piece before it."""

HEADING_SEPARATOR = " > "

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*\s+")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_HTML_TAG = re.compile(r"<[^>]+>")
_ABBREVIATIONS = frozenset((
    "dr", "dra", "drs", "dras", "sr", "sra", "srs", "sras", "srta", "prof", "profa", "av", "ex",
    "obs", "tel", "n", "nº", "no", "p", "pag", "pág", "aprox",
))  # fmt: skip


@dataclass(frozen=True)
class Chunk:
    """One passage of a domain's knowledge: where it is from, its heading path and its text."""

    domain_id: str
    source: str
    heading: str
    text: str
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        content = "\x1f".join((self.domain_id, self.source, self.heading, self.text))
        object.__setattr__(self, "sha256", hashlib.sha256(content.encode()).hexdigest())

    @property
    def title(self) -> str:
        """The innermost heading ("Frete" of "Entregas > Frete")."""
        return self.heading.rsplit(HEADING_SEPARATOR, 1)[-1]


@dataclass(frozen=True)
class Sentence:
    """One answerable line of a chunk: a sentence of prose or one bullet item, plain text.

    `intro` marks prose that ends in ":" and introduces the bullets after it.
    """

    text: str
    bullet: bool = False
    intro: bool = False


def chunk_markdown(text: str, *, source: str, domain_id: str) -> list[Chunk]:
    """The chunks of one Markdown document, in document order."""
    chunks: list[Chunk] = []
    for path, body in _sections(text):
        heading = HEADING_SEPARATOR.join(path)
        chunks.extend(
            Chunk(domain_id=domain_id, source=source, heading=heading, text=piece)
            for piece in _pieces(body)
        )
    return chunks


def load_chunks(domain_id: str, directory: Path, patterns: Iterable[str]) -> list[Chunk]:
    """Every chunk of a domain's knowledge files (its `knowledge.paths` globs, relative to
    its folder), sorted by file.

    A pattern may only reach files inside the domain's own folder: one business's
    documents must never feed another's answers.
    """
    root = directory.resolve()
    files: dict[str, Path] = {}
    for pattern in patterns:
        for path in sorted(directory.glob(pattern)):
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                raise ConfigurationError(
                    f"knowledge path {pattern!r} reaches outside the domain folder",
                    file=path,
                    key_path="knowledge.paths",
                    expected="files inside the domain's own folder",
                )
            if resolved.is_file():
                files.setdefault(resolved.relative_to(root).as_posix(), resolved)
    chunks: list[Chunk] = []
    for source, path in sorted(files.items()):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigurationError(
                f"knowledge file cannot be read: {error}", file=path, expected="UTF-8 text"
            ) from error
        chunks.extend(chunk_markdown(text, source=source, domain_id=domain_id))
    return chunks


def sentences(text: str) -> list[Sentence]:
    """The sentences and bullet items of a chunk's text, Markdown removed, in order."""
    found: list[Sentence] = []
    for paragraph in _PARAGRAPH_BREAK.split(text.strip()):
        for item, bullet in _items(paragraph):
            if bullet:
                found.append(Sentence(item, bullet=True))
            else:
                found.extend(Sentence(sentence) for sentence in split_sentences(item))
    return [
        Sentence(s.text, s.bullet, intro=True)
        if not s.bullet and s.text.endswith(":") and i + 1 < len(found) and found[i + 1].bullet
        else s
        for i, s in enumerate(found)
    ]


def split_sentences(text: str) -> list[str]:
    """Prose cut after . ! ? when a capital or digit follows, not after "Dra." or "Av."."""
    text = " ".join(text.split())
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if end >= len(text) or not (text[end].isupper() or text[end].isdigit()):
            continue
        words = text[start : match.start()].split()
        last = words[-1].lower().rstrip(".") if words else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            continue
        pieces.append(text[start:end].strip())
        start = end
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


def plain(text: str) -> str:
    """Markdown inline syntax removed: links keep their text, no emphasis marks, no tags."""
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    return _EMPHASIS.sub("", text).strip()


def _sections(text: str) -> list[tuple[tuple[str, ...], str]]:
    """(heading path, body) for every heading with text under it, plus any text before."""
    lines = _without_front_matter(text).splitlines()
    stack: list[tuple[int, str]] = []
    body: list[str] = []
    sections: list[tuple[tuple[str, ...], str]] = []
    in_fence = False

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            sections.append((tuple(title for _, title in stack), content))
        body.clear()

    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            body.append(line)
            continue
        flush()
        level = len(heading[1])
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, plain(heading[2])))
    flush()
    return sections


def _without_front_matter(text: str) -> str:
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            return text[end + 4 :]
    return text


def _pieces(body: str) -> list[str]:
    """A section body cut into pieces of at most about MAX_CHARS, on paragraph boundaries."""
    if len(body) <= MAX_CHARS:
        return [body]
    units: list[str] = []
    for paragraph in _PARAGRAPH_BREAK.split(body):
        paragraph = paragraph.strip()
        if len(paragraph) <= MAX_CHARS:
            units.append(paragraph)
        else:
            units.extend(_long_paragraph(paragraph))
    pieces: list[str] = []
    for unit in units:
        if pieces and len(pieces[-1]) + 2 + len(unit) <= MAX_CHARS:
            pieces[-1] += "\n\n" + unit
        else:
            pieces.append(unit)
    if len(pieces) > 1 and len(pieces[-1]) < MIN_CHARS:
        tail = pieces.pop()
        pieces[-1] += "\n\n" + tail
    return pieces


def _long_paragraph(paragraph: str) -> list[str]:
    """A paragraph over MAX_CHARS as runs of whole lines (bullets) or sentences."""
    lines = paragraph.splitlines()
    parts = lines if len(lines) > 1 and any(_BULLET.match(x) for x in lines) else None
    parts = parts or split_sentences(paragraph)
    runs: list[str] = []
    separator = "\n" if len(lines) > 1 and parts is lines else " "
    for part in parts:
        while len(part) > MAX_CHARS:  # one enormous sentence: cut it, there is no better place
            runs.append(part[:MAX_CHARS])
            part = part[MAX_CHARS:]
        if runs and len(runs[-1]) + len(separator) + len(part) <= MAX_CHARS:
            runs[-1] += separator + part
        else:
            runs.append(part)
    return runs


def _items(paragraph: str) -> list[tuple[str, bool]]:
    """A paragraph as (text, is_bullet) items; wrapped lines joined, tables row by row.

    As in Markdown, a line that is not a bullet continues the item before it.
    """
    items: list[tuple[list[str], bool]] = []
    table_row = False
    for line in paragraph.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("|"):
            cells = [cell.strip() for cell in stripped.strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):  # skip |---|---|
                items.append(([" — ".join(cell for cell in cells if cell)], True))
            table_row = True
            continue
        bullet = _BULLET.match(line)
        if bullet:
            items.append(([bullet[1]], True))
        elif items and not table_row:
            items[-1][0].append(stripped)
        else:
            items.append(([stripped], False))
        table_row = False
    return [(plain(" ".join(parts)), bullet) for parts, bullet in items]
