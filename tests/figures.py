"""Figures a long test reports to the bench: appended to the JSON file named by
CHATWOOTAI_TEST_FIGURES when it is set (`python -m tests.perf --only outages`), else
only printed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def report(test: str, figures: dict[str, Any]) -> None:
    """Print `figures` and, for the bench, add them under `test` to its file."""
    print(f"{test}: {figures}")
    target = os.environ.get("CHATWOOTAI_TEST_FIGURES")
    if not target:
        return
    path = Path(target)
    found = json.loads(path.read_text()) if path.exists() else {}
    found[test] = figures
    path.write_text(json.dumps(found, indent=2))
