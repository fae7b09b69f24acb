"""Each tool call of a turn written down for its trace: arguments, result, error."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from hub.turn import ToolCall, TurnContext

SUMMARY_CHARS = 240
"""How much of a result's text the call's record keeps."""


def traced(tool: Any, context: TurnContext) -> Any:
    """`tool` (a CrewAI BaseTool of this turn) with its `_run` recording each call in
    `context.calls`; the call itself is unchanged, its errors raised as they were.

    Set on the instance before CrewAI turns the tool into its structured form, which
    keeps a reference to `_run`: every path CrewAI calls a tool by goes through it.
    """
    run: Callable[..., Any] | None = getattr(tool, "_run", None)
    if run is None:  # not a BaseTool (a plugin's own kind): CrewAI's business, untraced
        return tool

    @functools.wraps(run)
    def recorded(*args: Any, **kwargs: Any) -> Any:
        name = str(getattr(tool, "name", type(tool).__name__))
        arguments = dict(kwargs)
        if args:
            arguments["args"] = list(args)
        seen = len(context.results)
        try:
            answer = run(*args, **kwargs)
        except Exception as error:
            context.calls.append(
                ToolCall(name, arguments, error=f"{type(error).__name__}: {str(error)[:200]}")
            )
            raise
        fresh = context.results[seen:]
        kind = fresh[-1].kind if fresh else ""
        context.calls.append(ToolCall(name, arguments, kind, str(answer)[:SUMMARY_CHARS]))
        return answer

    object.__setattr__(tool, "_run", recorded)
    return tool
