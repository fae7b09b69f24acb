"""PluginHost: each domain's plugins, in its order, with its settings, merged as documented."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.exceptions import PluginError
from hub.plugins import PluginSettings, hookimpl
from hub.plugins.discovery import Catalogue
from hub.plugins.manager import PluginHost, parse_allow_list
from hub.settings import Settings
from hub.turn import Turn
from tests.domain_tree import DomainTree
from tests.plugin_kit import Recorder, enabling


@pytest.fixture
def shop(tree: DomainTree) -> Domain:
    return DomainRegistry(tree.minimal().root).get("shop")


def host_of(*plugins: tuple[str, object], allowed: list[str] | None = None) -> PluginHost:
    return PluginHost(Catalogue(dict(plugins)), allowed=allowed)


def test_a_domain_only_reaches_the_plugins_it_enables_with_its_own_settings(shop: Domain) -> None:
    recorder = Recorder()
    host = host_of(("recorder", recorder))
    mine = enabling(shop, {"recorder": {"tag": "loja"}})
    other = enabling(shop, {})
    assert host.received(mine, "oi", channel=None, contact_name=None).labels == ("loja",)
    assert host.received(other, "oi", channel=None, contact_name=None).labels == ()
    assert [(hook, args["tag"]) for hook, _, args in recorder.calls] == [
        ("message_received", "loja")
    ]


def test_signals_of_several_plugins_are_merged(shop: Domain) -> None:
    host = host_of(("a", Recorder("a")), ("b", Recorder("b")))
    domain = enabling(shop, {"b": {"tag": "segundo"}, "a": {"tag": "primeiro"}})
    signals = host.received(domain, "oi", channel="Channel::Whatsapp", contact_name="Ana")
    assert signals.labels == ("segundo", "primeiro")  # the domain's order, not registration's
    assert signals.attributes == {"seen_by": "b"}  # the first plugin keeps its key
    assert not signals.urgent and signals.handoff_reason is None


def test_contexts_add_up_and_the_first_answering_plugin_decides(shop: Domain) -> None:
    host = host_of(("a", Recorder("a")), ("b", Recorder("b")), ("c", Recorder("c")))
    domain = enabling(
        shop,
        {"a": {"tag": "a"}, "b": {"tag": "b", "answer": "resposta de b"}, "c": {"answer": "c!"}},
    )
    verdicts = host.before_crew(domain, Turn(message="oi"))
    assert verdicts.context == ("nota de a", "nota de b", "nota de r")
    assert (verdicts.answered_by, verdicts.reply) == ("b", "resposta de b")


def test_after_crew_is_chained_in_the_domains_order(shop: Domain) -> None:
    host = host_of(("a", Recorder("a")), ("b", Recorder("b")))
    domain = enabling(shop, {"b": {"tag": "2"}, "a": {"tag": "1"}})
    assert host.after_crew(domain, Turn(message="oi"), "Olá", route="support") == "Olá [2] [1]"


def test_reply_parts_default_to_the_whole_reply_and_a_split_may_not_edit_it(shop: Domain) -> None:
    class Editor:
        @hookimpl
        def reply_parts(self, text: str) -> list[str]:
            return [text.replace("69,90", "59,90")]

    domain = enabling(shop, {"recorder": None})
    host = host_of(("recorder", Recorder()))
    assert host.reply_parts(domain, "sem divisão", channel=None) == ["sem divisão"]
    assert host.reply_parts(domain, "um\ndois", channel=None) == ["um", "dois"]
    editing = host_of(("editor", Editor()))
    with structlog.testing.capture_logs() as logs:
        parts = editing.reply_parts(
            enabling(shop, {"editor": None}), "Custa R$ 69,90.", channel=None
        )
    assert parts == ["Custa R$ 69,90."]
    assert any(entry["event"].startswith("plugin split changed the reply") for entry in logs)


def test_handoff_and_domain_change_notifications_reach_each_side(shop: Domain) -> None:
    old_side, new_side = Recorder("old"), Recorder("new")
    host = host_of(("old_side", old_side), ("new_side", new_side))
    old = enabling(shop, {"old_side": None})
    new = enabling(shop, {"new_side": None})
    host.handed_off(old, account_id=7, conversation_id=3, reason="pediu humano")
    host.domain_changed(old, new, account_id=7, conversation_id=3, by="agente")
    assert old_side.calls[0][2] == {"conversation_id": 3, "reason": "pediu humano"}
    assert old_side.calls[1][2] == {"previous": "shop", "current": "shop", "by": "agente"}
    assert new_side.hooks() == ["domain_changed"]


def test_the_allow_list_keeps_other_plugins_from_running(shop: Domain) -> None:
    recorder = Recorder()
    host = host_of(("recorder", recorder), ("other", Recorder("other")), allowed=["other"])
    domain = enabling(shop, {"recorder": None})
    with structlog.testing.capture_logs() as logs:
        host.received(domain, "oi", channel=None, contact_name=None)
    assert recorder.calls == []
    assert any("not allowed" in entry["event"] for entry in logs)
    assert parse_allow_list(" sentiment, connectors ,") == {"sentiment", "connectors"}
    assert parse_allow_list("") is None


def test_an_allow_list_naming_a_plugin_that_is_not_installed_fails_at_start() -> None:
    with pytest.raises(PluginError, match="did you mean 'recorder'"):
        host_of(("recorder", Recorder()), allowed=["recordr"])


def test_a_hook_implementation_no_hookspec_declares_fails_at_start() -> None:
    class Typo:
        @hookimpl
        def before_crwe(self) -> None: ...

    with pytest.raises(PluginError, match="unknown hook 'before_crwe'"):
        Catalogue({"typo": Typo()})


def test_a_hook_wrapper_is_refused_at_start() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def after_crew(self) -> object:
            return (yield)

    with pytest.raises(PluginError, match="wrapper"):
        Catalogue({"wrapper": Wrapper()})


def test_an_answer_of_the_wrong_type_is_ignored_and_logged(shop: Domain) -> None:
    class Sloppy:
        @hookimpl
        def message_received(self) -> str:
            return "urgent!"

    host = host_of(("sloppy", Sloppy()))
    with structlog.testing.capture_logs() as logs:
        signals = host.received(
            enabling(shop, {"sloppy": None}), "oi", channel=None, contact_name=None
        )
    assert not signals.urgent
    assert any(e.get("plugin") == "sloppy" and "wrong type" in e["event"] for e in logs)


def test_the_worker_host_comes_from_the_settings_with_the_builtins(tmp_path: Path) -> None:
    host = PluginHost.from_settings(Settings(data_dir=tmp_path, plugins="sentiment"))
    assert {"sentiment", "connectors", "personalization"} <= set(host.catalogue.names)
    assert host.active == {"sentiment"}
    assert issubclass(host.catalogue.models["sentiment"], PluginSettings)


def test_settings_model_gives_each_plugin_its_settings_model_or_the_base_one() -> None:
    class Bare:
        @hookimpl
        def after_crew(self) -> None: ...

    catalogue = Catalogue({"recorder": Recorder(), "bare": Bare()})
    assert catalogue.models["recorder"].__name__ == "RecorderSettings"
    assert catalogue.models["bare"] is PluginSettings
    assert catalogue.validate("bare", None) == PluginSettings()


def test_declared_tools_are_collected_from_the_domains_enabled_plugins(shop: Domain) -> None:
    host = host_of(("recorder", Recorder()))
    assert host.declared_tools(enabling(shop, {"recorder": {"tool": "erp_lookup"}})) == {
        "erp_lookup": "a recorder tool"
    }
    assert host.declared_tools(enabling(shop, {})) == {}


def test_domain_ready_reaches_the_domains_plugins_with_their_settings(shop: Domain) -> None:
    recorder = Recorder()
    host_of(("recorder", recorder)).domain_ready(enabling(shop, {"recorder": {"tag": "x"}}))
    assert recorder.calls == [("domain_ready", "shop", {"tag": "x"})]


def test_the_first_plugin_that_hears_a_voice_note_gives_its_text(shop: Domain) -> None:
    class Deaf:
        @hookimpl
        def transcribe_audio(self, url: str) -> str | None:
            return None

    class Wrong:
        @hookimpl
        def transcribe_audio(self) -> object:
            return {"text": "not a str"}

    class Hearing:
        @hookimpl
        def transcribe_audio(self, url: str, extension: str | None) -> str:
            return f"  ouvi {url.rsplit('/', 1)[-1]} ({extension})  "

    host = host_of(("deaf", Deaf()), ("wrong", Wrong()), ("hearing", Hearing()))
    silent = enabling(shop, {"deaf": None, "wrong": None})
    assert host.transcribes(silent)
    with structlog.testing.capture_logs() as logs:
        assert host.transcribe(silent, url="http://x/a.ogg", extension="ogg") is None
    assert any(entry["event"] == "plugin answered the wrong type; ignored" for entry in logs)
    hearing = enabling(shop, {"deaf": None, "hearing": None})
    assert host.transcribe(hearing, url="http://x/a.ogg", extension="ogg") == "ouvi a.ogg (ogg)"
    assert not host.transcribes(enabling(shop, {}))
