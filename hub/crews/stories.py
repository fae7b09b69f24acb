"""Conversation tests: run a domain's `tests/*.yaml` stories through the worker's decision.

A story is one fresh conversation (its own conversation id, so nothing a tool
records leaks into another story). Each customer turn is decided by the same
function as in production (`hub.conversation.decision.decide`: rules, requests
for a person, an accepted offer, misses, the crew and its failures); between
turns the story keeps what a worker keeps: the history, as (customer, bot)
pairs trimmed to `conversation.history_turns`, the last route and the count
of misses.

After each turn the step's `expect` is checked and *every* mismatch recorded;
a failing step does not stop the story, since a later step's result still says
something. A handoff does: in production a human then owns the conversation
and the bot stays silent, so the steps after one are reported as not run
(failures too). A crew exception is what the worker makes of it (the fallback
message and a handoff), reported as that step's failure with the error.

Texts are compared folded with `hub.knowledge.text.normalize` (lowercase,
accents removed, spaces collapsed), so "úteis" matches "uteis" and "Úteis".
"""

from __future__ import annotations

import itertools
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hub.conversation.decision import Session, decide
from hub.domains.content import Expectation, Story, StoryContact
from hub.domains.loader import TESTS_DIR, content_files
from hub.domains.source import read_yaml
from hub.exceptions import ConfigurationError
from hub.knowledge.text import normalize
from hub.store.database import create_engine
from hub.store.embedded import migrate_and_seed
from hub.turn import HANDOFF_ROUTE, HubResult, Turn

if TYPE_CHECKING:
    from hub.crews.factory import CrewFactory
    from hub.domains.domain import Domain

STORY_DATABASE = "stories.sqlite3"
"""The throwaway database's file name, inside its own temporary folder."""


@dataclass(frozen=True)
class StoryCase:
    """One story and where it was written: domain, file and (when known) its line."""

    domain_id: str
    file: Path
    story: Story
    line: int | None = None

    @property
    def name(self) -> str:
        """The story's `name`."""
        return self.story.name

    @property
    def id(self) -> str:
        """`domain/file.yaml::name`: unique within a domains folder, and readable."""
        return f"{self.domain_id}/{self.file.name}::{self.name}"

    @property
    def location(self) -> str:
        """`file.yaml:line` (or just the file name when the line is not known)."""
        return f"{self.file.name}:{self.line}" if self.line else self.file.name


@dataclass(frozen=True)
class Outcome:
    """What the bot did with one customer turn."""

    reply: str
    route: str | None
    routed_by: str = ""
    tool_calls: tuple[str, ...] = ()
    handoff: bool = False
    handoff_reason: str | None = None
    error: str | None = None
    result: HubResult | None = field(default=None, compare=False, repr=False)
    """The crew's result, when it ran: the reply gate's refusals, the tools' answers."""


@dataclass(frozen=True)
class StepResult:
    """One step: the customer's words, what happened, and every way it differs from `expect`."""

    number: int
    customer: str
    expect: Expectation
    outcome: Outcome | None
    failures: tuple[str, ...] = ()
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        """True when the step ran and matched every expectation."""
        return not self.failures

    def describe(self) -> list[str]:
        """The step as report lines: the turn, what happened, each failure, the reply."""
        lines = [f"step {self.number}: {self.customer}"]
        if self.outcome is not None:
            outcome = self.outcome
            route = outcome.route or "-"
            if outcome.routed_by:
                route += f" ({outcome.routed_by})"
            tools = ", ".join(outcome.tool_calls) or "none"
            handoff = f"yes ({outcome.handoff_reason})" if outcome.handoff else "no"
            lines.append(f"  route: {route} · tools: {tools} · handoff: {handoff}")
        lines += [f"  ✗ {failure}" for failure in self.failures]
        if self.outcome is not None:
            first, *rest = self.outcome.reply.splitlines() or [""]
            lines.append(f"  reply: {first}")
            lines += [f"         {line}" if line.strip() else "" for line in rest]
        return lines


