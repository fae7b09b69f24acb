"""The prompt labels of a domain's crew tasks, checked against what the offline model reads.

The built-in offline model (`hub.offline.prompt`) finds the customer's message and
the conversation so far in a task's text by their labels (`hub.domains.vocabulary`):
`{message}` on or right under a message label ("Mensagem do cliente:"), and
`{history}` alone on the line under a history label ("Conversa até aqui:"), above
the message label, where the history ends. A task written otherwise still works
with a real model, so what this module finds are warnings (`PromptLabelWarning`),
each with the file, line and key of the task text; the domain stays valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from hub.domains.schema import DomainSpec
from hub.domains.source import KeyPath, SourceDocument, format_key_path
from hub.domains.vocabulary import HISTORY_LABEL, HISTORY_LABELS, MESSAGE_LABEL, MESSAGE_LABELS
from hub.exceptions import PromptLabelWarning

MESSAGE = "{message}"
HISTORY = "{history}"

_LITERAL_BLOCK = re.compile(r":[ \t]*\|[-+0-9]*[ \t]*(#.*)?$")
"""A key whose value is a literal block (`description: |`): its lines follow one by one."""


def label_warnings(spec: DomainSpec, document: SourceDocument) -> list[PromptLabelWarning]:
    """Every task text of the domain's crews whose labels the offline model would miss."""
    found: list[PromptLabelWarning] = []
    for crew_name, crew in spec.crews.items():
        for task_name, task in crew.tasks.items():
            path: KeyPath = ("crews", crew_name, "tasks", task_name, "description")
            for index, message, expected in problems(task.description):
                found.append(_warning(document, path, index, message, expected))
    return found


def problems(text: str) -> Iterator[tuple[int, str, str]]:
    """(line index, what is wrong, what would be read) for each misplaced label in `text`."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if MESSAGE in line and not _after_message_label(lines, index):
            yield (
                index,
                f"the offline model reads the customer's message after a label, and "
                f"{line.strip()!r} has none",
                f"{MESSAGE} on the line of, or right under, one of: {', '.join(MESSAGE_LABELS)}",
            )
        if HISTORY not in line:
            continue
        if not _under_history_label(lines, index):
            yield (
                index,
                f"the offline model reads the history on the lines under a label, and "
                f"{line.strip()!r} is not there",
                f"{HISTORY} alone on the line under one of: {', '.join(HISTORY_LABELS)}",
            )
        elif not any(MESSAGE_LABEL.match(later) for later in lines[index + 1 :]):
            yield (
                index,
                "the offline model reads the history up to the message label, and none "
                f"follows {HISTORY}",
                f"a message label below the history: {', '.join(MESSAGE_LABELS)}",
            )


def _after_message_label(lines: list[str], index: int) -> bool:
    """ "Mensagem do cliente: {message}", or the label alone on the line above."""
    before = lines[index].split(MESSAGE, 1)[0]
    if MESSAGE_LABEL.match(before):
        return True
    above = _line_above(lines, index)
    return above is not None and bool(
        (match := MESSAGE_LABEL.match(above)) and not above[match.end() :].strip()
    )


def _under_history_label(lines: list[str], index: int) -> bool:
    above = _line_above(lines, index)
    return (
        lines[index].strip() == HISTORY
        and above is not None
        and HISTORY_LABEL.match(above + "\n") is not None
    )


def _line_above(lines: list[str], index: int) -> str | None:
    """The nearest line above `index` that is not blank."""
    return next((line for line in reversed(lines[:index]) if line.strip()), None)


def _warning(
    document: SourceDocument, path: KeyPath, index: int, message: str, expected: str
) -> PromptLabelWarning:
    """The warning, at the line of the task text itself when the text is a literal block."""
    position = document.position_of(path)
    line = position.line if position else None
    if position is not None and _is_literal_block(position.file.read_text(encoding="utf-8"), line):
        line = position.line + 1 + index
    return PromptLabelWarning(
        message,
        file=position.file if position else None,
        line=line,
        key_path=format_key_path(path),
        expected=expected,
    )


def _is_literal_block(source: str, line: int | None) -> bool:
    lines = source.splitlines()
    return (
        line is not None and 0 < line <= len(lines) and bool(_LITERAL_BLOCK.search(lines[line - 1]))
    )
