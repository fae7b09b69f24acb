"""Telling a system failure from a customer's mistake inside a tool."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def records_failures(
    *errors: type[BaseException],
) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Decorate a tool's `_run` (the tool has `name` and `context`): these errors (a
    system down, not a customer's typo) are recorded in the turn's context, then raised
    for CrewAI to report to the agent."""

    def decorate(run: Callable[..., str]) -> Callable[..., str]:
        @functools.wraps(run)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> str:
            try:
                return run(self, *args, **kwargs)
            except errors as error:
                self.context.failed(self.name, error)
                raise

        return guarded

    return decorate