@dataclass(frozen=True)
class StoryResult:
    """A story's steps, in order, and how long the whole conversation took."""

    case: StoryCase
    steps: tuple[StepResult, ...]
    duration: float

    @property
    def passed(self) -> bool:
        """True when every step passed."""
        return all(step.passed for step in self.steps)

    @property
    def failures(self) -> list[str]:
        """Every failure, prefixed with its step number."""
        return [f"step {s.number}: {failure}" for s in self.steps for failure in s.failures]

    def report(self, *, verbose: bool = False) -> str:
        """Headline, then the failing steps (every step when `verbose`), indented."""
        status = "PASS" if self.passed else "FAIL"
        lines = [
            f"{status}  {self.case.domain_id}  {self.case.location}  {self.case.name}"
            f"  ({self.duration:.2f} s)"
        ]
        for step in self.steps:
            if verbose or not step.passed:
                lines += [f"      {line}" if line else "" for line in step.describe()]
        return "\n".join(lines)


def stories_of(domain: Domain) -> list[StoryCase]:
    """The domain's stories in file order, each with its file and line.

    The content is what the domain validated at load (`Domain.tests`, one entry per
    `tests/*.yaml` in name order); lines are read again from the files, and left
    out if a file changed since.
    """
    files = content_files(domain.directory, TESTS_DIR)
    if len(files) != len(domain.tests):
        raise ConfigurationError(
            "conversation tests changed while loading; run again", file=domain.directory / TESTS_DIR
        )
    cases: list[StoryCase] = []
    for path, tests in zip(files, domain.tests, strict=True):
        lines = _story_lines(path, tests.stories)
        cases += [
            StoryCase(domain.id, path, story, line)
            for story, line in zip(tests.stories, lines, strict=True)
        ]
    return cases


def _story_lines(path: Path, stories: list[Story]) -> list[int | None]:
    """The line of each story's list item, when the file still holds that story there."""
    try:
        document = read_yaml(path)
    except (ConfigurationError, OSError):
        return [None] * len(stories)
    written = document.data.get("stories") if isinstance(document.data, dict) else None
    lines: list[int | None] = []
    for index, story in enumerate(stories):
        position = document.positions.get(("stories", index))
        same = (
            isinstance(written, list)
            and index < len(written)
            and isinstance(written[index], dict)
            and str(written[index].get("name", "")).strip() == story.name
        )
        lines.append(position.line if position is not None and same else None)
    return lines


def collect_stories(domains: Iterable[Domain], match: str | None = None) -> list[StoryCase]:
    """Every story of `domains` (by domain id), or those whose id contains `match`.

    `match` is compared folded (case and accents), against `domain/file.yaml::name`.
    """
    wanted = normalize(match) if match else ""
    cases = [
        case
        for domain in sorted(domains, key=lambda domain: domain.id)
        for case in stories_of(domain)
    ]
    return [case for case in cases if wanted in normalize(case.id)]


def compare(expect: Expectation, outcome: Outcome) -> list[str]:
    """Every way `outcome` differs from `expect`, each as one readable line.

    route and handoff must be equal (when given); every expected tool must have
    been called (others may be too); reply texts are matched as folded substrings.
    """
    failures: list[str] = []
    if expect.route is not None and outcome.route != expect.route:
        failures.append(f"route: expected {expect.route!r}, got {outcome.route!r}")
    called = ", ".join(outcome.tool_calls) or "none"
    failures += [
        f"tools: expected {tool!r} to be called; called: {called}"
        for tool in expect.tools
        if tool not in outcome.tool_calls
    ]
    reply = normalize(outcome.reply)
    failures += [
        f"reply: expected to contain {text!r}"
        for text in expect.reply_contains
        if normalize(text) not in reply
    ]
    failures += [
        f"reply: expected not to contain {text!r}"
        for text in expect.reply_not_contains
        if normalize(text) in reply
    ]
    if expect.handoff is not None and outcome.handoff != expect.handoff:
        if expect.handoff:
            failures.append("handoff: expected a handoff to a human, got none")
        else:
            failures.append(f"handoff: expected none, got one ({outcome.handoff_reason})")
    return failures


