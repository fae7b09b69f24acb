"""`chatwootai data migrate|seed`: create the business-data tables and fill them."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError
from hub.settings import get_settings
from hub.store.database import create_engine, database_url, session_scope
from hub.store.migrate import current_revision, domain_accounts, upgrade
from hub.store.seed import seed


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@click.group()
def data() -> None:
    """Business data: catalogue, orders, professionals and appointments."""


@data.command("migrate")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="domains folder")
@click.option("--url", help="SQLAlchemy URL (default: CHATWOOTAI_DATABASE_URL, else SQLite)")
def migrate(directory: Path | None, url: str | None) -> None:
    """Create or upgrade the tables to the latest revision (safe to run again).

    Rows written before a table carried the Chatwoot account get their domain's
    (`chatwoot.account_id` of the domains folder).
    """
    url = url or database_url()
    try:
        registry = DomainRegistry(
            directory or get_settings().domains_dir,
            reload_interval=float("inf"),
            log_problems=False,
        )
        accounts = domain_accounts(registry.domains.values())
    except ChatwootAIError as error:
        click.echo(f"warning: no domains read, old rows keep no account: {error}", err=True)
        accounts = {}
    try:
        upgrade(url, accounts=accounts)
        revision = current_revision(url)
    except SQLAlchemyError as error:
        raise click.ClickException(f"{_shown(url)}: {error}") from error
    click.echo(f"{_shown(url)} is at revision {revision}")


@data.command("seed")
@click.option("--domain", "domain_ids", multiple=True, help="only this domain (repeatable)")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="domains folder")
@click.option("--url", help="SQLAlchemy URL (default: CHATWOOTAI_DATABASE_URL, else SQLite)")
def seed_command(domain_ids: tuple[str, ...], directory: Path | None, url: str | None) -> None:
    """Load the domains' data/*.yaml rows: inserts new, updates changed, deletes nothing."""
    url = url or database_url()
    try:
        registry = DomainRegistry(
            directory or get_settings().domains_dir,
            reload_interval=float("inf"),
            log_problems=False,
        )
        domains = [registry.get(domain_id) for domain_id in domain_ids or sorted(registry.domains)]
    except ChatwootAIError as error:
        raise click.ClickException(str(error)) from error
    engine = create_engine(url)
    try:
        for domain in domains:
            with session_scope(engine) as session:
                report = seed(session, domain)
            for kind in ("products", "orders", "professionals"):
                counts = getattr(report, kind)
                if counts.created or counts.updated or counts.unchanged:
                    click.echo(
                        f"{domain.id:<12} {kind:<14} {counts.created} new, "
                        f"{counts.updated} updated, {counts.unchanged} unchanged"
                    )
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        hint = " (have you run `chatwootai data migrate`?)"
        raise click.ClickException(f"{_shown(url)}: {reason}{hint}") from error
    finally:
        engine.dispose()
