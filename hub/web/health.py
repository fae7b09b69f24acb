"""Liveness and readiness: /healthz answers while the process lives, /readyz checks deps."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> ResponseReturnValue:
    """200 when Redis (broker and state) answers and domains are loaded; else 503 and why."""
    receiver = current_app.config["RECEIVER"]
    problems = receiver.readiness_problems()
    if problems:
        return jsonify(status="unavailable", problems=problems), 503
    return jsonify(status="ok", domains=sorted(receiver.registry.domains))
