"""The console's page load times with many tenants and a store full of traced turns.

`python -m tests.perf --only console` writes var/bench/console.json: for each page
and API URL, the median and p95 of the time the app takes to answer it (Flask's
test client, in process: no network, no browser), with `tenants` generated domains
(copies of `default`, each on its own Chatwoot account) and `turns` recorded turns
per tenant spread over the last 14 days, each with a trace. CHATWOOTAI_BENCH_TENANTS
sets the number of tenants (200).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.console import create_app
from hub.console.access import hash_password, parse_users
from hub.console.state import Console
from hub.settings import Settings
from hub.store.conversations import TurnRecord, record_turn
from hub.store.database import connection_scope, create_engine
from hub.store.migrate import upgrade
from tests.conftest import SAMPLE_DOMAINS

TENANTS = int(os.environ.get("CHATWOOTAI_BENCH_TENANTS", "200"))
TURNS_PER_TENANT = 140
RUNS = 15
TRACE: dict[str, Any] = {
    "message": "Qual o horário?",
    "channel": "Channel::Whatsapp",
    "route": "support",
    "routed_by": "classifier",
    "route_confidence": 0.91,
    "model": "offline",
    "passages": [
        {
            "source": "knowledge/x.md",
            "heading": "Horário",
            "score": 3.2,
            "by": "offline",
            "text": "9h",
        }
    ],
    "tools": [{"tool": "knowledge_search", "arguments": {"query": "horário"}, "kind": "passages"}],
    "gate": {"rejections": [], "retried": False, "source": "model"},
    "handoff": None,
    "miss": False,
    "failure": None,
    "error": None,
    "tokens": {"prompt_tokens": 900, "completion_tokens": 60},
    "cost_usd": 0.0,
    "seconds": 0.2,
}


def _tenants(root: Path, count: int) -> list[str]:
    """The sample domains, and `count` copies of `default` each on its own account."""
    shutil.copytree(SAMPLE_DOMAINS, root, dirs_exist_ok=True)
    template = (SAMPLE_DOMAINS / "default" / "domain.yaml").read_text(encoding="utf-8")
    ids = []
    for number in range(count):
        tenant = f"tenant{number:04d}"
        shutil.copytree(SAMPLE_DOMAINS / "default", root / tenant)
        text = template + f"\nchatwoot:\n  account_id: {1000 + number}\n"
        (root / tenant / "domain.yaml").write_text(text, encoding="utf-8")
        ids.append(tenant)
    return ids


def _store(url: str, ids: list[str], now: datetime) -> int:
    upgrade(url)
    engine = create_engine(url)
    written = 0
    with connection_scope(engine) as connection:
        for account, tenant in enumerate(ids, 1000):
            for number in range(TURNS_PER_TENANT):
                handoff = "crew" if number % 10 == 0 else None
                record_turn(
                    connection,
                    TurnRecord(
                        domain=tenant,
                        account_id=account,
                        conversation_id=number // 4,
                        message_id=number,
                        customer_text="Qual o horário?",
                        reply_text="Abrimos às 9h.",
                        route="handoff" if handoff else "support",
                        trace=TRACE,
                        handoff_kind=handoff,
                        rejected=number % 25 == 0,
                    ),
                    now=now - timedelta(hours=number * 2.4),
                )
                written += 1
    engine.dispose()
    return written


def _timed(client: Any, path: str) -> dict[str, float]:
    seconds = []
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code)
    ordered = sorted(seconds)
    return {
        "ms_p50": round(statistics.median(ordered) * 1000, 2),
        "ms_p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000, 2),
    }


def bench_console(tmp: Path) -> dict[str, Any]:
    root = tmp / "console-bench"
    shutil.rmtree(root, ignore_errors=True)
    domains = root / "domains"
    started = time.perf_counter()
    ids = _tenants(domains, TENANTS)
    url = f"sqlite:///{root / 'store.sqlite3'}"
    turns = _store(url, ids, datetime.now(UTC))
    prepared = time.perf_counter() - started
    settings = Settings(
        domains_dir=domains, data_dir=root / "var", database_url=url, embeddings="none"
    )
    started = time.perf_counter()
    console = Console(settings)
    start_seconds = time.perf_counter() - started
    password = "bench password"
    hashed = hash_password(password)
    app = create_app(
        {
            "SETTINGS": settings,
            "CONSOLE": console,
            "CONSOLE_USERS": parse_users(f"agency {hashed} *; one {hashed} {ids[0]}"),
        }
    )
    pages: dict[str, dict[str, dict[str, float]]] = {}
    try:
        for user in ("agency", "one"):
            client = app.test_client()
            page = client.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert token is not None
            client.post("/login", data={"user": user, "password": password, "csrf": token[1]})
            tenant = ids[0]
            pages[user] = {
                path: _timed(client, path)
                for path in (
                    "/glance",
                    "/domains",
                    f"/domains/{tenant}",
                    f"/conversations/{tenant}",
                    f"/conversations/{tenant}?handoff=any",
                    f"/api/domains/{tenant}/turns",
                    f"/api/domains/{tenant}/stats",
                )
            }
    finally:
        console.close()
    return {
        "tenants": len(ids),
        "turns": turns,
        "runs_per_page": RUNS,
        "store": "SQLite",
        "prepare_seconds": round(prepared, 2),
        "console_start_seconds": round(start_seconds, 2),
        "pages": pages,
    }
