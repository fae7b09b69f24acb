"""Telling people that a conversation went unanswered: a message was dead-lettered.

Chatwoot keeps such a conversation pending, waiting for a bot that gave up, so
two signals go out: an ERROR line for the operator (`conversation left
unanswered`, with the ids, the reason and the dead letter's id), and a private
note in the conversation for its agents when Chatwoot accepts one (one attempt:
during an outage it does not, and the log line is what remains).
"""

from __future__ import annotations

import structlog

from hub.conversation.inbound import InboundMessage
from hub.exceptions import ChatwootAPIError
from workers.runtime import WorkerRuntime

log = structlog.get_logger(__name__)

UNANSWERED_NOTE = (
    "ChatwootAI não conseguiu responder a esta mensagem do cliente ({reason}). "
    "Responda manualmente, ou peça ao operador para reenviá-la: "
    "chatwootai deadletter replay {letter}"
)
"""The private note left in a conversation whose message was dead-lettered."""


def report_unanswered(
    runtime: WorkerRuntime, message: InboundMessage, *, reason: str, letter: str
) -> None:
    """Log that the conversation went unanswered, and leave a private note if Chatwoot
    takes it now."""
    log.error(
        "conversation left unanswered",
        domain=message.domain,
        account_id=message.account_id,
        conversation_id=message.conversation_id,
        message_id=message.message_id,
        reason=reason,
        dead_letter=letter,
    )
    if runtime.chatwoot.unavailable_for() > 0:
        return
    try:
        token = runtime.registry.chatwoot_token(message.account_id, runtime.settings)
        runtime.chatwoot.send_message(
            message.account_id,
            message.conversation_id,
            UNANSWERED_NOTE.format(reason=reason, letter=letter),
            token=token,
            private=True,
            attempts=1,
        )
    except ChatwootAPIError as error:
        log.warning("could not leave the unanswered note", error=str(error))
