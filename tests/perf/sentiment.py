"""The sentiment plugin's accuracy on the labelled set, and its cost per message.

`python -m tests.perf --only sentiment` writes var/bench/sentiment.json: accuracy
overall, on the tuning part (`messages`) and on the held-out part (`heldout`,
written after the lexicon was tuned: the honest estimate), per language, per
label and per tag (irony, negation…), a confusion matrix, the misses, and the
median time to score one message.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from plugins.sentiment.analyzer import NEUTRAL_BAND, analyze

LABELLED = Path(__file__).resolve().parent.parent / "fixtures" / "sentiment-labelled.yaml"


def _share(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def bench_sentiment() -> dict[str, Any]:
    data = YAML(typ="safe").load(LABELLED)
    rows = [{**m, "split": part} for part in ("messages", "heldout") for m in data[part]]
    groups: dict[str, list[bool]] = defaultdict(list)
    confusion: Counter[tuple[str, str]] = Counter()
    misses = []
    for row in rows:
        got = analyze(row["text"])
        ok = got.label == row["label"]
        confusion[(row["label"], got.label)] += 1
        for key in (
            "all",
            f"split:{row['split']}",
            f"lang:{row['lang']}",
            f"label:{row['label']}",
            *(f"tag:{t}" for t in row.get("tags", [])),
        ):
            groups[key].append(ok)
        if not ok:
            misses.append(
                {
                    "text": row["text"],
                    "expected": row["label"],
                    "got": got.label,
                    "score": got.score,
                    "split": row["split"],
                }
            )
    timings = []
    texts = [row["text"] for row in rows]
    for _ in range(5):
        started = time.perf_counter()
        for text in texts:
            analyze(text)
        timings.append((time.perf_counter() - started) / len(texts))
    return {
        "messages": len(rows),
        "by_split": dict(Counter(row["split"] for row in rows)),
        "by_language": dict(Counter(row["lang"] for row in rows)),
        "by_label": dict(Counter(row["label"] for row in rows)),
        "neutral_band": NEUTRAL_BAND,
        "accuracy": _share(sum(groups["all"]), len(groups["all"])),
        "accuracy_by": {
            key: {"accuracy": _share(sum(hits), len(hits)), "n": len(hits)}
            for key, hits in sorted(groups.items())
            if key != "all"
        },
        "confusion": {f"{want}->{got}": n for (want, got), n in sorted(confusion.items())},
        "misses": misses,
        "microseconds_per_message_p50": round(statistics.median(timings) * 1e6, 1),
    }
