"""A turn's trace, as `decide` builds it: plain JSON, the same whoever decides."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.conversation.decision import decide
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.exceptions import CrewError
from hub.turn import HubResult, Retrieved, ToolCall, Turn
from tests.conftest import SAMPLE_DOMAINS

OPEN_HOURS = datetime(2026, 11, 26, 10, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.fixture(scope="module")
def health() -> Domain:
    return DomainRegistry(SAMPLE_DOMAINS).get("health")


def answered(turn: Turn) -> HubResult:
    return HubResult(
        reply="Temos horário sexta às 08:00.",
        route="scheduling",
        routed_by="classifier",
        route_confidence=0.93351,
        crew_seconds=0.2,
        usage={"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
        rejections=("unsupported_fact",),
        source="retry",
        calls=(
            ToolCall(
                "appointment_slots",
                {"who": "dermatologista", "when": datetime(2026, 12, 4)},
                "slots",
                "Horários livres: sexta 08:00",
            ),
            ToolCall("order_status", {"number": "X"}, error="OperationalError: down"),
        ),
        retrieved=(Retrieved("knowledge/clinica.md", "Endereço", 3.21, "Rua A, 100", "offline"),),
        model="openai/qwen",
        cost_usd=0.0004,
    )


def test_a_crew_turn_traces_route_sources_tools_gate_tokens_and_cost(health: Domain) -> None:
    decision = decide(health, Turn("Tem horário amanhã?", now=OPEN_HOURS), answered)
    trace = decision.trace
    assert json.loads(json.dumps(trace)) == trace  # JSON types only
    assert (trace["route"], trace["routed_by"], trace["route_confidence"]) == (
        "scheduling",
        "classifier",
        0.9335,
    )
    assert trace["passages"] == [
        {
            "source": "knowledge/clinica.md",
            "heading": "Endereço",
            "score": 3.21,
            "by": "offline",
            "text": "Rua A, 100",
        }
    ]
    slots, failed = trace["tools"]
    assert slots["tool"] == "appointment_slots"
    assert slots["arguments"] == {"who": "dermatologista", "when": "2026-12-04 00:00:00"}
    assert (slots["kind"], slots["error"]) == ("slots", None)
    assert failed["error"] == "OperationalError: down"
    assert trace["gate"] == {"rejections": ["unsupported_fact"], "retried": True, "source": "retry"}
    assert trace["tokens"] == {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    assert (trace["model"], trace["cost_usd"]) == ("openai/qwen", 0.0004)
    assert trace["handoff"] is None
    assert trace["seconds"] >= 0


def test_an_emergency_is_traced_as_a_rule_handoff_without_a_model(health: Domain) -> None:
    def never(turn: Turn) -> HubResult:
        raise AssertionError("the crew must not run")

    trace = decide(health, Turn("Estou com dor no peito", now=OPEN_HOURS), never).trace
    assert trace["routed_by"] == "rule"
    assert trace["handoff"] == {"kind": "rule", "reason": "regra emergencia", "urgent": True}
    assert (trace["model"], trace["tools"], trace["passages"]) == ("", [], [])


def test_a_crew_failure_is_traced_with_its_label_and_error(health: Domain) -> None:
    def broken(turn: Turn) -> HubResult:
        raise CrewError("no reply")

    trace = decide(health, Turn("Qual o endereço?", now=OPEN_HOURS), broken).trace
    assert trace["failure"] == "crew_error"
    assert trace["error"] == "CrewError: no reply"
    assert trace["handoff"]["kind"] == "failure"
