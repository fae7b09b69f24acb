"""The receiver: a thin Flask app that verifies, filters and queues Chatwoot webhooks.

`create_app()` is the factory (gunicorn: `hub.web:create_app()`); each concern is
a blueprint in its own module. The receiver never waits on a model, a database
or Chatwoot: per webhook it does a few Redis round trips and one broker publish.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from flask import Flask, request

from hub.web.receiver import Receiver

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


class ReceiverApp(Flask):
    """Flask, whose error log names the route, never the path: an old Chatwoot's
    webhook URL carries the secret (`/webhooks/chatwoot/<token>`)."""

    def log_exception(self, exc_info: ExcInfo) -> None:
        rule = request.url_rule.rule if request.url_rule is not None else "an unknown route"
        self.logger.error("Exception on %s [%s]", rule, request.method, exc_info=exc_info)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the receiver app; `test_config` may carry a ready `Receiver` and settings."""
    from hub import defaults
    from hub.web import health, metrics, webhooks

    app = ReceiverApp(__name__)
    app.config["MAX_CONTENT_LENGTH"] = defaults.MAX_WEBHOOK_BYTES
    if test_config:
        app.config.update(test_config)
    receiver = app.config.get("RECEIVER")
    if receiver is None:
        from hub.logs import configure_logging
        from hub.settings import get_settings

        configure_logging(get_settings())
        receiver = Receiver.from_settings()
        app.config["RECEIVER"] = receiver
    app.register_blueprint(webhooks.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(metrics.blueprint)
    return app


__all__ = ["Receiver", "ReceiverApp", "create_app"]
