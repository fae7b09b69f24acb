"""POST /webhooks/chatwoot: the one endpoint Chatwoot calls."""

from __future__ import annotations

import time

import structlog
from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from hub.defaults import MAX_WEBHOOK_BYTES
from hub.exceptions import ChatwootAIError, QueueError, ServiceUnavailableError, WebhookError
from hub.web.metrics import ACK_SECONDS, EVENTS, QUEUED

log = structlog.get_logger(__name__)

blueprint = Blueprint("webhooks", __name__)


@blueprint.post("/webhooks/chatwoot")
@blueprint.post("/webhooks/chatwoot/<token>")
def chatwoot(token: str | None = None) -> ResponseReturnValue:
    """Accept one event: 200 (queued or ignored, with the reason), 400, 401, 413 or 500."""
    started = time.perf_counter()
    receiver = current_app.config["RECEIVER"]
    event_name = "unknown"
    try:
        raw = request.get_data(cache=False)
        outcome = receiver.accept(raw, request.headers, token or request.args.get("token"))
        event_name = outcome.event or "unknown"
        status, body = outcome.status, outcome.body()
        if outcome.outcome == "queued" and outcome.domain:
            QUEUED.labels(domain=outcome.domain).inc()
        result = outcome.outcome
    except RequestEntityTooLarge:
        status, body, result = (
            413,
            {"outcome": "rejected", "detail": f"body over {_mebibytes(MAX_WEBHOOK_BYTES)}"},
            "too_large",
        )
    except WebhookError as error:
        status, body = error.status, {"outcome": "rejected", "detail": str(error)}
        result = type(error).__name__
    except (QueueError, ServiceUnavailableError) as error:
        log.error("webhook not made durable", error=str(error))
        status, body, result = 500, {"outcome": "error", "detail": str(error)}, "not_queued"
    except ChatwootAIError as error:
        log.error("webhook failed", error=str(error))
        status, body, result = 500, {"outcome": "error", "detail": str(error)}, "error"
    except Exception as error:  # a bug: 500 so Chatwoot retries; no path (it may hold the token)
        log.error("webhook failed unexpectedly", error=type(error).__name__, exc_info=True)
        status, body, result = 500, {"outcome": "error", "detail": "internal error"}, "error"
    EVENTS.labels(event=event_name, outcome=result).inc()
    ACK_SECONDS.observe(time.perf_counter() - started)
    return jsonify(body), status


def _mebibytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"
