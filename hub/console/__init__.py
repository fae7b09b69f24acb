"""The operator console: a process of its own (`chatwootai console`), never the receiver.

`create_app()` is the factory (gunicorn: `hub.console:create_app()`); each page is a
blueprint in its own module, with its JSON API beside it:

    Playground      talk to a domain as a customer, turn by turn through `decide`,
                    each reply beside its trace                    (playground.py)
    Conversations   the recorded turns with the same trace, filtered (conversations.py)
    Domains         valid or every error with file, line and key; routes, crews,
                    knowledge, plugins; its conversation tests run    (domains.py)
    At a glance     per domain per day, drawn as small SVG charts     (glance.py)

Pages are rendered on the server; the assets (a stylesheet, a little plain JS) are
package data: nothing is fetched from elsewhere. Access and CSRF: `access.py`.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, request
from werkzeug.wrappers import Response

from hub.console.access import csrf_token, current_user
from hub.console.state import EXTENSION, Console, console_of


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the console; `test_config` may carry `SETTINGS`, a ready `CONSOLE` and
    `CONSOLE_USERS`."""
    from hub.console import access, conversations, domains, glance, playground
    from hub.console.access import load_users

    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # customers write accents
    if test_config:
        app.config.update(test_config)
    settings = app.config.get("SETTINGS")
    if settings is None:
        from hub.logs import configure_logging
        from hub.settings import get_settings

        settings = get_settings()
        configure_logging(settings)
        app.config["SETTINGS"] = settings
    if "CONSOLE_USERS" not in app.config:
        text = settings.console_users.get_secret_value() if settings.console_users else None
        app.config["CONSOLE_USERS"] = load_users(text, settings.console_users_file)
    key = settings.console_secret_key
    app.secret_key = key.get_secret_value() if key else secrets.token_hex(32)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    console = app.config.get("CONSOLE") or Console(settings)
    app.extensions[EXTENSION] = console
    app.before_request(access.guard)
    app.after_request(_headers)
    app.context_processor(
        lambda: {"csrf_token": csrf_token, "user": current_user(), "settings": settings}
    )
    for module in (access, playground, conversations, domains, glance):
        app.register_blueprint(module.blueprint)
    app.add_url_rule("/", "home", lambda: glance.page())
    app.add_url_rule("/healthz", "healthz", lambda: {"status": "ok"})
    return app


def _headers(response: Response) -> Response:
    """No framing by other sites, no content sniffing, nothing loaded from elsewhere."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
    )
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


__all__ = ["Console", "console_of", "create_app"]
