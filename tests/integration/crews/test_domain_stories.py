"""Every conversation test of the shipped domains (`domains/*/tests/*.yaml`) passes offline.

The same stories `chatwootai test` runs, one pytest case each, on one seeded
SQLite database and one CrewFactory for the whole session: the database is
migrated and seeded once, each domain's crews are prepared once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.crews.factory import CrewFactory
from hub.crews.stories import StoryCase, StoryRunner, collect_stories, prepare_database
from hub.domains.registry import DomainRegistry
from hub.settings import Settings
from tests.conftest import SAMPLE_DOMAINS

pytestmark = pytest.mark.integration

REGISTRY = DomainRegistry(SAMPLE_DOMAINS, reload_interval=float("inf"), log_problems=False)
CASES = collect_stories(REGISTRY.domains.values())


@pytest.fixture(scope="session")
def story_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoryRunner]:
    """The offline model on a throwaway SQLite holding every sample domain's seed data."""
    root = tmp_path_factory.mktemp("stories")
    url = f"sqlite:///{root / 'business.sqlite3'}"
    prepare_database(url, REGISTRY.domains.values())
    settings = Settings(
        database_url=url, data_dir=root / "var", domains_dir=SAMPLE_DOMAINS, llm="offline"
    )
    factory = CrewFactory(REGISTRY, settings)
    yield StoryRunner(factory)
    factory.engine.dispose()


def test_the_sample_domains_have_conversation_tests() -> None:
    assert {case.domain_id for case in CASES} == {"cosmetics", "health", "retail"}
    assert len({case.id for case in CASES}) == len(CASES)  # ids are unique


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_the_story_passes_with_the_offline_model(
    case: StoryCase, story_runner: StoryRunner
) -> None:
    result = story_runner.run(case)
    if not result.passed:
        pytest.fail(result.report(), pytrace=False)  # the report says it all; no traceback
