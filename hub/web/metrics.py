"""Prometheus metrics of the receiver, served at /metrics."""

from __future__ import annotations

import os

from flask import Blueprint, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

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
    "chatwootai_messages_queued_total",
    "Customer messages accepted and queued for a worker (messages in), by domain",
    ["domain"],
)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""Set (to an empty directory) before gunicorn starts, every receiver process writes its
counts there and any of them answers a scrape with the sum."""

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: the receiver's own series, then the workers' (from Redis)."""
    workers = current_app.config["RECEIVER"].worker_metrics
    return Response(
        generate_latest(receiver_registry()) + generate_latest(workers),
        mimetype=CONTENT_TYPE_LATEST,
    )


def receiver_registry() -> CollectorRegistry:
    """This process's series, or every gunicorn process's summed in multiprocess mode.

    Without it each process counts alone and a scrape shows whichever answered:
    the counters would jump back and forth between processes' totals.
    """
    if not os.environ.get(MULTIPROCESS_ENV):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
