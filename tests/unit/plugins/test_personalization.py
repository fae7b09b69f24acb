"""The personalization plugin: name, greeting, tone, signature, channel limits; facts untouched."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub.domains.registry import DomainRegistry
from hub.turn import Turn
from plugins.personalization import (
    PersonalizationSettings,
    after_crew,
    before_crew,
    first_name,
    greeting,
    reply_parts,
    split,
)
from tests.conftest import SAMPLE_DOMAINS

FACT = re.compile(r"R\$ ?[\d.]+,\d{2}|\d{1,2}:\d{2}|\d+(?:[.,]\d+)?%?")
REPLY = (
    "O Protetor Solar FPS 50 custa R$ 69,90 e o Sérum Vitamina C 10% 30 ml sai por R$ 89,90. "
    "A loja abre às 09:00 e fecha às 19:00; entregas em 3 a 5 dias úteis."
)


@pytest.fixture(scope="module")
def cosmetics():  # type: ignore[no-untyped-def]
    return DomainRegistry(SAMPLE_DOMAINS).get("cosmetics")


@pytest.mark.parametrize(
    ("contact", "name"),
    [
        ("Maria Silva", "Maria"),
        ("maria", "Maria"),
        ("JOÃO PEDRO", "João"),
        ("Dra. Ana Souza", "Ana"),
        ("Anne-Marie O'Neil", "Anne-Marie"),
        ("+55 41 99999-0000", None),
        ("5541999990000", None),
        ("cliente@example.com", None),
        ("", None),
        (None, None),
        ("  ", None),
    ],
)
def test_the_first_name_comes_from_the_contact_unless_it_is_a_number(
    contact: str | None, name: str | None
) -> None:
    assert first_name(contact) == name


def test_the_greeting_follows_the_local_time_of_day() -> None:
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    assert greeting(datetime(2026, 11, 27, 8, 0, tzinfo=sao_paulo), "pt-BR") == "Bom dia"
    assert greeting(datetime(2026, 11, 27, 12, 0, tzinfo=sao_paulo), "pt-BR") == "Boa tarde"
    assert greeting(datetime(2026, 11, 27, 18, 30, tzinfo=sao_paulo), "pt-BR") == "Boa noite"
    assert greeting(datetime(2026, 11, 27, 3, 0, tzinfo=sao_paulo), "pt-BR") == "Boa noite"
    assert greeting(datetime(2026, 11, 27, 9, 0, tzinfo=sao_paulo), "en") == "Good morning"


def test_the_domains_timezone_decides_the_greeting(cosmetics) -> None:  # type: ignore[no-untyped-def]
    # 11:30 UTC is 08:30 in São Paulo: morning there, whatever the server's clock says.
    moment = datetime(2026, 11, 27, 11, 30, tzinfo=ZoneInfo("UTC"))
    turn = Turn(message="oi", customer_name="Maria Silva", now=moment)
    config = PersonalizationSettings()
    reply = after_crew(domain=cosmetics, config=config, turn=turn, reply="Temos sim.")
    assert reply is not None and reply.startswith("Bom dia, Maria! ")


def test_only_the_first_reply_of_a_conversation_is_greeted(cosmetics) -> None:  # type: ignore[no-untyped-def]
    config = PersonalizationSettings(signature="Equipe Bela Pele")
    first = Turn(
        message="oi",
        customer_name="+55 41 99999-0000",
        now=datetime(2026, 11, 27, 15, 0, tzinfo=ZoneInfo("America/Sao_Paulo")),
    )
    later = Turn(message="e o frete?", history=(("customer", "oi"), ("bot", "Olá!")))
    assert after_crew(domain=cosmetics, config=config, turn=first, reply=REPLY) == (
        f"Boa tarde! {REPLY}\n\nEquipe Bela Pele"
    )
    assert after_crew(domain=cosmetics, config=config, turn=later, reply=REPLY) == (
        f"{REPLY}\n\nEquipe Bela Pele"
    )
    greeted = "Olá! Tudo bem?"
    assert (
        after_crew(domain=cosmetics, config=PersonalizationSettings(), turn=first, reply=greeted)
        is None
    )


def test_the_tone_reaches_the_crew_as_a_note() -> None:
    verdict = before_crew(config=PersonalizationSettings(tone="acolhedor"))
    assert verdict is not None and verdict.context == "tom de voz da empresa: acolhedor"
    assert before_crew(config=PersonalizationSettings()) is None


def test_every_fact_of_the_reply_survives_personalization_unchanged(cosmetics) -> None:  # type: ignore[no-untyped-def]
    config = PersonalizationSettings(signature="Equipe Bela Pele", max_length=100)
    turn = Turn(message="oi", customer_name="Maria")
    personalized = after_crew(domain=cosmetics, config=config, turn=turn, reply=REPLY)
    assert personalized is not None and REPLY in personalized
    parts = reply_parts(config=config, text=personalized, channel="Channel::Whatsapp")
    assert parts is not None and len(parts) > 1
    facts = FACT.findall(REPLY)
    assert facts and [f for part in parts for f in FACT.findall(part)][-len(facts) :] == facts
    assert re.sub(r"\s+", "", "".join(parts)) == re.sub(r"\s+", "", personalized)


def test_long_whatsapp_replies_are_split_at_sentences_and_paragraphs() -> None:
    paragraph = " ".join(f"Frase número {i} com a Dra. Ana às 14:30." for i in range(30))
    text = f"{paragraph}\n\nSegundo parágrafo, curto."
    parts = split(text, 300)
    assert all(len(part) <= 300 for part in parts)
    assert all(part.endswith(".") for part in parts)  # cut after a sentence, never inside
    assert not any(part.startswith("Ana") for part in parts)  # "Dra. Ana" stays together
    assert parts[-1].endswith("Segundo parágrafo, curto.")
    config = PersonalizationSettings(max_length=300)
    assert reply_parts(config=config, text=text, channel="Channel::Whatsapp") == parts
    assert reply_parts(config=config, text=text, channel="Channel::WebWidget") is None
    assert reply_parts(config=config, text="curta", channel="Channel::Whatsapp") is None


def test_a_sentence_longer_than_the_limit_is_cut_between_words() -> None:
    text = " ".join(["palavra"] * 60)
    parts = split(text, 100)
    assert all(len(part) <= 100 for part in parts) and " ".join(parts) == text


def test_the_greeting_is_in_the_customer_s_language(cosmetics) -> None:  # type: ignore[no-untyped-def]
    morning = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
    config = PersonalizationSettings()
    english = Turn(message="Is shipping free?", customer_name="Mary", now=morning)
    spanish = Turn(message="¿El envío es gratis?", now=morning)
    unsure = Turn(message="ok", now=morning)
    assert (
        after_crew(domain=cosmetics, config=config, turn=english, reply="x")
        == "Good morning, Mary! x"
    )
    assert after_crew(domain=cosmetics, config=config, turn=spanish, reply="x") == "Buenos días! x"
    assert after_crew(domain=cosmetics, config=config, turn=unsure, reply="x") == "Bom dia! x"