class StoryRunner:
    """Runs stories on a CrewFactory, each as a new conversation of its domain.

    `now` fixes the clock of every turn (business hours, free slots); None is the
    real time, as in production.
    """

    def __init__(self, factory: CrewFactory, *, now: datetime | None = None) -> None:
        self.factory = factory
        self.now = now
        # Distinct within a run, and almost surely from earlier runs on the same database.
        self._conversation_ids = itertools.count(2**40 + secrets.randbelow(2**50))

    def run(self, case: StoryCase) -> StoryResult:
        """Play the story's steps in order; never raises for what the bot did."""
        started = time.perf_counter()
        domain = self.factory.registry.get(case.domain_id)
        conversation = Session(next(self._conversation_ids))
        handed_off_at: int | None = None
        steps: list[StepResult] = []
        for number, step in enumerate(case.story.steps, 1):
            if handed_off_at is not None:
                steps.append(
                    StepResult(
                        number,
                        step.customer,
                        step.expect,
                        None,
                        (
                            f"not run: the conversation went to a human at step {handed_off_at}, "
                            "and the bot stays silent after a handoff",
                        ),
                    )
                )
                continue
            step_started = time.perf_counter()
            outcome = self.turn(domain, step.customer, conversation, contact=case.story.contact)
            failures = (
                [f"the crew failed: {outcome.error}"]
                if outcome.error is not None
                else compare(step.expect, outcome)
            )
            steps.append(
                StepResult(
                    number,
                    step.customer,
                    step.expect,
                    outcome,
                    tuple(failures),
                    time.perf_counter() - step_started,
                )
            )
            if outcome.handoff:
                handed_off_at = number
        return StoryResult(case, tuple(steps), time.perf_counter() - started)

    def turn(
        self,
        domain: Domain,
        text: str,
        conversation: Session,
        *,
        contact: StoryContact | None = None,
    ) -> Outcome:
        """One customer message, decided as the worker decides it (`decide`), with the
        conversation's history, last route and misses kept as the worker keeps them,
        from the story's contact (phone, e-mail)."""
        contact = contact or StoryContact()
        turns = domain.spec.conversation.history_turns
        turn = Turn(
            message=text,
            history=tuple(conversation.history[-2 * turns :]) if turns else (),
            now=self.now,
            contact_phone=contact.phone,
            contact_email=contact.email,
            account_id=domain.spec.chatwoot.account_id,
            conversation_id=conversation.id,
            previous_route=conversation.route,
        )
        decision = decide(domain, turn, self.factory.hub(domain.id).run, misses=conversation.misses)
        conversation.after(text, decision)
        result = decision.result
        return Outcome(
            decision.draft.text,
            decision.route if decision.crew_ran else HANDOFF_ROUTE,
            routed_by=decision.routed_by or "",
            tool_calls=result.tool_calls if result is not None else (),
            handoff=decision.draft.hands_off,
            handoff_reason=decision.draft.handoff_reason,
            error=decision.error,
            result=result,
        )


def prepare_database(url: str, domains: Iterable[Domain]) -> None:
    """Migrate the database at `url` to the latest revision and load the domains' seed data."""
    engine = create_engine(url)
    try:
        migrate_and_seed(url, engine, domains)
    finally:
        engine.dispose()


@contextmanager
def throwaway_database(domains: Iterable[Domain]) -> Iterator[str]:
    """A migrated, seeded SQLite database in a temporary folder, removed afterwards.

    Stories may book appointments: by default they write here, never into the
    configured database.
    """
    with tempfile.TemporaryDirectory(prefix="chatwootai-stories-") as directory:
        url = f"sqlite:///{Path(directory) / STORY_DATABASE}"
        prepare_database(url, domains)
        yield url
