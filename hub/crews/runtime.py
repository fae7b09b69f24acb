"""Process-wide CrewAI set-up, done once before the first crew is built.

CrewAI's storage goes under our data dir instead of $HOME, and its per-model-call
tokenizer notice is silenced. Then CrewAI is imported and its patches installed
(`hub.patches.crewai`: in-process locks, two per-kickoff caches, task outputs in
memory, shared OpenAI clients), unless CHATWOOTAI_PATCHES=off or the installed
CrewAI is not the release they were read from.
"""

from __future__ import annotations

import importlib
import logging
import os

from hub import patches
from hub.settings import Settings

_prepared = False


def prepare_crewai(settings: Settings) -> None:
    """Point CrewAI's storage at the data dir, then install its patches (idempotent)."""
    global _prepared
    if _prepared:
        return
    storage = (settings.data_dir / "crewai").resolve()
    storage.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CREWAI_STORAGE_DIR", str(storage))
    # Said once per model call for every model without a native tokenizer: noise.
    logging.getLogger("crewai.llms.base_llm").setLevel(logging.ERROR)
    importlib.import_module("crewai")  # its patches are installed once it is imported
    patches.install(settings)
    _prepared = True
