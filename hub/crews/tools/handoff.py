"""`handoff`: the agent decides a human should take the conversation."""

from __future__ import annotations

from typing import Any

from crewai.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

from hub.turn import HandoffData, ToolResult, TurnContext


class HandoffRequest(BaseModel):
    reason: str = Field(description="por que uma pessoa da equipe deve assumir")


class HandoffTool(BaseTool):
    """Records the decision; the worker tells the customer and opens the conversation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "handoff"
    description: str = (
        "Transfere a conversa para uma pessoa da equipe. Use quando o cliente pedir um "
        "atendente, quando não houver resposta nos documentos, ou em reclamações sérias."
    )
    args_schema: type[BaseModel] = HandoffRequest
    context: TurnContext

    def _run(self, reason: str, **_: Any) -> str:
        self.context.tool_calls.append(self.name)
        self.context.handoff_reason = reason
        text = "Transferência registrada. Diga ao cliente que uma pessoa da equipe vai continuar."
        self.context.returned(ToolResult(self.name, HandoffData(reason), text))
        return text
