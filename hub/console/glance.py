"""At a glance: per domain, per day, messages, replies, handoffs by kind, failures,
gate rejections and cost, as small charts drawn from the store."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from hub import defaults
from hub.console.access import permit, visible
from hub.console.charts import bars, legend
from hub.console.state import Console, console_of
from hub.store.database import connection_scope
from hub.store.traces import DayStats, daily_stats_of

blueprint = Blueprint("glance", __name__)


def _console() -> Console:
    return console_of(current_app)


def stats_of(domain_ids: list[str]) -> dict[str, list[DayStats]]:
    """Each domain's last days, in one query."""
    with connection_scope(_console().store, read_only=True) as connection:
        return daily_stats_of(connection, domain_ids, days=defaults.CONSOLE_DAYS)


def charts(days: list[DayStats]) -> dict[str, Any]:
    """The charts of one domain and its totals over the days."""
    labels = [day.day.isoformat() for day in days]
    kinds = sorted({kind for day in days for kind in day.handoffs})
    handoffs = {kind: [float(day.handoffs.get(kind, 0)) for day in days] for kind in kinds}
    return {
        "traffic": bars(
            labels,
            {
                "replies": [float(d.replies) for d in days],
                "handoffs": [float(sum(d.handoffs.values())) for d in days],
            },
            label="replies and handoffs per day",
        ),
        "messages": bars(labels, {"messages": [float(d.messages) for d in days]}, label="messages"),
        "handoffs": bars(labels, handoffs, label="handoffs by kind") if kinds else None,
        "handoff_kinds": legend(kinds),
        "problems": bars(
            labels,
            {
                "failures": [float(d.failures) for d in days],
                "gate rejections": [float(d.rejections) for d in days],
            },
            label="failures and gate rejections",
        ),
        "cost": bars(labels, {"cost": [d.cost_usd for d in days]}, label="cost", unit=" USD"),
        "totals": {
            "messages": sum(d.messages for d in days),
            "replies": sum(d.replies for d in days),
            "handoffs": sum(sum(d.handoffs.values()) for d in days),
            "failures": sum(d.failures for d in days),
            "rejections": sum(d.rejections for d in days),
            "cost_usd": round(sum(d.cost_usd for d in days), 6),
        },
        "legend": legend(["replies", "handoffs"]),
        "problems_legend": legend(["failures", "gate rejections"]),
    }


@blueprint.route("/glance")
def page() -> str:
    domain_ids = visible(_console().registry.domains)
    error = ""
    try:
        found = stats_of(domain_ids)
    except SQLAlchemyError as failure:
        found, error = {}, f"the store is unavailable: {str(failure)[:200]}"
    busy = [d for d in domain_ids if any(day.messages or day.replies for day in found.get(d, []))]
    return render_template(
        "glance.html",
        domains=busy,
        quiet=[d for d in domain_ids if d in found and d not in busy],
        charts={domain_id: charts(found[domain_id]) for domain_id in busy},
        days=defaults.CONSOLE_DAYS,
        error=error,
    )


@blueprint.route("/api/domains/<domain_id>/stats")
def api(domain_id: str) -> Response:
    permit(domain_id)
    if domain_id not in _console().registry.domains:
        abort(404)
    days = stats_of([domain_id])[domain_id]
    return jsonify({"domain": domain_id, "days": [day.to_json() for day in days]})
