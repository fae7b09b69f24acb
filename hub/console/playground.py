"""Playground: talk to a domain as a customer of a channel, turn by turn, through the
production decision (`decide`), each reply shown beside its trace.

A turn is one message, or a burst (several messages answered as one turn, as the
worker answers a customer who writes in pieces). The conversation keeps what a
worker keeps (history, last route, misses); after a handoff the bot stays silent,
as it does once a person owns the conversation, until the conversation is reset.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from hub import defaults
from hub.console.access import permit, visible
from hub.console.state import Console, Playground, PlaygroundTurn, console_of
from hub.conversation.decision import decide
from hub.exceptions import ChatwootAIError
from hub.turn import Turn

blueprint = Blueprint("playground", __name__)

CHANNELS = dict(defaults.CONSOLE_CHANNELS)
MAX_BURST = 8
"""Messages one playground turn may hold."""


def _console() -> Console:
    return console_of(current_app)


def _owner() -> str:
    """Who the playground conversations belong to: this browser session."""
    owner = session.get("playground")
    if not isinstance(owner, str):
        owner = secrets.token_hex(8)
        session["playground"] = owner
    return owner


def play(console: Console, playground: Playground, messages: list[str]) -> PlaygroundTurn | None:
    """One customer turn of `messages`; None when a person owns the conversation."""
    domain = console.registry.get(playground.domain_id)
    with playground.lock:
        if playground.handed_off:
            return None
        conversation = playground.session
        turns = domain.spec.conversation.history_turns
        whatsapp = playground.channel == "Channel::Whatsapp"
        turn = Turn(
            message="\n".join(messages),
            history=tuple(conversation.history[-2 * turns :]) if turns else (),
            customer_name="Cliente do playground",
            contact_phone=defaults.CONSOLE_PLAYGROUND_PHONE if whatsapp else "",
            channel=playground.channel,
            account_id=domain.spec.chatwoot.account_id,
            conversation_id=conversation.id,
            previous_route=conversation.route,
        )
        decision = decide(
            domain, turn, console.factory.hub(domain.id).run, misses=conversation.misses
        )
        conversation.after(turn.message, decision)
        played = PlaygroundTurn(
            messages, decision.draft.text, decision.draft.hands_off, decision.trace
        )
        playground.turns = [*playground.turns, played][-defaults.CONSOLE_PLAYGROUND_TURNS :]
        playground.handed_off = decision.draft.hands_off
        return played


def _messages(text: str, burst: bool) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()] if burst else []
    if not burst and text.strip():
        lines = [text.strip()]
    if not lines:
        abort(400, "write a message first")
    if len(lines) > MAX_BURST:
        abort(400, f"a burst holds at most {MAX_BURST} messages")
    return lines


@blueprint.route("/playground")
def index() -> Response:
    domains = visible(_console().registry.domains)
    if not domains:
        abort(404, "no domain to play with")
    wanted = request.args.get("domain")
    return redirect(
        url_for("playground.page", domain_id=wanted if wanted in domains else domains[0])
    )


@blueprint.route("/playground/<domain_id>")
def page(domain_id: str) -> str:
    permit(domain_id)
    console = _console()
    if domain_id not in console.registry.domains:
        abort(404)
    playground = console.playground(_owner(), domain_id)
    return render_template(
        "playground.html",
        domain_id=domain_id,
        domain=console.registry.get(domain_id),
        domains=visible(console.registry.domains),
        playground=playground,
        channels=defaults.CONSOLE_CHANNELS,
        error=request.args.get("error", ""),
    )


@blueprint.route("/playground/<domain_id>/send", methods=["POST"])
def send(domain_id: str) -> Response:
    permit(domain_id)
    console = _console()
    if domain_id not in console.registry.domains:
        abort(404)
    channel = request.form.get("channel", "")
    if channel not in CHANNELS:
        abort(400, "unknown channel")
    messages = _messages(request.form.get("message", ""), request.form.get("burst") == "1")
    playground = console.playground(_owner(), domain_id, channel)
    try:
        play(console, playground, messages)
    except ChatwootAIError as error:
        return redirect(url_for("playground.page", domain_id=domain_id, error=str(error)[:300]))
    return redirect(url_for("playground.page", domain_id=domain_id) + "#last")


@blueprint.route("/playground/<domain_id>/reset", methods=["POST"])
def reset(domain_id: str) -> Response:
    permit(domain_id)
    _console().reset(_owner(), domain_id)
    return redirect(url_for("playground.page", domain_id=domain_id))


@blueprint.route("/api/domains/<domain_id>/playground", methods=["GET", "POST"])
def api(domain_id: str) -> Response | tuple[Response, int]:
    """GET: the conversation so far; POST {"messages": [...], "channel": ...}: one turn."""
    permit(domain_id)
    console = _console()
    if domain_id not in console.registry.domains:
        abort(404)
    if request.method == "GET":
        playground = console.playground(_owner(), domain_id)
        return jsonify({"turns": [_turn_json(turn) for turn in playground.turns]})
    body: Any = request.get_json(silent=True) or {}
    messages = body.get("messages")
    channel = body.get("channel", defaults.CONSOLE_CHANNELS[0][0])
    if (
        not isinstance(messages, list)
        or not messages
        or len(messages) > MAX_BURST
        or not all(isinstance(m, str) and m.strip() for m in messages)
        or channel not in CHANNELS
    ):
        return jsonify(
            {"error": f"messages: 1 to {MAX_BURST} texts; channel: one of {sorted(CHANNELS)}"}
        ), 400
    playground = console.playground(_owner(), domain_id, channel)
    played = play(console, playground, [m.strip() for m in messages])
    if played is None:
        return jsonify({"silent": True, "reason": "the conversation is with a person"}), 409
    return jsonify(_turn_json(played))


def _turn_json(turn: PlaygroundTurn) -> dict[str, Any]:
    return {
        "messages": turn.messages,
        "reply": turn.reply,
        "handoff": turn.handoff,
        "trace": turn.trace,
    }
