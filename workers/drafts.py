"""Flows left half done: one reminder after a day for a check-in, and every flow's answers
dropped after a week, with a note. Runs as a repeating job (workers.jobs) over the persisted
drafts; the notes go through the outbox like every other message that must not be lost."""

from __future__ import annotations

from datetime import datetime, timedelta

from locales import _ as mark
from service.services import Services
from storage import outbox, people
from storage.outbox import Message
from toolkit.context import BotApplication
from toolkit.flows import flow_names

REMIND_AFTER = timedelta(hours=24)
DROP_AFTER = timedelta(days=7)
SWEEP_EVERY = timedelta(minutes=15)


async def sweep(application: BotApplication) -> None:
    services: Services = application.bot_data["services"]
    now = services.now()
    touched: set[int] = set()
    notes: list[tuple[int, str, str]] = []  # (user, catalog key, key of the message)
    flows = flow_names(application)
    for user_id, data in list(application.user_data.items()):
        for flow in flows:
            draft = data.get(flow)
            if not isinstance(draft, dict) or "touched" not in draft:
                continue
            age = now - datetime.fromisoformat(draft["touched"])
            if age >= DROP_AFTER:
                data.pop(flow)
                touched.add(user_id)
                notes.append((user_id, mark("drafts.dropped"), f"{flow}:{draft['touched']}:drop"))
            elif flow == "checkin" and age >= REMIND_AFTER and not draft.get("reminded"):
                draft["reminded"] = True
                touched.add(user_id)
                notes.append((user_id, mark("drafts.reminder"), f"{flow}:{draft['touched']}"))
    if notes:
        await _plan(services, notes)
    if touched:
        application.mark_data_for_update_persistence(user_ids=touched)
        await application.update_persistence()
        assert application.persistence is not None
        await application.persistence.flush()


async def _plan(services: Services, notes: list[tuple[int, str, str]]) -> None:
    """Each note in the person's language, planned once (the key holds the draft's time)."""
    now = services.now()
    async with services.sessions.begin() as session:
        messages = []
        for user_id, key, unique in notes:
            viewer = await people.viewer(session, user_id)
            t = services.translator(viewer.locale if viewer else None)
            person = viewer.person_id if viewer else None
            messages.append(Message(f"draft:{user_id}:{unique}", user_id, t(key), person_id=person))
        await outbox.plan(session, messages, now=now)
    services.outbox_planned()
