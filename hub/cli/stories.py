"""`chatwootai test`: run the domains' conversation tests (`tests/*.yaml`) and report.

The model is whatever the settings say (the offline model by default; set
CHATWOOTAI_LLM and CHATWOOTAI_LLM_BASE_URL to test a real one). Stories may book
appointments, so by default they run on a throwaway SQLite database, migrated
and seeded with every domain's data, never on the configured one.

Exit status: 0 when every story passed, 1 when any failed, 2 when the run could
not start (an unknown or invalid domain, no story selected, an unreachable database).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import NoReturn

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from hub.crews.factory import CrewFactory
from hub.crews.llm import model_name
from hub.crews.stories import StoryResult, StoryRunner, collect_stories, throwaway_database
from hub.domains.domain import Domain
from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError, ConfigurationError, DomainNotFoundError
from hub.settings import get_settings
from hub.store.migrate import current_revision

CONFIGURATION_ERROR = 2
"""Exit status when the run cannot start: distinct from 1, "a story failed"."""


def _cannot_start(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(CONFIGURATION_ERROR)


@click.command("test")
@click.argument("positional_ids", metavar="[ID]...", nargs=-1)
@click.option("--domain", "domain_ids", multiple=True, help="only this domain (repeatable)")
@click.option(
    "--story",
    "match",
    help="only stories whose id (domain/file.yaml::name) contains this, ignoring case and accents",
)
@click.option("-v", "--verbose", is_flag=True, help="print every step, not only failing ones")
@click.option(
    "--database-url",
    help="run on this (migrated, seeded) database instead of a throwaway SQLite: "
    "it will write bookings there",
)
def test(
    positional_ids: tuple[str, ...],
    domain_ids: tuple[str, ...],
    match: str | None,
    verbose: bool,
    database_url: str | None,
) -> None:
    """Run the conversation tests of every domain (or of the IDs given, as arguments or
    with --domain); exit 1 if any fails."""
    domain_ids = tuple(dict.fromkeys(positional_ids + domain_ids))
    settings = get_settings()
    try:
        registry = DomainRegistry(
            settings.domains_dir, reload_interval=float("inf"), log_problems=False
        )
    except ConfigurationError as error:
        _cannot_start(error.render())
    domains = _selected(registry, domain_ids)
    try:
        cases = collect_stories(domains, match)
    except ConfigurationError as error:
        _cannot_start(error.render())
    if not cases:
        where = ", ".join(domain.id for domain in domains)
        _cannot_start(f"no story to run in {where}" + (f" matching {match!r}" if match else ""))
    with ExitStack() as stack:
        url, shown = _database(stack, registry, database_url)
        factory = CrewFactory(registry, settings.model_copy(update={"database_url": url}))
        stack.callback(factory.engine.dispose)
        tested = [d for d in domains if any(case.domain_id == d.id for case in cases)]
        _check_ready(factory, tested, url, shown)
        models = ", ".join(sorted({model_name(d, settings) for d in tested}))
        click.echo(
            f"{_stories(len(cases))} of {', '.join(d.id for d in tested)} · model {models} · "
            f"database {shown}"
        )
        runner = StoryRunner(factory)
        results: list[StoryResult] = []
        for case in cases:
            results.append(runner.run(case))
            click.echo(results[-1].report(verbose=verbose))
    failed = sum(not result.passed for result in results)
    elapsed = sum(result.duration for result in results)
    click.echo(
        f"\n{_stories(len(results))}: {len(results) - failed} passed, {failed} failed "
        f"({elapsed:.2f} s)"
    )
    if failed:
        raise click.exceptions.Exit(1)


def _stories(count: int) -> str:
    return f"{count} {'story' if count == 1 else 'stories'}"


def _selected(registry: DomainRegistry, domain_ids: tuple[str, ...]) -> list[Domain]:
    """The domains to test; an invalid one stops the run, it must never be skipped silently."""
    wanted = list(dict.fromkeys(domain_ids)) or sorted({*registry.domains, *registry.problems})
    invalid = [registry.problems[d] for d in wanted if d in registry.problems]
    if invalid:
        _cannot_start("\n".join(str(problem) for problem in invalid))
    try:
        return [registry.get(domain_id) for domain_id in wanted]
    except DomainNotFoundError as error:
        _cannot_start(str(error))


def _database(stack: ExitStack, registry: DomainRegistry, url: str | None) -> tuple[str, str]:
    """The URL to run on and how to show it: the given one, or a throwaway SQLite (see module)."""
    if url is not None:
        try:
            return url, make_url(url).render_as_string(hide_password=True)
        except ArgumentError as error:
            _cannot_start(f"--database-url: {error}")
    try:
        throwaway = stack.enter_context(throwaway_database(registry.domains.values()))
    except SQLAlchemyError as error:
        _cannot_start(f"could not prepare the throwaway database: {error}")
    return throwaway, "throwaway SQLite (migrated and seeded)"


def _check_ready(factory: CrewFactory, domains: list[Domain], url: str, shown: str) -> None:
    """Build the domains' crews and reach a migrated database before the first story."""
    for domain in domains:
        try:
            factory.kit(domain)
        except ChatwootAIError as error:
            _cannot_start(f"domain {domain.id!r}: {error}")
    try:
        revision = current_revision(url)
    except SQLAlchemyError as error:
        _cannot_start(f"cannot reach the database {shown}: {error}")
    if revision is None:
        _cannot_start(
            f"the database {shown} has no tables: run `chatwootai data migrate --url URL` "
            "and `chatwootai data seed --url URL` first"
        )
