"""`chatwootai chat`: talk to a domain's HubCrew in the terminal, no Chatwoot needed."""

from __future__ import annotations

from collections.abc import Iterator

import click

from hub.crews.factory import CrewFactory
from hub.crews.hub_crew import HubCrew
from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError
from hub.settings import get_settings
from hub.store.embedded import prepare_embedded_store
from hub.turn import Turn

HISTORY_ENTRIES = 20
"""Entries (customer and bot) of the session carried into each turn's prompt."""


@click.command()
@click.option("--domain", "domain_id", required=True, help="the domain to talk to")
@click.option(
    "--message",
    "messages",
    multiple=True,
    help="a turn; repeat for several, answered in order with the history carried; then exit",
)
@click.option(
    "--name", "customer_name", default="", help="the contact's name, as Chatwoot sends it"
)
@click.option("--show-route", is_flag=True, help="print the route taken before each reply")
def chat(domain_id: str, messages: tuple[str, ...], customer_name: str, show_route: bool) -> None:
    """Talk to a domain's HubCrew: the production pipeline minus Chatwoot.

    The embedded store is migrated and seeded first, as the worker does, so the
    catalogue, orders and schedules the tools read are there from the first turn.
    """
    settings = get_settings()
    try:
        registry = DomainRegistry(settings.domains_dir, reload_interval=float("inf"))
        factory = CrewFactory(registry, settings)
        hub = factory.hub(domain_id)
    except ChatwootAIError as error:
        raise click.ClickException(str(error)) from error
    prepare_embedded_store(settings, registry.domains.values(), factory.engine)
    scripted = bool(messages)
    if not scripted:
        click.echo(f"{hub.domain.spec.name} — Ctrl-D para sair.")
    history: list[tuple[str, str]] = []
    route: str | None = None
    for text in iter(messages) if scripted else _typed():
        try:
            reply, route = _answer(hub, text, history, customer_name, show_route, route)
        except Exception as error:  # same boundary as the worker: say it, keep going
            click.echo(f"[erro: {type(error).__name__}: {error}]", err=True)
            click.echo(hub.domain.spec.messages.fallback)
            if scripted:
                raise SystemExit(1) from error
            continue
        if scripted and history:
            click.echo()  # a blank line between the replies of a scripted conversation
        click.echo(reply)
        history += [("customer", text), ("bot", reply)]


def _answer(
    hub: HubCrew,
    text: str,
    history: list[tuple[str, str]],
    customer_name: str,
    show_route: bool,
    previous_route: str | None,
) -> tuple[str, str | None]:
    """One turn through the HubCrew, with the session's last entries as its history;
    returns the reply and the route that answered."""
    turn = Turn(
        message=text,
        history=tuple(history[-HISTORY_ENTRIES:]),
        customer_name=customer_name,
        previous_route=previous_route,
    )
    result = hub.run(turn)
    if show_route:
        click.echo(f"[rota: {result.route} ({result.routed_by})]", err=True)
    return result.reply, result.route


def _typed() -> Iterator[str]:
    """Lines typed at the prompt, until end of input (Ctrl-D) or Ctrl-C."""
    while True:
        try:
            yield click.prompt("você", prompt_suffix="> ")
        except (EOFError, click.Abort):
            click.echo()
            return
