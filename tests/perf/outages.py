"""`python -m tests.perf --only outages`: the issue's full-length outages, figures in
var/bench/outages.json.

Runs the end-to-end outage tests at their full length, which `make test` runs short:
Chatwoot down 10 minutes (CHATWOOTAI_TEST_OUTAGE_SECONDS=600), PostgreSQL down 60 s
(CHATWOOTAI_TEST_DB_OUTAGE_SECONDS=60), a worker SIGKILLed under a CPU hog 5 rounds
in a row (CHATWOOTAI_TEST_KILL_ROUNDS=5), and the Redis restarts. Each test checks
exactly-once itself and reports its figures (`tests.figures`): POSTs during the
outage and their bound, answered exactly once, catch-up time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

TESTS = (
    "tests/e2e/test_chatwoot_outage.py::"
    "test_a_chatwoot_down_under_load_answers_everyone_once_and_is_not_hammered",
    "tests/e2e/test_database_outage.py",
    "tests/e2e/test_redis_outage.py",
    "tests/e2e/test_model_outage.py",
    "tests/e2e/test_contention.py",
)
FULL_LENGTH = {
    "CHATWOOTAI_TEST_OUTAGE_SECONDS": "600",
    "CHATWOOTAI_TEST_DB_OUTAGE_SECONDS": "60",
    "CHATWOOTAI_TEST_KILL_ROUNDS": "5",
}


def bench_outages(out: Path) -> dict[str, Any]:
    """Run the outage tests at full length; their figures and whether each passed."""
    figures = out / "outages.figures.tmp.json"
    figures.unlink(missing_ok=True)
    env = {**os.environ, **FULL_LENGTH, "CHATWOOTAI_TEST_FIGURES": str(figures)}
    started = time.time()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-m", "not real_model", *TESTS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    found = json.loads(figures.read_text()) if figures.exists() else {}
    figures.unlink(missing_ok=True)
    summary = run.stdout.strip().splitlines()[-1:] or [""]
    return {
        "settings": FULL_LENGTH,
        "passed": run.returncode == 0,
        "pytest": summary[0],
        "seconds": round(time.time() - started, 1),
        "tests": found,
        **({} if run.returncode == 0 else {"output_tail": run.stdout[-4000:]}),
    }
