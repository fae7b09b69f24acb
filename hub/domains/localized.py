"""A domain's fixed text with its translations: `messages.*` and `handoff.rules[].reply`.

In domain.yaml such a text is either a plain string, in the domain's `language`,
or a mapping of language → text:

    unknown:
      pt-BR: Não encontrei essa informação com segurança…
      en: I could not find that information for sure…
      es: No encontré esa información con seguridad…

Keys are language tags, compared by their primary code ("pt-BR" and "pt" are the
same key, `hub.language.code`); a mapping must hold the domain's own language
(checked by `DomainSpec`). A `Localized` *is* the text in the domain's language (a
`str`), so code that compares or sends it as before keeps working; `in_language`
gives the customer's translation, or that same text when there is none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from hub.language import code

_CODE = re.compile(r"[a-z]{2,3}")


class Localized(str):
    """A text in the domain's language that knows its translations, by language code."""

    translations: Mapping[str, str]

    def __new__(cls, text: str, translations: Mapping[str, str] | None = None) -> Localized:
        made = super().__new__(cls, text)
        made.translations = MappingProxyType(dict(translations or {}))
        return made

    def __reduce__(self) -> tuple[type[Localized], tuple[str, dict[str, str]]]:
        """Pickled with its translations (the validated-domains cache keeps domains)."""
        return (Localized, (str(self), dict(self.translations)))

    def in_language(self, language: str) -> str:
        """The text for `language` (a tag or a code), else the domain-language text."""
        return self.translations.get(code(language), str(self))

    def variants(self) -> frozenset[str]:
        """Every version of the text: the domain's and each translation."""
        return frozenset({str(self), *self.translations.values()})

    def first(self, language: str) -> Localized:
        """The same texts with `language`'s as the plain one (it must be there)."""
        return Localized(self.translations[code(language)], self.translations)

    @classmethod
    def parse(cls, value: Any) -> Localized:
        """A string, a Localized or a mapping language → text (its first entry is the
        plain text until `DomainSpec` puts the domain's language first)."""
        if isinstance(value, Localized):
            return value
        if isinstance(value, _Untranslated):
            given = ", ".join(str(tag) for tag in value.texts) or "none"
            raise ValueError(
                f"no text in the domain's language {value.language!r} (languages given: {given})"
            )
        if isinstance(value, str):
            return cls(_text(value, "the text"))
        if isinstance(value, Mapping):
            if not value:
                raise ValueError("a mapping of language → text needs at least one language")
            texts: dict[str, str] = {}
            for tag, text in value.items():
                key = code(str(tag))
                if not isinstance(tag, str) or not _CODE.fullmatch(key):
                    raise ValueError(f"{tag!r} is not a language tag (e.g. pt-BR, en, es)")
                if key in texts:
                    raise ValueError(f"language {key!r} is given twice")
                texts[key] = _text(text, f"the {tag} text")
            return cls(next(iter(texts.values())), texts)
        raise ValueError("must be a text, or a mapping of language → text")

    def dump(self) -> str | dict[str, str]:
        """YAML/JSON form: the plain string, or the mapping when there are translations."""
        return dict(self.translations) if self.translations else str(self)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse, serialization=core_schema.plain_serializer_function_ser_schema(cls.dump)
        )


def translate(text: str, language: str) -> str:
    """`text` in `language` when it is a Localized with that translation; else as it is."""
    return text.in_language(language) if isinstance(text, Localized) else text


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string")
    return value.strip()


def domain_language_first(data: Any) -> Any:
    """Raw domain data whose translated texts (`messages.*`, `handoff.rules[].reply`)
    start with the domain's language, so that language's text is the plain one.

    A mapping without the domain's language is marked, and `Localized.parse` rejects
    it: the error then names the text's own key ("messages.unknown").
    """
    if not isinstance(data, dict):
        return data
    language = code(str(data.get("language") or DEFAULT_LANGUAGE))
    data = dict(data)
    messages = data.get("messages")
    if isinstance(messages, dict):
        data["messages"] = {name: _first(value, language) for name, value in messages.items()}
    handoff = data.get("handoff")
    if isinstance(handoff, dict) and isinstance(handoff.get("rules"), list):
        rules = [
            {**rule, "reply": _first(rule["reply"], language)}
            if isinstance(rule, dict) and "reply" in rule
            else rule
            for rule in handoff["rules"]
        ]
        data["handoff"] = {**handoff, "rules": rules}
    return data


DEFAULT_LANGUAGE = "pt-BR"
"""A domain's `language` when it names none (`DomainSpec.language`)."""


class _Untranslated:
    """A mapping of texts that lacks the domain's language (rejected by `parse`)."""

    def __init__(self, texts: Mapping[Any, Any], language: str) -> None:
        self.texts = texts
        self.language = language


def _first(value: Any, language: str) -> Any:
    if not isinstance(value, Mapping) or not value:
        return value
    keyed = {code(str(tag)): (tag, text) for tag, text in value.items()}
    if language not in keyed:
        return _Untranslated(value, language)
    tag, text = keyed[language]
    return {tag: text, **{t: x for t, x in value.items() if t != tag}}
