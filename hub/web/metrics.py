"""Prometheus metrics of the receiver, served at /metrics."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

EVENTS = Counter(
    "chatwootai_webhook_events_total",
    "Webhook events received, by event type and outcome (queued or the reason ignored)",
    ["event", "outcome"],
)
ACK_SECONDS = Histogram(
    "chatwootai_webhook_ack_seconds",
    "Time from request start to the webhook's answer",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
QUEUED = Counter(
    "chatwootai_messages_queued_total", "Customer messages queued, by domain", ["domain"]
)

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: the receiver's own series, then the workers' (from Redis)."""
    workers = current_app.config["RECEIVER"].worker_metrics
    return Response(generate_latest() + generate_latest(workers), mimetype=CONTENT_TYPE_LATEST)
