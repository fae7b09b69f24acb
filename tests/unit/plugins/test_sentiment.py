"""The sentiment plugin: a lexicon-and-rules score, its accuracy, and what it flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from hub.turn import Turn
from plugins.sentiment import (
    SentimentSettings,
    analyze,
    before_crew,
    message_received,
    settings_model,
)
from tests.conftest import ROOT

LABELLED = ROOT / "tests" / "fixtures" / "sentiment-labelled.yaml"


def labelled(part: str = "messages") -> list[dict[str, Any]]:
    data: dict[str, list[dict[str, Any]]] = YAML(typ="safe").load(LABELLED)
    return data[part]


def accuracy(messages: list[dict[str, Any]]) -> float:
    return sum(analyze(m["text"]).label == m["label"] for m in messages) / len(messages)


def test_the_labelled_set_is_big_enough_and_covers_both_languages_irony_and_negation() -> None:
    messages = labelled() + labelled("heldout")
    assert len(messages) >= 60
    kinds = {(m["lang"], m["label"]) for m in messages}
    assert kinds == {
        (lang, label) for lang in ("pt", "en") for label in ("positive", "neutral", "negative")
    }
    tags = [tag for m in messages for tag in m.get("tags", [])]
    assert tags.count("irony") >= 8 and tags.count("negation") >= 10


def test_accuracy_on_the_labelled_set_stays_above_its_floor() -> None:
    # The lexicon was tuned on `messages` (97% or better expected there); `heldout`
    # was written afterwards and never tuned on: it is the honest estimate.
    assert accuracy(labelled()) >= 0.9
    assert accuracy(labelled("heldout")) >= 0.8


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Gostei do atendimento", "positive"),
        ("Não gostei do atendimento", "negative"),
        ("O atendimento não foi ruim", "positive"),
        ("not bad at all", "positive"),
        ("I don't like it", "negative"),
    ],
)
def test_a_negation_flips_the_word_it_governs(text: str, label: str) -> None:
    assert analyze(text).label == label


def test_a_negation_does_not_reach_across_a_comma() -> None:
    assert analyze("O atendimento não é bom, demoraram pra responder").label == "negative"


def test_irony_turns_praise_negative() -> None:
    for text in (
        "Adorei esperar uma hora, só que não",
        "Que ótimo, o pedido não chegou",
        "Maravilha 🙄",
        "Great service, not",
    ):
        sentiment = analyze(text)
        assert sentiment.irony and sentiment.label == "negative", text
    assert not analyze("Amei, vou comprar de novo!").irony


def test_what_follows_but_weighs_more() -> None:
    assert analyze("Demorou, mas o produto é excelente").label == "positive"
    assert analyze("O produto é bonito, mas chegou quebrado e estou decepcionada").score < 0


def test_boosters_exclamations_capitals_and_emoji_move_the_score() -> None:
    assert analyze("muito ruim").score < analyze("ruim").score < analyze("meio ruim").score
    assert analyze("ruim!!!").score < analyze("ruim").score
    assert analyze("isso é RUIM").score < analyze("isso é ruim").score
    assert analyze("chegou 😍").label == "positive" and analyze("chegou 😡").label == "negative"


def test_questions_and_greetings_are_neutral() -> None:
    for text in ("Bom dia! Qual o horário?", "Good morning, do you ship to Rio?", "Ok, obrigada"):
        assert analyze(text).label == "neutral", text


def test_a_message_is_scored_well_under_a_millisecond() -> None:
    import time

    text = "Que ótimo, mais uma vez o pedido não chegou 🙄 e ninguém responde, estou furiosa"
    analyze(text)
    started = time.perf_counter()
    for _ in range(200):
        analyze(text)
    assert (time.perf_counter() - started) / 200 < 0.001


def test_a_very_negative_message_is_urgent_labelled_and_scored() -> None:
    config = SentimentSettings(urgent_below=-0.6, label="cliente-insatisfeito")
    signals = message_received(config=config, text="Péssimo atendimento, que absurdo!!!")
    assert signals.urgent and signals.labels == ("cliente-insatisfeito",)
    assert signals.attributes["sentiment"] == "negative"
    assert signals.attributes["sentiment_score"] <= -0.6
    assert signals.handoff_reason is None
    calm = message_received(config=config, text="Qual o horário de sábado?")
    assert not calm.urgent and calm.labels == ()


def test_the_domains_handoff_rule_hands_a_very_unhappy_customer_to_a_human() -> None:
    rule = SentimentSettings(handoff_below=-0.75, handoff_reply="Já chamei a recepção.")
    angry = Turn(message="Que absurdo, péssimo atendimento, estou furiosa!!!")
    verdict = before_crew(config=rule, turn=angry)
    assert verdict is not None and verdict.answers and verdict.urgent
    assert verdict.reply == "Já chamei a recepção."
    assert verdict.handoff_reason and verdict.handoff_reason.startswith("sentimento muito negativo")
    without_rule = before_crew(config=SentimentSettings(), turn=angry)
    assert without_rule is not None and not without_rule.answers
    assert without_rule.context and "insatisfeito" in without_rule.context
    assert before_crew(config=rule, turn=Turn(message="Qual o endereço?")) is None


def test_the_lexicons_ship_inside_the_package() -> None:
    folder = Path(__import__("plugins.sentiment").sentiment.__file__).parent / "lexicon"
    assert {p.name for p in folder.glob("*.tsv")} == {"pt.tsv", "en.tsv", "emoji.tsv"}


def test_the_plugins_settings_model_is_its_own_with_the_shared_budgets() -> None:
    assert settings_model() is SentimentSettings
    assert SentimentSettings().received_timeout_seconds == 0.05
