"""Agents move a conversation to another domain from Chatwoot: a label or an attribute.

A domain declares (`switching:` in its YAML) which Chatwoot labels move a
conversation elsewhere (`labels: {domain-health: health}`) and, optionally, the
conversation custom attribute whose value names the domain
(`custom_attribute: chatwootai_domain`). Only agents, automations and the API
set labels and conversation custom attributes; a customer cannot, and nothing a
customer writes is read here, so customer text can never switch a domain.

The rules of the conversation's *current* domain apply. A label that names the
current domain keeps it, unless another switch label was just added (Chatwoot's
`changed_attributes` says which): the newest instruction wins. Two different
targets at once are ambiguous and change nothing (logged).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from hub.domains.domain import Domain

log = structlog.get_logger(__name__)

LABEL_CHANGE_KEYS = ("labels", "label_list", "cached_label_list")
"""How Chatwoot versions name the labels in `changed_attributes`."""


@dataclass(frozen=True)
class SwitchSignal:
    """Where the conversation should go, and what in Chatwoot said so."""

    target: str
    reason: str


def switch_signal(
    domain: Domain,
    *,
    labels: Sequence[str],
    attributes: Mapping[str, Any],
    added_labels: Iterable[str] = (),
) -> SwitchSignal | None:
    """The switch the conversation's labels or custom attribute ask for, if any."""
    rules = domain.spec.switching
    if rules.custom_attribute:
        value = attributes.get(rules.custom_attribute)
        if isinstance(value, str) and value.strip() and value.strip().lower() != domain.id:
            return SwitchSignal(
                value.strip().lower(), f"atributo {rules.custom_attribute}={value.strip()}"
            )
    mapping = {label.lower(): target for label, target in rules.labels.items()}
    lowered = [label.lower() for label in labels]
    present = [(label, mapping[label]) for label in lowered if label in mapping]
    added = {label.lower() for label in added_labels}
    fresh = [pair for pair in present if pair[0] in added]
    candidates = fresh or present
    if not fresh and any(target == domain.id for _label, target in candidates):
        return None
    targets = {target for _label, target in candidates if target != domain.id}
    if len(targets) > 1:
        log.warning(
            "switch labels name several domains; nothing changed",
            domain=domain.id,
            labels=sorted(label for label, _target in candidates),
        )
        return None
    if not targets:
        return None
    target = targets.pop()
    label = next(label for label, t in candidates if t == target)
    return SwitchSignal(target, f"etiqueta {label}")


def added_labels(changes: Sequence[Mapping[str, Any]]) -> set[str]:
    """Labels a `conversation_updated` event's `changed_attributes` says were just added."""
    added: set[str] = set()
    for change in changes:
        for key in LABEL_CHANGE_KEYS:
            entry = change.get(key)
            if entry is None:
                continue
            before = _labels(getattr(entry, "previous_value", None))
            after = _labels(getattr(entry, "current_value", None))
            added |= after - before
    return added


def switch_vocabulary(domains: Iterable[Domain]) -> tuple[frozenset[str], frozenset[str]]:
    """Every switch label and attribute name any domain uses: events without them skip
    the lookup of the conversation's domain."""
    labels: set[str] = set()
    attributes: set[str] = set()
    for domain in domains:
        labels |= {label.lower() for label in domain.spec.switching.labels}
        if domain.spec.switching.custom_attribute:
            attributes.add(domain.spec.switching.custom_attribute)
    return frozenset(labels), frozenset(attributes)


def _labels(value: Any) -> set[str]:
    if isinstance(value, str):
        return {part.strip().lower() for part in value.split(",") if part.strip()}
    if isinstance(value, list):
        return {str(part).strip().lower() for part in value if str(part).strip()}
    return set()
