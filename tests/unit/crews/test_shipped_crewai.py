"""What a crew and a real model are with CrewAI's patches removed: CrewAI's own."""

from __future__ import annotations

from pathlib import Path

from crewai.llms.providers.openai.completion import OpenAICompletion
from crewai.utilities.task_output_storage_handler import TaskOutputStorageHandler

from hub.crews.factory import CrewFactory
from hub.crews.llm import provider_llm, release
from hub.crews.pooled import PooledOpenAICompletion
from hub.crews.service_crew import MemoryTaskOutputs
from hub.domains.registry import DomainRegistry
from hub.offline.model import OfflineLLM
from hub.patches.crewai import OPENAI_CLIENTS, TASK_OUTPUTS
from hub.settings import Settings
from tests.conftest import SAMPLE_DOMAINS
from tests.fakes.openai_server import FakeOpenAI
from tests.patch_kit import installed, removed


def test_a_crew_keeps_crewai_s_own_task_output_log_without_the_patch(tmp_path: Path) -> None:
    settings = Settings(domains_dir=SAMPLE_DOMAINS, data_dir=tmp_path / "var")
    factory = CrewFactory(DomainRegistry(SAMPLE_DOMAINS, reload_interval=0), settings)
    kit = factory.hub("retail").kit
    model = OfflineLLM(kit.knowledge, question="oi", unknown_reply="?")
    with installed(TASK_OUTPUTS):
        assert isinstance(
            factory.builder.build(kit, "support", model)._task_output_handler, MemoryTaskOutputs
        )
    with removed(TASK_OUTPUTS):
        handler = factory.builder.build(kit, "support", model)._task_output_handler
    assert type(handler) is TaskOutputStorageHandler


def test_a_real_model_shares_its_clients_only_while_the_patch_is_installed(
    fake_openai: FakeOpenAI,
) -> None:
    domain = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf")).get("retail")
    settings = Settings(llm="openai/m", llm_base_url=fake_openai.url, llm_api_key="k")
    with installed(OPENAI_CLIENTS):
        assert isinstance(provider_llm("openai/m", domain, settings), PooledOpenAICompletion)
    with removed(OPENAI_CLIENTS):
        shipped = provider_llm("openai/m", domain, settings)
    assert isinstance(shipped, OpenAICompletion)
    assert not isinstance(shipped, PooledOpenAICompletion)
    release(shipped)  # its own clients, closed with the turn
