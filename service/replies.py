"""The reply to something a person saved: a message that must not be lost, so it goes through
the outbox like an alert. The chat layer renders it (in the person's language) right after
the record is committed; planning it is idempotent by its key (a second press of Confirm, or
the same update handled again, plans nothing new)."""

from __future__ import annotations

from collections.abc import Sequence

from service.services import Services
from storage import outbox
from storage.outbox import Message


async def plan_reply(
    services: Services,
    *,
    key: str,
    chat_id: int,
    text: str,
    buttons: Sequence[Sequence[tuple[str, str]]] = (),
    person_id: int | None = None,
) -> None:
    """Plans the reply, then has it delivered at once (or retried by the sender later)."""
    message = Message(
        f"reply:{key}", chat_id, text, tuple(tuple(row) for row in buttons), person_id
    )
    async with services.engine.begin() as connection:
        claimed = await outbox.plan_to_send(connection, message, now=services.now())
    await services.deliver_now(message.key, chat_id, claimed)
