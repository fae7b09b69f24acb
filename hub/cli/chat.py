"""`chatwootai chat`: talk to a domain in the terminal, decided as production decides.

Each line is one turn through the worker's decision (`hub.conversation.decision`):
the domain's handoff rules, a request for a person, an accepted offer, the crew,
its failures and the count of misses. The session keeps what a worker keeps
between turns (history, last route, misses); after a handoff the bot stays
silent, as it does once a person owns a conversation in Chatwoot.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from hub.conversation.decision import Session, decide
from hub.crews.factory import CrewFactory
from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError
from hub.settings import get_settings
from hub.store.embedded import prepare_embedded_store
from hub.turn import Turn

SILENT = "[a conversa está com a equipe: o bot fica em silêncio, como no Chatwoot]"
"""What a line after a handoff gets (on stderr): production would not answer it."""


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
@click.option(
    "--phone", default="", help="the contact's phone, as Chatwoot sends it (whose orders are told)"
)
@click.option("--email", default="", help="the contact's e-mail, as Chatwoot sends it")
@click.option("--show-route", is_flag=True, help="print the route taken before each reply")
def chat(
    domain_id: str,
    messages: tuple[str, ...],
    customer_name: str,
    phone: str,
    email: str,
    show_route: bool,
) -> None:
    """Talk to a domain: the production decision and crews, minus Chatwoot.

    The embedded store is migrated and seeded first, as the worker does, so the
    catalogue, orders and schedules the tools read are there from the first turn.
    A crew failure prints the error on stderr and the fallback message, as the
    customer would read it; in a scripted run (--message) it ends with status 1.
    """
    settings = get_settings()
    try:
        registry = DomainRegistry(settings.domains_dir, reload_interval=float("inf"))
        factory = CrewFactory(registry, settings)
        hub = factory.hub(domain_id)
    except ChatwootAIError as error:
        raise click.ClickException(str(error)) from error
    domain = hub.domain
    prepare_embedded_store(settings, registry.domains.values(), factory.engine)
    scripted = bool(messages)
    if not scripted:
        click.echo(f"{domain.spec.name} — Ctrl-D para sair.")
    session = Session(id=0)
    handed_off = False
    turns = domain.spec.conversation.history_turns
    for text in iter(messages) if scripted else _typed():
        if handed_off:
            click.echo(SILENT, err=True)
            continue
        turn = Turn(
            message=text,
            history=tuple(session.history[-2 * turns :]) if turns else (),
            customer_name=customer_name,
            contact_phone=phone,
            contact_email=email,
            previous_route=session.route,
        )
        decision = decide(domain, turn, factory.hub(domain_id).run, misses=session.misses)
        if decision.error is not None:
            click.echo(f"[erro: {decision.error}]", err=True)
        elif show_route:
            route = decision.route or "-"
            click.echo(f"[rota: {route} ({decision.routed_by})]", err=True)
        if scripted and session.history:
            click.echo()  # a blank line between the replies of a scripted conversation
        click.echo(decision.draft.text)
        session.after(text, decision)
        if decision.draft.hands_off:
            handed_off = True
            click.echo(f"[transferida para a equipe: {decision.draft.handoff_reason}]", err=True)
        if decision.error is not None and scripted:
            raise SystemExit(1)


def _typed() -> Iterator[str]:
    """Lines typed at the prompt, until end of input (Ctrl-D) or Ctrl-C."""
    while True:
        try:
            yield click.prompt("você", prompt_suffix="> ")
        except (EOFError, click.Abort):
            click.echo()
            return
