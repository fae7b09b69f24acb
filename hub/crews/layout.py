"""A real model's prompt laid out for the server's prompt cache: the same text first, the
turn's last.

An OpenAI-compatible server such as llama-server keeps the computed state of the prompts
it saw and, for a new prompt, recomputes only what follows the longest prefix it shares
with one of them. Prompt processing is most of a small local model's turn, so a task
whose per-turn values (`hub.domains.vocabulary.TURN_PLACEHOLDERS`: the message, the
history, the time, the customer…) come before its instructions makes the server read
the instructions again on every turn. `stable_first` moves the paragraphs holding such
values after the others, keeping each group's order; the offline model reads the
task as written (by its labels), so only real models get this layout.
"""

from __future__ import annotations

import re

from hub.domains.vocabulary import TURN_PLACEHOLDERS, placeholders_in

_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def stable_first(text: str) -> str:
    """`text` with its paragraphs that use a per-turn placeholder moved to the end.

    A paragraph is text between blank lines; the paragraphs keep their own order within
    the stable and the per-turn groups, so a label stays above its value ("Mensagem do
    cliente:" above `{message}`) and the message stays the last thing the model reads.
    """
    paragraphs = [p for p in _PARAGRAPHS.split(text.strip("\n")) if p.strip()]
    per_turn = [bool(TURN_PLACEHOLDERS.intersection(placeholders_in(p))) for p in paragraphs]
    stable = [p for p, varies in zip(paragraphs, per_turn, strict=True) if not varies]
    turn = [p for p, varies in zip(paragraphs, per_turn, strict=True) if varies]
    return "\n\n".join([*stable, *turn])
