"""The Crew our factory builds: CrewAI's, with its task outputs kept in memory.

CrewAI records every kickoff's task outputs (with the inputs and the model
messages) in one SQLite file, `latest_kickoff_task_outputs.db`, for
`crew.replay()`. In a multi-tenant service that file is wrong three ways:
- every concurrent crew of every domain deletes and rewrites the same rows, so
  what it holds is whichever turn wrote last, useless for a replay;
- customer messages, history and knowledge passages land on disk under the data
  dir, with no retention, outside the conversation store that has one;
- each kickoff pays a JSON encoding of the messages and three file transactions
  under a process-wide lock that every worker thread queues on.
A crew here is built for one message and dropped after it (`CrewFactory.build`),
never replayed, so its outputs live and die with it.
"""

from __future__ import annotations

from typing import Any

from crewai import Crew, Task
from crewai.utilities.task_output_storage_handler import TaskOutputStorageHandler
from pydantic import PrivateAttr

from hub.patches.crewai import TASK_OUTPUTS


class MemoryTaskOutputs(TaskOutputStorageHandler):
    """CrewAI's task-output log for one crew, as a list: same records, no file."""

    def __init__(self) -> None:  # the parent opens the SQLite file: not called on purpose
        self._records: list[dict[str, Any]] = []

    def update(self, task_index: int, log: dict[str, Any]) -> None:
        """Keep a task's output; a replayed task replaces the record at its index."""
        task: Task = log["task"]
        record = {
            "task_id": str(task.id),
            "task_key": task.key,
            "expected_output": task.expected_output,
            "output": log["output"],
            "task_index": task_index,
            "inputs": log["inputs"],
            "was_replayed": log.get("was_replayed", False),
        }
        if record["was_replayed"]:
            self._records = [r for r in self._records if r["task_index"] != task_index]
        self._records.append(record)
        self._records.sort(key=lambda r: r["task_index"])

    def add(
        self,
        task: Task,
        output: dict[str, Any],
        task_index: int,
        inputs: dict[str, Any] | None = None,
        was_replayed: bool = False,
    ) -> None:
        """Keep a task's output (CrewAI's direct entry point)."""
        self.update(
            task_index,
            {"task": task, "output": output, "inputs": inputs or {}, "was_replayed": was_replayed},
        )

    def reset(self) -> None:
        """Forget every output (a new kickoff starts)."""
        self._records = []

    def load(self) -> list[dict[str, Any]] | None:
        """The outputs so far, by task index (empty before the first task ends)."""
        return list(self._records)


def task_outputs() -> TaskOutputStorageHandler:
    """A new crew's task-output log: in memory while `hub.patches.crewai.TASK_OUTPUTS`
    is installed (it replaces a private attribute of CrewAI's), CrewAI's file otherwise."""
    return MemoryTaskOutputs() if TASK_OUTPUTS.installed else TaskOutputStorageHandler()


class ServiceCrew(Crew):
    """A Crew whose task outputs stay in memory (see the module docstring)."""

    _task_output_handler: TaskOutputStorageHandler = PrivateAttr(default_factory=task_outputs)
