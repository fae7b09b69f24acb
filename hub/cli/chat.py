"""`chatwootai chat`: talk to a domain's HubCrew in the terminal, no Chatwoot needed."""

from __future__ import annotations

import click

from hub.crews.factory import CrewFactory
from hub.crews.hub_crew import Turn
from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError
from hub.settings import get_settings


@click.command()
@click.option("--domain", "domain_id", required=True, help="the domain to talk to")
@click.option("--message", help="one turn: print the reply and exit")
@click.option("--show-route", is_flag=True, help="print the route taken before each reply")
def chat(domain_id: str, message: str | None, show_route: bool) -> None:
    """Talk to a domain's HubCrew: the production pipeline minus Chatwoot."""
    settings = get_settings()
    try:
        registry = DomainRegistry(settings.domains_dir, reload_interval=float("inf"))
        factory = CrewFactory(registry, settings)
        hub = factory.hub(domain_id)
    except ChatwootAIError as error:
        raise click.ClickException(str(error)) from error
    history: list[tuple[str, str]] = []
    messages = [message] if message is not None else None
    if messages is None:
        click.echo(f"{hub.domain.spec.name} — Ctrl-D para sair.")
    while True:
        if messages is not None:
            if not messages:
                return
            text = messages.pop()
        else:
            try:
                text = click.prompt("você", prompt_suffix="> ")
            except (EOFError, click.Abort):
                click.echo()
                return
        try:
            result = hub.run(Turn(message=text, history=tuple(history[-20:])))
        except Exception as error:  # same boundary as the worker: say it, keep going
            click.echo(f"[erro: {type(error).__name__}: {error}]", err=True)
            click.echo(hub.domain.spec.messages.fallback)
            if message is not None:
                raise SystemExit(1) from error
            continue
        if show_route:
            click.echo(f"[rota: {result.route} ({result.routed_by})]", err=True)
        click.echo(result.reply)
        history += [("customer", text), ("bot", result.reply)]
