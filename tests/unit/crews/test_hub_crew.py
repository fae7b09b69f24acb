"""CrewFactory and HubCrew: prepared once per domain version, a fresh crew per turn."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.crews.factory import CrewFactory, resident_mb
from hub.crews.hub_crew import ROUTE_MAX_TOKENS, is_follow_up
from hub.domains.registry import DomainRegistry
from hub.offline.model import OfflineLLM
from hub.patches.crewai import OPENAI_CLIENTS, TASK_OUTPUTS
from hub.settings import Settings
from hub.turn import Turn
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.openai_server import FakeOpenAI
from tests.patch_kit import installed


@pytest.fixture
def domains(tmp_path: Path) -> Path:
    target = tmp_path / "domains"
    shutil.copytree(SAMPLE_DOMAINS, target)
    return target


def factory_for(domains: Path, tmp_path: Path, **settings: object) -> CrewFactory:
    config = Settings(domains_dir=domains, data_dir=tmp_path / "var", **settings)  # type: ignore[arg-type]
    return CrewFactory(DomainRegistry(domains, reload_interval=0), config)


def test_every_domain_is_prepared_and_checked_at_start(domains: Path, tmp_path: Path) -> None:
    factory = factory_for(domains, tmp_path)
    assert factory.warm() == {}
    kit = factory.kit(factory.registry.get("health"))
    assert len(kit.knowledge) > 0
    assert set(kit.router.score("consulta").scores) == {"sales", "support", "scheduling"}


def test_the_prepared_kit_is_reused_until_the_domain_changes(
    domains: Path, tmp_path: Path, refrozen: list[bool]
) -> None:
    factory = factory_for(domains, tmp_path)
    first = factory.hub("retail").kit
    factory.mark_frozen()  # as a worker does once ready: the kit sits in the frozen heap
    assert factory.hub("retail").kit is first
    domain_file = domains / "retail" / "domain.yaml"
    domain_file.write_text(
        domain_file.read_text(encoding="utf-8").replace(
            "name: Casa & Cia Utilidades", "name: Casa & Cia"
        ),
        encoding="utf-8",
    )
    rebuilt = factory.hub("retail").kit
    assert rebuilt is not first
    assert rebuilt.domain.spec.name == "Casa & Cia"
    assert refrozen == [True]  # the old kit can be collected though the heap is frozen


def test_a_worker_keeps_at_most_kits_max_domains_prepared_dropping_the_least_recent(
    domains: Path, tmp_path: Path, refrozen: list[bool]
) -> None:
    factory = factory_for(domains, tmp_path, kits_max=2)
    assert factory.warm_at_start() == {}  # auto, and 4 domains: all prepared, 2 kept
    assert len(factory.prepared) == 2
    factory.mark_frozen()
    factory.hub("retail")
    factory.hub("health")
    retail = factory.hub("retail").kit  # served again: the most recent now
    assert factory.prepared == ("health", "retail")
    factory.hub("cosmetics")
    assert factory.prepared == ("retail", "cosmetics")
    assert factory.hub("retail").kit is retail  # kept, not prepared again
    assert refrozen  # kits dropped from the frozen heap: thawed so they can be collected


def test_a_worker_above_its_memory_bound_drops_a_kit_for_each_new_one(
    domains: Path, tmp_path: Path
) -> None:
    assert resident_mb() > 1  # this process, read from /proc
    factory = factory_for(domains, tmp_path, kits_max_mb=1, kits_warm="none")
    factory.hub("retail")
    factory.hub("health")
    assert factory.prepared == ("health",)  # never the newest one


@pytest.mark.parametrize(("mode", "prepared"), [("none", 0), ("all", 4)])
def test_kits_warm_says_whether_a_starting_worker_prepares_every_domain(
    mode: str, prepared: int, domains: Path, tmp_path: Path
) -> None:
    factory = factory_for(domains, tmp_path, kits_warm=mode)
    assert factory.warm_at_start() == {}
    assert len(factory.prepared) == prepared


def test_kits_warm_auto_leaves_a_large_deployment_to_its_first_messages(
    domains: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hub.defaults.KITS_WARM_AUTO_MAX", 3)
    factory = factory_for(domains, tmp_path)
    assert factory.warm_at_start() == {}
    assert factory.prepared == ()
    assert factory.hub("health").kit.domain.id == "health"  # prepared at its first message
    assert factory.prepared == ("health",)


@pytest.fixture
def refrozen(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    import hub.crews.factory

    calls: list[bool] = []
    monkeypatch.setattr(hub.crews.factory, "refreeze_heap", lambda: calls.append(True))
    return calls


@pytest.fixture
def task_outputs_in_memory() -> Iterator[None]:
    with installed(TASK_OUTPUTS):
        yield


@pytest.fixture
def shared_openai_clients() -> Iterator[None]:
    with installed(OPENAI_CLIENTS):
        yield


def test_each_turn_gets_a_new_crew(domains: Path, tmp_path: Path) -> None:
    factory = factory_for(domains, tmp_path)
    hub = factory.hub("retail")

    model = OfflineLLM(hub.kit.knowledge, question="oi", unknown_reply="?")
    one = factory.builder.build(hub.kit, "support", model)
    two = factory.builder.build(hub.kit, "support", model)
    assert one is not two
    assert one.agents[0] is not two.agents[0]
    assert one.tasks[0] is not two.tasks[0]


@pytest.mark.usefixtures("task_outputs_in_memory")
def test_a_kickoff_keeps_its_task_outputs_with_the_crew_and_writes_no_file(
    domains: Path, tmp_path: Path
) -> None:
    from crewai_core.paths import db_storage_path

    factory = factory_for(domains, tmp_path)
    hub = factory.hub("retail")
    question = "Qual o horário de funcionamento? (marcador 7f3a)"
    model = OfflineLLM(hub.kit.knowledge, question=question, unknown_reply="?")
    crew = factory.builder.build(hub.kit, "support", model)
    replay_file = Path(db_storage_path()) / "latest_kickoff_task_outputs.db"
    before = replay_file.read_bytes() if replay_file.exists() else b""

    crew.kickoff(inputs=hub.inputs(Turn(message=question)))

    # CrewAI's shared replay file would hold every tenant's customer texts.
    after = replay_file.read_bytes() if replay_file.exists() else b""
    assert after == before
    assert b"7f3a" not in after
    (record,) = crew._task_output_handler.load()
    assert record["task_index"] == 0
    assert "7f3a" in record["inputs"]["message"]
    assert "10:00" in record["output"]["raw"]
    crew._task_output_handler.reset()
    assert crew._task_output_handler.load() == []


@pytest.mark.usefixtures("shared_openai_clients")
def test_start_up_prepares_a_real_model_s_client_without_calling_the_model(
    domains: Path, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    import sys

    from hub.crews import pooled

    factory = factory_for(
        domains, tmp_path, llm="openai/m", llm_base_url=fake_openai.url, llm_api_key="k"
    )
    assert factory.warm() == {}
    assert any(fake_openai.url in repr(key) for key in pooled._clients)
    assert "openai.resources.chat" in sys.modules
    assert fake_openai.requests == []


def test_a_confident_route_costs_no_model_call(
    domains: Path, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _m: "Final Answer: O pedido foi cancelado."
    factory = factory_for(
        domains, tmp_path, llm="openai/m", llm_base_url=fake_openai.url, llm_api_key="k"
    )
    result = factory.hub("retail").run(Turn(message="Qual o status do pedido CC-2026-00020?"))
    assert (result.route, result.routed_by) == ("support", "classifier")
    assert len(fake_openai.requests) == 1  # the spoke crew only


def test_an_ambiguous_message_is_routed_by_the_hub_crew(
    domains: Path, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    answers = iter(["Final Answer: sales", "Final Answer: Temos sim! Qual modelo você procura?"])
    fake_openai.responder = lambda _m: next(answers)
    factory = factory_for(
        domains, tmp_path, llm="openai/m", llm_base_url=fake_openai.url, llm_api_key="k"
    )
    result = factory.hub("retail").run(Turn(message="ok"))
    assert (result.route, result.routed_by) == ("sales", "llm")
    assert result.reply == "Temos sim! Qual modelo você procura?"
    router_prompt = " ".join(str(m["content"]) for m in fake_openai.requests[0]["body"]["messages"])
    assert "sales:" in router_prompt and "support:" in router_prompt
    # The route's name is a few tokens: the router's call is capped, the reply's is not.
    assert fake_openai.requests[0]["body"]["max_tokens"] == ROUTE_MAX_TOKENS
    assert fake_openai.requests[1]["body"]["max_tokens"] == Settings().llm_max_tokens


def test_offline_an_ambiguous_message_takes_the_default_route(
    domains: Path, tmp_path: Path
) -> None:
    result = factory_for(domains, tmp_path).hub("retail").run(Turn(message="ok"))
    assert (result.route, result.routed_by) == ("support", "default")


def test_the_prompt_inputs_carry_the_message_history_and_local_time(
    domains: Path, tmp_path: Path
) -> None:
    hub = factory_for(domains, tmp_path).hub("health")
    now = datetime(2026, 11, 27, 23, 5, tzinfo=ZoneInfo("America/Sao_Paulo"))
    inputs = hub.inputs(
        Turn(
            message="Oi",
            history=(("customer", "Olá"), ("bot", "Oi!")),
            customer_name="Maria",
            now=now,
        )
    )
    assert inputs["message"] == "Oi"
    assert inputs["history"] == "Cliente: Olá\nAtendente: Oi!"
    assert inputs["customer_name"] == "Maria"
    assert inputs["now"] == "sexta-feira, 27/11/2026 23:05"
    assert inputs["business_name"] == "Clínica Vida Plena"
    assert "scheduling:" in inputs["routes"]


def test_an_agent_that_names_its_own_model_gets_it(
    domains: Path, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda _m: "Final Answer: Abrimos às 10:00."
    crew_file = domains / "retail" / "crews" / "support.yaml"
    text = crew_file.read_text(encoding="utf-8")
    crew_file.write_text(
        text.replace("    role:", "    llm: openai/special-model\n    role:", 1), encoding="utf-8"
    )
    factory = factory_for(domains, tmp_path, llm_base_url=fake_openai.url, llm_api_key="k")
    result = factory.hub("retail").run(Turn(message="Qual o horário de funcionamento?"))
    assert result.reply == "Abrimos às 10:00."
    assert [r["body"]["model"] for r in fake_openai.requests] == ["special-model"]


OFFERED = (
    "Tenho estes horários:\n1. sexta-feira, 04/12/2026 às 08:00 — Dra. Carla Mendes\n"
    "2. sexta-feira, 04/12/2026 às 08:30 — Dra. Carla Mendes\n\nQual fica melhor?"
)


def test_a_short_answer_to_the_bot_s_question_stays_on_the_route_that_asked_it(
    domains: Path, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    factory = factory_for(
        domains, tmp_path, llm="openai/m", llm_base_url=fake_openai.url, llm_api_key="k"
    )
    hub = factory.hub("health")
    turn = Turn(
        message="pode ser o primeiro",
        history=(("customer", "Quero marcar dermatologista"), ("bot", OFFERED)),
        previous_route="scheduling",
    )
    assert hub.route(turn, hub.inputs(turn))[:2] == ("scheduling", "follow_up")
    assert fake_openai.requests == []  # no routing call to the model


@pytest.mark.parametrize(
    ("message", "history"),
    [
        ("pode ser o primeiro", (("customer", "oi"), ("bot", "Olá, tudo bem."))),  # no question
        ("pode ser o primeiro", ()),
        (
            "na verdade queria saber se vocês atendem convênio e onde fica a clínica agora",
            (("bot", OFFERED),),
        ),  # a new question, not an answer
    ],
)
def test_other_messages_are_not_follow_ups(
    message: str, history: tuple[tuple[str, str], ...]
) -> None:
    assert not is_follow_up(Turn(message=message, history=history, previous_route="scheduling"))
