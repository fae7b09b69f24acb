"""Conversations: the turns recorded in the store, per domain, each with its trace,
filtered by handoff, failure, route and gate rejection, linked to Chatwoot."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from hub import defaults
from hub.console.access import permit, visible
from hub.console.state import Console, console_of
from hub.store.database import connection_scope
from hub.store.traces import RecordedTurn, TurnFilter, recent_turns

blueprint = Blueprint("conversations", __name__)

HANDOFF_CHOICES = (
    "",
    "any",
    "none",
    "rule",
    "customer_asked",
    "crew",
    "plugin",
    "failure",
    "unanswered",
    "late",
)


def _console() -> Console:
    return console_of(current_app)


def wanted() -> TurnFilter:
    """The filter the query string asks for; a bad value is a 400."""
    handoff = request.args.get("handoff", "")
    if handoff not in HANDOFF_CHOICES:
        abort(400, f"handoff: one of {', '.join(c for c in HANDOFF_CHOICES if c)}")
    return TurnFilter(
        handoff=handoff or None,
        failure=request.args.get("failure") == "1",
        route=request.args.get("route") or None,
        rejected=request.args.get("rejected") == "1",
    )


def chatwoot_link(turn: RecordedTurn) -> str | None:
    """The conversation in Chatwoot, when CHATWOOTAI_CHATWOOT_URL is set."""
    base = _console().settings.chatwoot_url
    if not base:
        return None
    return f"{base.rstrip('/')}/app/accounts/{turn.account_id}/conversations/{turn.conversation_id}"


def turns_of(domain_id: str) -> list[RecordedTurn]:
    console = _console()
    with connection_scope(console.store, read_only=True) as connection:
        return recent_turns(connection, domain_id, wanted(), limit=defaults.CONSOLE_RECENT_TURNS)


@blueprint.route("/conversations")
def index() -> Response:
    domains = visible(_console().registry.domains)
    if not domains:
        abort(404, "no domain to show")
    return redirect(url_for("conversations.page", domain_id=domains[0]))


@blueprint.route("/conversations/<domain_id>")
def page(domain_id: str) -> str:
    permit(domain_id)
    console = _console()
    routes = (
        sorted(console.registry.get(domain_id).spec.routing.routes)
        if domain_id in console.registry.domains
        else []
    )
    error = ""
    try:
        turns = turns_of(domain_id)
    except SQLAlchemyError as failure:
        turns, error = [], f"the store is unavailable: {str(failure)[:200]}"
    return render_template(
        "conversations.html",
        domain_id=domain_id,
        domains=visible(console.registry.domains),
        turns=turns,
        error=error,
        link=chatwoot_link,
        wanted=wanted(),
        routes=[*routes, "handoff"],
        handoffs=HANDOFF_CHOICES,
    )


@blueprint.route("/api/domains/<domain_id>/turns")
def api(domain_id: str) -> Response:
    permit(domain_id)
    return jsonify(
        {
            "turns": [
                {**turn.to_json(), "chatwoot_url": chatwoot_link(turn)}
                for turn in turns_of(domain_id)
            ]
        }
    )
