"""`knowledge_search`: passages of the domain's own knowledge documents (hybrid search in
the knowledge base, `hub.knowledge.base`)."""

from __future__ import annotations

from typing import Any

from crewai.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

from hub.knowledge.base import DomainKnowledge
from hub.turn import PassageData, PassagesData, Retrieved, ToolResult, TurnContext

RESULTS = 4
SHOWN = "[{source} — {heading}] (o mesmo trecho que já está acima)"
"""A passage the turn's prompt already holds (a real model's grounding), named only: the
model has read it, and reading it again costs the server its whole length."""


class KnowledgeQuery(BaseModel):
    query: str = Field(description="o que procurar, em poucas palavras")


class KnowledgeSearchTool(BaseTool):
    """Searches only the current domain's knowledge: it is bound at build time."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "knowledge_search"
    description: str = (
        "Busca trechos dos documentos oficiais da empresa (horários, endereços, preços, "
        "políticas, prazos, produtos). Use antes de responder qualquer fato."
    )
    args_schema: type[BaseModel] = KnowledgeQuery
    index: DomainKnowledge
    context: TurnContext
    shown: frozenset[tuple[str, str]] = frozenset()
    """(source, heading) of the passages already in the prompt."""

    def _run(self, query: str, **_: Any) -> str:
        self.context.tool_calls.append(self.name)
        hits = self.index.search(query, k=RESULTS)
        passages = tuple(
            PassageData(hit.chunk.source, hit.chunk.heading, hit.chunk.text) for hit in hits
        )
        self.context.retrieved.extend(
            Retrieved(hit.chunk.source, hit.chunk.heading, hit.score, hit.chunk.text, self.name)
            for hit in hits
        )
        text = "\n\n".join(
            SHOWN.format(source=p.source, heading=p.heading)
            if (p.source, p.heading) in self.shown
            else f"[{p.source} — {p.heading}]\n{p.text}"
            for p in passages
        )
        text = text or "Nenhum trecho encontrado sobre isso nos documentos da empresa."
        self.context.returned(ToolResult(self.name, PassagesData(query, passages), text))
        return text
