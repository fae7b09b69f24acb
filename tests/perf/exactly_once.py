"""Exactly once, counted: every webhook of a bench round gets one reply, no more, no less.

The bench sends one message per conversation, so a round is right when each of
its conversations got exactly one accepted customer-facing `POST …/messages` at
the fake Chatwoot, and no private note (a handoff's). `settle` waits until
nothing is left that could still post or store a reply (no queued task, no task
held unacknowledged by a worker, which covers rechecks waiting for their
countdown and retries waiting for their backoff; no request the fake is still
serving), so a late second reply counts too; `check` names every conversation
with 0 or 2+ replies and every post it got.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from tests.fakes.chatwoot import CONVERSATION_PATH, FakeChatwoot

UNACKED_KEYS = ("unacked", "unacked_index")
"""kombu's Redis transport keeps every delivered, not yet acknowledged task here
(`task_acks_late`): a task a worker runs, or holds for a later countdown."""


def in_flight(client: redis.Redis, queues: list[str]) -> int:
    """Tasks still queued on `queues` or held unacknowledged by a worker."""
    pipe = client.pipeline(transaction=False)
    for key in queues:
        pipe.llen(key)
    pipe.hlen(UNACKED_KEYS[0])
    return sum(int(n) for n in pipe.execute())


def settle(client: redis.Redis, queues: list[str], chatwoot: FakeChatwoot, timeout: float) -> bool:
    """Wait until no task is queued or in a worker's hands and the fake has answered
    every request it got (one it is slow to answer may still store a reply); False when
    `timeout` ran out first."""
    deadline = time.monotonic() + timeout
    while in_flight(client, queues) or chatwoot.serving():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def posts_by_conversation(chatwoot: FakeChatwoot) -> dict[int, list[dict[str, Any]]]:
    """Every message post the fake saw, accepted or not, per conversation, oldest first."""
    posts: dict[int, list[dict[str, Any]]] = {}
    for record in chatwoot.requests("/messages"):
        match = CONVERSATION_PATH.match(record["path"])
        if record["method"] != "POST" or match is None:
            continue
        posts.setdefault(int(match["conversation"]), []).append(
            {
                "time": round(record["time"], 3),
                "status": record["status"],
                "answered_after": None
                if record["answered"] is None
                else round(record["answered"] - record["time"], 3),
                "private": bool(record["body"].get("private")),
                "content": str(record["body"].get("content", ""))[:80],
            }
        )
    return posts


def accepted(posts: list[dict[str, Any]], *, private: bool) -> int:
    """How many of `posts` (public replies, or private notes) Chatwoot accepted."""
    return sum(1 for post in posts if 200 <= post["status"] < 300 and post["private"] == private)


def check(chatwoot: FakeChatwoot, conversations: list[int], started: float) -> dict[str, Any]:
    """Replies against messages: `ok` when each conversation got exactly one accepted
    reply and no private note (a handoff's); otherwise `wrong` maps each other one to
    every post it got (seconds since `started`, the status the fake answered, the text)."""
    posts = posts_by_conversation(chatwoot)
    expected = set(conversations)
    wrong: dict[str, list[dict[str, Any]]] = {}
    for conversation in sorted(expected | set(posts)):
        found = posts.get(conversation, [])
        if conversation in expected and (
            accepted(found, private=False) == 1 and accepted(found, private=True) == 0
        ):
            continue
        wrong[str(conversation)] = [
            {**post, "time": round(post["time"] - started, 3)}
            for post in posts.get(conversation, [])
        ]
    waits = [
        post["answered_after"]
        for found in posts.values()
        for post in found
        if post["answered_after"] is not None
    ]
    return {
        "ok": not wrong,
        "slowest_answer_s": max(waits, default=None),
        "messages": len(conversations),
        "accepted_replies": sum(accepted(found, private=False) for found in posts.values()),
        "accepted_notes": sum(accepted(found, private=True) for found in posts.values()),
        "wrong": wrong,
    }


def describe(wrong: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One line per conversation that did not get exactly one reply."""
    lines = []
    for conversation, posts in wrong.items():
        got = accepted(posts, private=False)
        seen = "; ".join(
            f"{p['time']} s → {p['status']}{' private' if p['private'] else ''}"
            f" after {p['answered_after']} s {p['content']!r}"
            for p in posts
        )
        lines.append(f"conversation {conversation}: {got} replies ({seen or 'no post at all'})")
    return lines
