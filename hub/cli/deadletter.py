"""`chatwootai deadletter list|show|replay`: the messages workers gave up on.

`replay` takes the letter out of the list and queues its message the way the
receiver does (the conversation's mailbox, then the domain's queue), so the
normal path answers it: the reply record still makes it exactly once (a message
whose reply was posted after all is acknowledged without a second one), and a
letter taken out by one replay is not there for another.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import click
import redis
from celery import Celery
from pydantic import ValidationError

from hub.conversation.deadletter import DeadLetters
from hub.conversation.inbound import InboundMessage
from hub.conversation.mailbox import Mailbox
from hub.domains.registry import DomainRegistry
from hub.exceptions import ChatwootAIError, ConfigurationError
from hub.kvstore import connect, redis_url
from hub.queue import HANDLE_MESSAGE, create_celery, priority_of, queue_for
from hub.settings import Settings, get_settings


def _letters() -> DeadLetters:
    try:
        return DeadLetters(connect(redis_url(get_settings())))
    except ChatwootAIError as error:
        raise click.ClickException(str(error)) from error


def _when(entry: dict[str, Any]) -> str:
    at = entry.get("at")
    if not isinstance(at, int | float):
        return "?"
    moment = datetime.datetime.fromtimestamp(at, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _ids(entry: dict[str, Any]) -> str:
    message = entry.get("message") if isinstance(entry.get("message"), dict) else {}
    assert isinstance(message, dict)
    return (
        f"account {message.get('account_id', '?')} "
        f"conversation {message.get('conversation_id', '?')} "
        f"message {message.get('message_id', '?')}"
    )


@click.group()
def deadletter() -> None:
    """Messages that could not be answered: list them, read one, queue it again."""


@deadletter.command("list")
@click.option("--domain", help="only this domain's")
def list_command(domain: str | None) -> None:
    """One line per dead letter, oldest first: id, when, domain, reason, ids."""
    try:
        entries = _letters().all(domain)
    except redis.RedisError as error:
        raise click.ClickException(f"Redis: {error}") from error
    for entry in entries:
        click.echo(
            f"{entry.get('id') or '-':<12}  {_when(entry)}  {entry.get('domain', '?'):<12} "
            f"{entry.get('reason', '?'):<22} {_ids(entry)}"
        )
    click.echo(f"{len(entries)} dead letter(s)", err=True)


@deadletter.command("show")
@click.argument("letter_id")
def show(letter_id: str) -> None:
    """The whole entry as JSON: the message, why it died (reason, error) and when."""
    try:
        entry = _letters().get(letter_id)
    except redis.RedisError as error:
        raise click.ClickException(f"Redis: {error}") from error
    if entry is None:
        raise click.ClickException(f"no dead letter {letter_id!r}")
    click.echo(json.dumps({**entry, "when": _when(entry)}, ensure_ascii=False, indent=2))


@deadletter.command("replay")
@click.argument("letter_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="every dead letter (of --domain)")
@click.option("--domain", help="with --all: only this domain's")
def replay(letter_ids: tuple[str, ...], everything: bool, domain: str | None) -> None:
    """Queue dead letters again through the normal path; each is taken out of the list."""
    if bool(letter_ids) == everything:
        raise click.UsageError("name the dead letters to replay, or pass --all")
    letters = _letters()
    settings = get_settings()
    celery = create_celery(settings)
    queues = _queues(settings)
    try:
        ids = letter_ids or tuple(str(e["id"]) for e in letters.all(domain) if e.get("id"))
        replayed = 0
        for letter_id in ids:
            entry = letters.take(letter_id)
            if entry is None:
                click.echo(f"{letter_id}: not there (replayed already?)", err=True)
                continue
            if _requeue(letters, Mailbox(letters.redis), celery, entry, queues):
                replayed += 1
                click.echo(f"{entry['id']}: queued again ({_ids(entry)})")
    except redis.RedisError as error:
        raise click.ClickException(f"Redis: {error}") from error
    click.echo(f"{replayed} dead letter(s) replayed", err=True)


def _queues(settings: Settings) -> Callable[[str], str]:
    """Domain id → its queue: the dedicated one, or its shard (a replay is the message's
    own task on either, not a claim in its tenant's line: an operator asked for it)."""
    try:
        registry = DomainRegistry(
            settings.domains_dir, reload_interval=float("inf"), log_problems=False
        )
        own = {d.id for d in registry.domains.values() if d.spec.queue == "dedicated"}
    except ConfigurationError:
        own = set()
    return lambda domain_id: queue_for(
        domain_id, dedicated=domain_id in own, shards=settings.queue_shards
    )


def _requeue(
    letters: DeadLetters,
    mailbox: Mailbox,
    celery: Celery,
    entry: dict[str, Any],
    queues: Callable[[str], str],
) -> bool:
    """The message in its mailbox and its task on its domain's queue; a letter that is
    not a message, or whose task cannot be queued, goes back to the list."""
    try:
        message = InboundMessage.model_validate(entry.get("message"))
    except ValidationError as error:
        letters.put_back(entry)
        click.echo(f"{entry.get('id')}: not a message, kept: {error}", err=True)
        return False
    mailbox.push(message)
    try:
        celery.send_task(
            HANDLE_MESSAGE,
            args=[message.model_dump()],
            queue=queues(message.domain),
            priority=priority_of(message.urgent),
            argsrepr=message.safe_repr,
            kwargsrepr="{}",
        )
    except Exception as error:  # kombu raises transport-specific errors
        mailbox.withdraw(message)
        letters.put_back(entry)
        click.echo(f"{entry.get('id')}: could not be queued, kept: {error}", err=True)
        return False
    return True
