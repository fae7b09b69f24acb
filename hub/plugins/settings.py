"""The base of every plugin's per-domain settings, and the plugins' time budgets."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

TIMEOUT_SECONDS = 2.0
"""A worker-side hook's time budget unless the plugin's settings say otherwise:
the turn waits at most this long for one plugin, then goes on without it."""

RECEIVED_TIMEOUT_SECONDS = 0.05
"""`message_received` runs in the receiver, which answers Chatwoot in milliseconds."""


class PluginSettings(BaseModel):
    """What a domain writes under `plugins.<name>`: subclass it and add your fields.

    Unknown keys are errors, as everywhere in domain.yaml, so a typo is reported
    with its file, line and key by `chatwootai domains validate`. The two budgets
    apply to every plugin; a plugin that calls slow systems raises its default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_seconds: float = Field(default=TIMEOUT_SECONDS, gt=0, le=120)
    received_timeout_seconds: float = Field(default=RECEIVED_TIMEOUT_SECONDS, gt=0, le=1)
