"""A small domain tree written per test, to break one thing at a time."""

from __future__ import annotations

import textwrap
from pathlib import Path

BASE_DOMAIN = """\
name: Base
messages:
  fallback: Desculpe, tive um problema.
  handoff: Vou chamar uma pessoa.
  after_hours: Voltamos {next_open}.
  unknown: Não sei responder.
handoff:
  keywords: [atendente, humano]
  labels: [bot]
routing:
  default: support
  routes:
    support:
      crew: support
      description: Dúvidas gerais
      examples: [Qual o horário?]
"""

HUB_CREW = """\
agents:
  router:
    role: Recepcionista
    goal: Escolher a rota
    backstory: Conhece as rotas.
tasks:
  route:
    description: |
      Rotas: {routes}
      Mensagem: {message}
    expected_output: O nome da rota.
    agent: router
"""

SUPPORT_CREW = """\
agents:
  helper:
    role: Atendente da {business_name}
    goal: Responder
    backstory: Conhece a loja.
    tools: [knowledge_search]
tasks:
  answer:
    description: "Cliente: {message}"
    expected_output: Uma resposta.
    agent: helper
"""

SHOP_DOMAIN = """\
extends: _base
name: Loja
chatwoot:
  account_id: 7
  inbox_ids: [70, 71]
"""


class DomainTree:
    """Writes domain files under a temporary `domains/` folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        """Write `text` (dedented) at `domains/<relative>`; returns the path."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def minimal(self) -> DomainTree:
        """A valid tree: `_base` (template with hub and support crews) and `shop`."""
        self.write("_base/domain.yaml", BASE_DOMAIN)
        self.write("_base/crews/hub.yaml", HUB_CREW)
        self.write("_base/crews/support.yaml", SUPPORT_CREW)
        self.write("shop/domain.yaml", SHOP_DOMAIN)
        return self
