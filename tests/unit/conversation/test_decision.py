"""The one decision of a turn: rules, requests, offers, misses and the crew, with a stand-in crew.

The crew is the decision's only input that is not data, so these tests pass a
function in its place; the real HubCrew is exercised by the worker, chat and
story tests (tests/integration/workers/test_one_decision.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.conversation.decision import (
    FAILURE_REASON,
    UNANSWERED_REASON,
    UNHEARD_REASON,
    UNSEEN_REASON,
    decide,
    failure_kind,
    is_miss,
)
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.exceptions import CrewError, ModelTimeoutError
from hub.turn import HubResult, Turn
from tests.conftest import SAMPLE_DOMAINS

OPEN_HOURS = datetime(2026, 11, 26, 10, 30, tzinfo=ZoneInfo("America/Sao_Paulo"))  # Thursday


@pytest.fixture(scope="module")
def registry() -> DomainRegistry:
    return DomainRegistry(SAMPLE_DOMAINS)


@pytest.fixture
def health(registry: DomainRegistry) -> Domain:
    return registry.get("health")


def replying(text: str, **fields: object) -> Callable[[Turn], HubResult]:
    """A crew that answers `text` (and counts its calls in `.calls`)."""

    def crew(turn: Turn) -> HubResult:
        crew.calls.append(turn)  # type: ignore[attr-defined]
        return HubResult(
            reply=text,
            route=str(fields.get("route", "support")),
            routed_by="classifier",
            route_confidence=1.0,
            crew_seconds=0.01,
            handoff_reason=fields.get("handoff_reason"),  # type: ignore[arg-type]
            tool_failures=tuple(fields.get("tool_failures", ())),  # type: ignore[call-overload]
            usage={"prompt_tokens": 10, "completion_tokens": 5},
        )

    crew.calls = []  # type: ignore[attr-defined]
    return crew


def raising(error: Exception) -> Callable[[Turn], HubResult]:
    def crew(turn: Turn) -> HubResult:
        raise error

    return crew


def turn(text: str) -> Turn:
    return Turn(message=text, now=OPEN_HOURS)


def test_an_emergency_is_answered_by_its_rule_without_running_the_crew(health: Domain) -> None:
    crew = replying("never said")
    decision = decide(health, turn("Estou com dor no peito e falta de ar"), crew)
    assert "192" in decision.draft.text  # SAMU
    assert decision.draft.hands_off and decision.draft.kind == "rule"
    assert decision.draft.urgent
    assert not decision.crew_ran and crew.calls == []  # type: ignore[attr-defined]
    assert decision.recorded_route == "handoff"


def test_asking_for_a_person_hands_off_with_the_handoff_message(health: Domain) -> None:
    decision = decide(health, turn("quero falar com um atendente"), replying("never said"))
    assert decision.draft.kind == "customer_asked"
    assert decision.draft.text == health.spec.messages.handoff


def test_a_real_answer_resets_the_count_of_misses(health: Domain) -> None:
    decision = decide(health, turn("Vocês aceitam Hapvida?"), replying("Sim."), misses=1)
    assert decision.draft.text == "Sim." and not decision.draft.hands_off
    assert decision.misses == 0 and not decision.miss
    assert decision.recorded_route == "support"
    assert decision.usage == {"prompt_tokens": 10, "completion_tokens": 5}


def test_a_first_miss_is_said_and_counted(health: Domain) -> None:
    unknown = health.spec.messages.unknown
    decision = decide(health, turn("vocês vendem bicicletas?"), replying(unknown))
    assert decision.draft.text == unknown and not decision.draft.hands_off
    assert decision.miss and decision.misses == 1
    assert decision.foldable


def test_the_second_miss_in_a_row_hands_off_instead(health: Domain) -> None:
    unknown = health.spec.messages.unknown
    decision = decide(health, turn("e patinetes?"), replying(unknown), misses=1)
    assert decision.draft.kind == "unanswered"
    assert decision.draft.handoff_reason == f"{UNANSWERED_REASON} 2 vezes seguidas"
    assert decision.draft.text == health.spec.messages.handoff
    assert decision.miss and decision.misses == 2
    assert decision.foldable  # newer messages still send it back to the crew


def test_a_short_yes_after_a_miss_accepts_the_offer_of_a_person(health: Domain) -> None:
    crew = replying("never said")
    decision = decide(health, turn("sim, por favor"), crew, misses=1)
    assert decision.draft.kind == "customer_asked"
    assert "aceitou a oferta" in (decision.draft.handoff_reason or "")
    assert crew.calls == []  # type: ignore[attr-defined]


def test_a_short_yes_with_no_offer_goes_to_the_crew(health: Domain) -> None:
    decision = decide(health, turn("sim, por favor"), replying("Certo!"), misses=0)
    assert decision.draft.text == "Certo!" and not decision.draft.hands_off


def test_a_crew_that_raises_ends_in_the_fallback_and_a_handoff(health: Domain) -> None:
    decision = decide(health, turn("Qual o endereço?"), raising(ModelTimeoutError("slow")))
    assert decision.draft.text == health.spec.messages.fallback
    assert decision.draft.kind == "failure"
    assert (decision.draft.handoff_reason or "").startswith(f"{FAILURE_REASON}: ")
    assert decision.failure == "model_timeout"
    assert decision.error == "ModelTimeoutError: slow"
    assert not decision.foldable


def test_a_failed_tool_ends_in_the_fallback_and_a_handoff_keeping_the_route(
    health: Domain,
) -> None:
    crew = replying("Seu horário é às 10h.", route="scheduling", tool_failures=["slots: down"])
    decision = decide(health, turn("tem horário amanhã?"), crew)
    assert decision.draft.text == health.spec.messages.fallback
    assert decision.draft.kind == "failure" and decision.failure == "tool_error"
    assert "ferramenta indisponível: slots: down" in (decision.draft.handoff_reason or "")
    assert decision.route == "scheduling" and decision.recorded_route == "handoff"


def test_a_crew_that_asks_for_a_person_keeps_the_count_of_misses(health: Domain) -> None:
    crew = replying("Vou chamar a equipe.", handoff_reason="reclamação formal")
    decision = decide(health, turn("quero reclamar"), crew, misses=1)
    assert decision.draft.kind == "crew" and decision.misses == 1
    assert not decision.foldable


def test_a_crew_failure_is_named_by_what_went_wrong() -> None:
    wrapped = ConnectionError("Failed to connect: Request timed out.")
    wrapped.__cause__ = TimeoutError("timed out")
    assert failure_kind(wrapped) == "model_timeout"
    assert failure_kind(CrewError("empty reply")) == "crew_error"
    assert failure_kind(RuntimeError("provider said no")) == "model_error"


@pytest.fixture
def cosmetics(registry: DomainRegistry) -> Domain:
    return registry.get("cosmetics")


def test_a_miss_is_recognised_whatever_a_plugin_puts_around_it(cosmetics: Domain) -> None:
    unknown = cosmetics.spec.messages.unknown
    signed = f"Bom dia, Maria! {unknown}\n\nEquipe Bela Pele"  # personalization's after_crew
    assert is_miss(cosmetics, signed)
    decision = decide(cosmetics, turn("vocês vendem bicicletas?"), replying(signed), misses=1)
    assert decision.miss and decision.draft.kind == "unanswered"


def test_a_reply_that_only_quotes_part_of_the_unknown_message_is_no_miss(
    cosmetics: Domain,
) -> None:
    assert not is_miss(cosmetics, "Não encontrei essa informação, mas o frete é grátis.")


def voice_note_turn() -> Turn:
    return Turn(message="[áudio]", now=OPEN_HOURS, media_only=True, unheard_audio=True)


def test_a_voice_note_nobody_heard_asks_the_customer_to_write_without_the_crew(
    health: Domain,
) -> None:
    crew = replying("never said")
    decision = decide(health, voice_note_turn(), crew)
    assert decision.draft.text == health.spec.messages.audio_unsupported
    assert not decision.draft.hands_off
    assert decision.miss and decision.misses == 1
    assert crew.calls == []  # type: ignore[attr-defined]
    assert not decision.foldable


def test_a_second_voice_note_nobody_heard_hands_off(health: Domain) -> None:
    decision = decide(health, voice_note_turn(), replying("never said"), misses=1)
    assert decision.draft.kind == "unanswered"
    assert decision.draft.handoff_reason == f"{UNHEARD_REASON} (2 vezes seguidas)"
    assert decision.draft.text == health.spec.messages.handoff


def test_words_beside_an_unheard_voice_note_go_to_the_crew(health: Domain) -> None:
    spoken = Turn(message="oi [áudio]", now=OPEN_HOURS, media_only=False, unheard_audio=True)
    assert decide(health, spoken, replying("Olá!")).draft.text == "Olá!"


def test_a_picture_alone_to_a_model_that_cannot_see_asks_for_a_description(
    health: Domain,
) -> None:
    picture = Turn(message="[imagem]", now=OPEN_HOURS, media_only=True, images=("http://x/a.jpg",))
    decision = decide(health, picture, replying("never said"))
    assert decision.draft.text == health.spec.messages.image_unsupported
    assert decision.miss
    again = decide(health, picture, replying("never said"), misses=1)
    assert again.draft.handoff_reason == f"{UNSEEN_REASON} (2 vezes seguidas)"


def test_a_picture_goes_to_the_crew_when_the_model_sees_it(health: Domain) -> None:
    picture = Turn(
        message="[imagem]",
        now=OPEN_HOURS,
        media_only=True,
        images=("http://x/a.jpg",),
        sees_images=True,
    )
    assert decide(health, picture, replying("É um protetor solar.")).draft.text == (
        "É um protetor solar."
    )


def test_a_miss_beside_a_picture_the_model_did_not_see_asks_for_a_description(
    health: Domain,
) -> None:
    captioned = Turn(message="quanto custa isso? [imagem]", now=OPEN_HOURS, images=("http://x/a",))
    decision = decide(health, captioned, replying(health.spec.messages.unknown))
    assert decision.draft.text == health.spec.messages.image_unsupported
    assert decision.miss and decision.misses == 1
    answered = decide(health, captioned, replying("Custa R$ 10,00."))
    assert answered.draft.text == "Custa R$ 10,00." and not answered.miss


def test_an_english_customer_asking_for_a_person_is_answered_in_english(health: Domain) -> None:
    decision = decide(health, turn("Can I talk to a human, please?"), replying("never said"))
    assert decision.draft.kind == "customer_asked"
    assert decision.draft.text == health.spec.messages.handoff.in_language("en")
    assert decision.draft.text.startswith("Sure!")


def test_an_emergency_in_english_gets_the_rule_s_english_reply(health: Domain) -> None:
    decision = decide(health, turn("I have chest pain"), replying("never said"))
    assert decision.draft.hands_off and decision.draft.urgent
    assert "192" in decision.draft.text and "emergency" in decision.draft.text


def test_after_hours_the_english_message_says_when_in_english(health: Domain) -> None:
    sunday = datetime(2026, 11, 29, 15, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
    decision = decide(health, Turn(message="I want to talk to a person", now=sunday), replying("x"))
    assert decision.draft.text.startswith("Thanks for your message!")
    assert "tomorrow at 07:00" in decision.draft.text


def test_a_crew_failure_is_apologised_for_in_spanish_to_a_spanish_customer(
    health: Domain,
) -> None:
    decision = decide(health, turn("¿Cuánto cuesta la consulta?"), raising(CrewError("boom")))
    assert decision.draft.text == health.spec.messages.fallback.in_language("es")


def test_an_english_unknown_reply_is_a_miss_like_the_portuguese_one(health: Domain) -> None:
    english = health.spec.messages.unknown.in_language("en")
    decision = decide(health, turn("What about parking?"), replying(english))
    assert decision.miss and decision.misses == 1


def test_a_message_with_no_language_keeps_the_conversation_s_language(health: Domain) -> None:
    offer = health.spec.messages.unknown.in_language("en")
    history = (("customer", "Is there parking at the clinic?"), ("bot", offer))
    accepted = Turn(message="ok", history=history, now=OPEN_HOURS)
    decision = decide(health, accepted, replying("never said"), misses=1)
    assert decision.draft.kind == "customer_asked"
    assert decision.draft.text == health.spec.messages.handoff.in_language("en")


def test_a_domain_over_a_limit_says_so_and_hands_off_without_running_the_crew(
    health: Domain,
) -> None:
    crew = replying("never said")
    decision = decide(health, turn("Quanto custa a consulta?"), crew, limited="tokens_per_day")
    assert decision.draft.text == health.spec.messages.limit
    assert decision.draft.kind == "limit" and decision.limited == "tokens_per_day"
    assert "tokens_per_day" in (decision.draft.handoff_reason or "")
    assert crew.calls == []  # type: ignore[attr-defined]


def test_an_emergency_is_still_answered_by_its_rule_over_a_limit(health: Domain) -> None:
    decision = decide(
        health, turn("Estou com dor no peito e falta de ar"), replying("x"), limited="x"
    )  # type: ignore[arg-type]
    assert decision.draft.kind == "rule" and decision.limited is None
