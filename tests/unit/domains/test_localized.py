"""Fixed texts with translations: a string, or a mapping language → text."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.domains.localized import Localized, translate
from hub.domains.registry import DomainRegistry
from hub.domains.schema import Messages
from hub.exceptions import SchemaError
from tests.conftest import SAMPLE_DOMAINS
from tests.domain_tree import DomainTree

TRANSLATED = """\
extends: _base
name: Loja
language: pt-BR
messages:
  unknown:
    en: I don't know.
    pt-BR: Não sei.
    es: No sé.
"""


def messages(**texts: object) -> Messages:
    plain: dict[str, object] = {"fallback": "f", "handoff": "h", "after_hours": "a", "unknown": "u"}
    return Messages.model_validate(plain | texts)


def test_a_plain_string_is_still_a_valid_message_without_translations() -> None:
    unknown = messages().unknown
    assert unknown == "u" and isinstance(unknown, Localized)
    assert unknown.translations == {}
    assert unknown.in_language("en") == "u"


def test_a_translation_is_chosen_by_the_language_code_of_any_tag() -> None:
    unknown = messages(unknown={"pt-BR": "Não sei.", "en": "I don't know."}).unknown
    assert unknown == "Não sei."
    assert unknown.in_language("en") == "I don't know."
    assert unknown.in_language("en-US") == "I don't know."
    assert unknown.in_language("pt") == "Não sei."
    assert unknown.in_language("es") == "Não sei."  # no Spanish: the domain's own text
    assert unknown.variants() == {"Não sei.", "I don't know."}


def test_translate_leaves_a_plain_string_as_it_is() -> None:
    assert translate("texto", "en") == "texto"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({}, "at least one language"),
        ({"pt-BR": ""}, "non-empty"),
        ({"pt-BR": "ok", "pt": "de novo"}, "given twice"),
        ({"português": "oi"}, "not a language tag"),
        ({"pt-BR": 3}, "non-empty string"),
        (["oi"], "mapping of language"),
        ("   ", "non-empty"),
    ],
)
def test_a_bad_message_is_an_error_saying_what_is_wrong(value: object, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        messages(unknown=value)


def test_the_domain_language_text_is_the_plain_one_whatever_the_order(tree: DomainTree) -> None:
    tree.minimal().write("shop/domain.yaml", TRANSLATED)
    shop = DomainRegistry(tree.root).get("shop")
    assert shop.spec.messages.unknown == "Não sei."
    assert shop.spec.messages.unknown.in_language("es") == "No sé."


def test_a_translated_message_without_the_domain_language_is_an_error_at_its_key(
    tree: DomainTree,
) -> None:
    tree.minimal().write("shop/domain.yaml", TRANSLATED.replace("    pt-BR: Não sei.\n", ""))
    registry = DomainRegistry(tree.root, log_problems=False)
    assert "shop" not in registry.domains
    [error] = registry.problems["shop"].errors
    assert isinstance(error, SchemaError)
    assert error.key_path == "messages.unknown"
    assert "no text in the domain's language 'pt'" in error.message
    assert "en, es" in error.message


def test_a_rule_reply_may_be_translated_too(tree: DomainTree) -> None:
    tree.minimal().write(
        "shop/domain.yaml",
        "extends: _base\nname: Loja\nhandoff:\n  rules:\n    - name: urgente\n"
        "      patterns: ['socorro|help']\n      reply:\n        en: Call 192.\n"
        "        pt-BR: Ligue 192.\n",
    )
    rule = DomainRegistry(tree.root).get("shop").spec.handoff.rules[0]
    assert rule.reply == "Ligue 192." and rule.reply.in_language("en") == "Call 192."


def test_the_sample_domains_speak_english_and_spanish_in_every_fixed_message() -> None:
    registry = DomainRegistry(SAMPLE_DOMAINS)
    for domain in registry.domains.values():
        for name in ("fallback", "handoff", "after_hours", "unknown"):
            text = getattr(domain.spec.messages, name)
            assert set(text.translations) == {"pt", "en", "es"}, (domain.id, name)
        for rule in domain.spec.handoff.rules:
            assert set(rule.reply.translations) == {"pt", "en", "es"}, (domain.id, rule.name)


def test_a_translated_message_shows_as_its_mapping_in_the_merged_configuration() -> None:
    data = DomainRegistry(SAMPLE_DOMAINS).get("health").as_data()
    assert set(data["messages"]["unknown"]) == {"pt", "en", "es"}
