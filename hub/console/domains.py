"""Domains: each domain valid, or every error with file, line and key; its routes,
crews, knowledge and plugins (a secret shown by its variable's name only); and a
button that runs its conversation tests as `chatwootai test` does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template
from werkzeug.wrappers import Response

from hub.console.access import permit, visible
from hub.console.state import Console, console_of
from hub.crews.stories import StoryResult, StoryRunner, collect_stories
from hub.domains.domain import Domain
from hub.exceptions import ChatwootAIError

blueprint = Blueprint("domains", __name__)

SECRET_WORDS = ("token", "secret", "password", "api_key", "apikey", "credential")
"""A plugin setting whose key holds one of these (and does not end in `_env`, which
names a variable) is masked."""
MASK = "•••"


def _console() -> Console:
    return console_of(current_app)


def _all_ids() -> list[str]:
    registry = _console().registry
    registry.maybe_reload()
    return visible({*registry.domains, *registry.problems})


def status(domain_id: str) -> dict[str, Any]:
    """The domain's status as data: valid, or its errors with file, line and key."""
    console = _console()
    problem = console.registry.problems.get(domain_id)
    if problem is None:
        return {"id": domain_id, "valid": True, "errors": []}
    root = console.settings.domains_dir
    return {
        "id": domain_id,
        "valid": False,
        "errors": [
            {
                "file": _relative(error.file, root),
                "line": error.line,
                "key": error.key_path,
                "message": error.message,
                "expected": error.expected,
            }
            for error in problem.errors
        ],
    }


def details(domain: Domain) -> dict[str, Any]:
    """Routes, crews, knowledge and plugins of a valid domain."""
    spec = domain.spec
    kit = _console().factory.prepared_kit(domain.id)
    chunks = domain.knowledge_chunks()
    files = sorted({chunk.source for chunk in chunks})
    return {
        "name": spec.name,
        "account_id": spec.chatwoot.account_id,
        "inbox_ids": list(spec.chatwoot.inbox_ids or []),
        "token_env": spec.chatwoot.token_env,
        "webhook_secret_env": spec.chatwoot.webhook_secret_env,
        "chain": list(domain.chain),
        "routes": [
            {"name": name, "crew": route.crew, "description": route.description}
            for name, route in spec.routing.routes.items()
        ],
        "default_route": spec.routing.default,
        "crews": [
            {
                "name": name,
                "agents": [
                    {"name": agent_name, "role": agent.role, "tools": list(agent.tools)}
                    for agent_name, agent in crew.agents.items()
                ],
            }
            for name, crew in spec.crews.items()
        ],
        "knowledge": {
            "chunks": len(chunks),
            "files": files,
            "last_sync": None
            if kit is None or kit.synced is None
            else {
                "at": kit.prepared_at.isoformat(timespec="seconds"),
                "added": kit.synced.added,
                "removed": kit.synced.removed,
                "kept": kit.synced.kept,
                "dense": kit.synced.dense,
            },
        },
        "plugins": [
            {"name": name, "settings": masked(settings or {})}
            for name, settings in spec.plugins.items()
        ],
        "stories": len([story for tests in domain.tests for story in tests.stories]),
    }


def masked(value: Any, key: str = "") -> Any:
    """Plugin settings as shown: variables by name (`…_env`), any secret value masked."""
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    lowered = key.lower()
    if value and not lowered.endswith("_env") and any(w in lowered for w in SECRET_WORDS):
        return MASK
    return value


def run_stories(domain_id: str) -> list[StoryResult]:
    """The domain's conversation tests, each a fresh conversation on the sandbox."""
    console = _console()
    domain = console.registry.get(domain_id)
    runner = StoryRunner(console.factory)
    return [runner.run(case) for case in collect_stories([domain])]


def story_json(result: StoryResult) -> dict[str, Any]:
    return {
        "id": result.case.id,
        "name": result.case.name,
        "location": result.case.location,
        "passed": result.passed,
        "failures": result.failures,
        "seconds": round(result.duration, 3),
        "steps": [
            {
                "number": step.number,
                "customer": step.customer,
                "passed": step.passed,
                "failures": list(step.failures),
                "reply": step.outcome.reply if step.outcome is not None else None,
                "route": step.outcome.route if step.outcome is not None else None,
            }
            for step in result.steps
        ],
    }


def _relative(file: Path | None, root: Path) -> str | None:
    if file is None:
        return None
    try:
        return str(Path(file).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(file)


def _page(domain_id: str, stories: list[StoryResult] | None = None, error: str = "") -> str:
    console = _console()
    found = console.registry.domains.get(domain_id)
    return render_template(
        "domain.html",
        domain_id=domain_id,
        domains=_all_ids(),
        status=status(domain_id),
        details=details(found) if found is not None else None,
        stories=stories,
        error=error,
    )


@blueprint.route("/domains")
def index() -> str:
    return render_template("domains.html", statuses=[status(d) for d in _all_ids()])


@blueprint.route("/domains/<domain_id>")
def page(domain_id: str) -> str:
    permit(domain_id)
    if domain_id not in _all_ids():
        abort(404)
    return _page(domain_id)


@blueprint.route("/domains/<domain_id>/stories", methods=["POST"])
def stories(domain_id: str) -> str:
    permit(domain_id)
    if domain_id not in _console().registry.domains:
        abort(404)
    try:
        return _page(domain_id, run_stories(domain_id))
    except ChatwootAIError as error:
        return _page(domain_id, [], error=str(error)[:400])


@blueprint.route("/api/domains")
def api_index() -> Response:
    return jsonify({"domains": [status(d) for d in _all_ids()]})


@blueprint.route("/api/domains/<domain_id>")
def api_page(domain_id: str) -> Response:
    permit(domain_id)
    if domain_id not in _all_ids():
        abort(404)
    found = _console().registry.domains.get(domain_id)
    return jsonify({**status(domain_id), "details": details(found) if found else None})


@blueprint.route("/api/domains/<domain_id>/stories", methods=["POST"])
def api_stories(domain_id: str) -> Response:
    permit(domain_id)
    if domain_id not in _console().registry.domains:
        abort(404)
    results = run_stories(domain_id)
    return jsonify(
        {"passed": all(r.passed for r in results), "stories": [story_json(r) for r in results]}
    )
