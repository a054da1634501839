"""The crash drill (issue #11): the real `bot.py run`, against the fake Telegram over HTTP
with Telegram's getUpdates offsets, killed with SIGKILL at many moments of a reminder run, of
a check-in and of urgent reports with their alert round to 22 people, and started again on the
same database each time. The people act on what their chat shows, as a person would after a
crash. Counted afterwards, from the database and from the chats: nothing lost, no record
twice, at most one message repeated per crash, no flow left in progress once it finished, and
each alert round complete within 5 s.

The drill runs once per module (about two minutes, most of it the bot starting again 19
times); each target is its own test, so a defect shows as the one target it breaks.
DRILL_LONG=1 crashes five check-ins, at every step, one moment each (75 crashes, 5 minutes).
The figures go to summary.txt, and what each step did and showed to trace.txt, beside the
drill's database (and the bot's log of each run)."""

from __future__ import annotations

import asyncio
import functools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import pytest_asyncio

from sandbox.people import SimPerson
from sandbox.telegram import ApiCall
from tests.drills import (
    CHECK_IN,
    RECIPIENTS,
    REMINDED,
    REPORTER,
    URGENT,
    VISIT,
    VOLUNTEER,
    Stage,
    Step,
    eventually,
    next_press,
    prompt,
    today,
)

LONG = bool(os.environ.get("DRILL_LONG"))
WAIT = 3.0  # seconds a person waits, once the bot is back, for the answer to what they did
THINK = 0.2  # seconds a person takes to read an answer before the next tap
ROUND_LIMIT = 5.0  # seconds from Confirm to the last alert of the round (issue #11)
REMINDER = "🔔 今日提醒"
FINISH_FIRST = "请先完成当前步骤"
UNSENT = "sent_at IS NULL AND failed_at IS NULL"

# The moments of one step (a command or a button press) at which the bot is killed:
MOMENTS = {
    # it fetched the update and asks for the next ones: Telegram has not forgotten it yet
    "fetched": "killed as it polls again, before Telegram confirms the update",
    # that next poll confirms the update (Telegram forgets it) while the handler runs
    "confirmed": "killed as its next poll confirms the update",
    # the handler's first Bot API call for the chat arrives: not done by Telegram
    "answering": "killed at the first Bot API call for the chat, not done",
    # the answer reached the chat, the flow's state may not be written yet
    "answered": "killed right after the answer reached the chat",
    # the answer reached the chat 0.3 s ago: everything written
    "settled": "killed 0.3 s after the answer",
}


# The moment of each step of the check-in (`keys`) at which it crashes: each moment two to four
# times, a step whose crash loses it never followed by a "settled" one.
CHECK_IN_CRASHES = [
    "fetched", "confirmed", "answering", "settled",  # /checkin, date, mode, health
    "answered", "fetched", "confirmed", "answering",  # mood, study, care, parents
    "answered", "settled", "fetched",  # safety: tick, tick, done
    "confirmed", "answering", "answered",  # wishes, problems, Confirm
]  # fmt: skip


def keys(command: str, steps: tuple[Step, ...]) -> list[str]:
    """The steps of a flow, in a plan of crashes: the command, then each press."""
    return [command] + [f"{step.asks} {press}" for step in steps for press in step.press]


@dataclass
class Crash:
    phase: str
    at: str  # what had just happened
    startup: float  # seconds from the new start until the new process polled
    down: float  # seconds from the kill until the new process polled
    answered: bool = True  # what the person had just done was answered after the restart
    repeats: int = 0  # messages shown again from this crash until the next one


@dataclass
class Findings:
    crashes: list[Crash] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)  # what a person did, never answered
    records: list[str] = field(default_factory=list)  # confirmed, not saved as confirmed
    replies: list[str] = field(default_factory=list)  # replies to a save that never came
    undelivered: list[str] = field(default_factory=list)  # outbox messages that never came
    doubled: list[str] = field(default_factory=list)
    ghosts: list[str] = field(default_factory=list)
    # (report, seconds from Confirm to its last alert, the same without the bot's down time)
    rounds: list[tuple[str, float, float]] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)  # what each step did and showed

    def summary(self) -> str:
        lines = [f"{len(self.crashes)} crashes"]
        lines += [f"  {c.phase}: {c.at}; back in {c.startup:.2f} s; "
                  f"{'answered' if c.answered else 'NOT ANSWERED'}; {c.repeats} repeated; "
                  f"down {c.down:.2f} s"
                  for c in self.crashes]  # fmt: skip
        for name in ("unanswered", "records", "replies", "undelivered", "doubled"):
            lines += [f"{name}: {x}" for x in getattr(self, name)]
        lines += [f"ghost: {x}" for x in self.ghosts]
        lines += [f"alert round {name}: {seconds:.2f} s, {up:.2f} s without the down time"
                  for name, seconds, up in self.rounds]  # fmt: skip
        return "\n".join(lines)


class Drill:
    def __init__(self, stage: Stage) -> None:
        self.stage, self.found = stage, Findings()
        # Repeats: a message whose text its chat already showed since the flow (or phase)
        # began at `_since`, shown after a crash and before the next one (or the next flow)
        self._since = self._mark = 0  # indexes into telegram.shown
        self._open = False  # the last crash's repeats are still being counted

    # -- crashes -----------------------------------------------------------------------------

    async def crashed(self, phase: str, at: str, then: Callable[[], object] | None = None) -> Crash:
        """The bot was killed: starts it again (`then` is called as soon as the new process
        runs); what it repeats from now on is this crash's."""
        self.stage.disarm()
        self._count_repeats()  # the previous crash's, until now
        crash = Crash(phase, at, 0.0, 0.0)
        self.found.crashes.append(crash)
        self._open = True  # the new process may send as it starts: count from here
        killed_at = self.stage.bot.killed_at
        crash.startup = await self.stage.bot.restart(then)
        crash.down = time.monotonic() - killed_at
        return crash

    def begin(self) -> None:
        """A new flow or phase: what its chats show from now on is new."""
        self.stage.disarm()
        self._count_repeats()
        self._since = self._mark = len(self.stage.telegram.shown)

    def _count_repeats(self) -> None:
        shown = self.stage.telegram.shown
        if self._open:
            seen: dict[int, set[str]] = {}
            for s in shown[self._since : self._mark]:
                seen.setdefault(s.chat_id, set()).add(prompt(s.text))
            again = 0
            for s in shown[self._mark :]:
                chat = seen.setdefault(s.chat_id, set())
                again += prompt(s.text) in chat
                chat.add(prompt(s.text))
            self.found.crashes[-1].repeats += again
        self._open, self._mark = False, len(shown)

    def killed(self) -> bool:
        return self.stage.bot.killed

    # -- a person going through a flow ---------------------------------------------------------

    def arm(self, moment: str, person: SimPerson) -> None:
        """Kills the bot at `moment` of handling what the person does next."""
        chat = person.user_id

        def this_update(call: ApiCall) -> bool:
            offset = int(call.params.get("offset") or 0)
            return call.method == "getUpdates" and offset > person.last_update["update_id"]

        def for_chat(call: ApiCall) -> bool:
            query = person.last_update.get("callback_query") or {}
            if call.method == "answerCallbackQuery":
                return str(call.params.get("callback_query_id")) == query.get("id")
            return int(call.params.get("chat_id") or 0) == chat

        def answer(call: ApiCall) -> bool:
            return for_chat(call) and call.method != "answerCallbackQuery"

        if moment == "fetched":
            self.stage.kill_at(this_update, done=False, drop=True)
        elif moment == "confirmed":
            self.stage.kill_at(this_update, done=False)
        elif moment == "answering":
            self.stage.kill_at(for_chat, done=False, drop=True)
        elif moment == "answered":
            self.stage.kill_at(answer, done=True)

    async def act(
        self, phase: str, person: SimPerson, what: str, action: Callable[[], Awaitable[object]],
        moment: str | None,
    ) -> bool:  # fmt: skip
        """Does one thing, with a crash at `moment`; False when it was never answered."""
        await asyncio.sleep(THINK)
        mark = len(self.stage.telegram.shown)
        answered = await self._act(phase, person, what, action, moment)
        shown = [s.text for s in self.stage.telegram.shown[mark:] if s.chat_id == person.user_id]
        buttons = [label for m in person.inbox[-1:] for label, _ in m.buttons]
        self.found.trace.append(f"{phase}: {what} @{moment}: {'answered' if answered else 'NOT'}"
                                f" {shown} {buttons}")  # fmt: skip
        return answered

    async def _act(
        self, phase: str, person: SimPerson, what: str, action: Callable[[], Awaitable[object]],
        moment: str | None,
    ) -> bool:  # fmt: skip
        stage, chat = self.stage, person.user_id
        before = stage.screen(chat)
        if moment is not None and moment != "settled":
            self.arm(moment, person)
        await action()
        if moment == "settled":
            if not await stage.changed(chat, before, WAIT):
                return False  # nothing to kill after: no crash here
            await asyncio.sleep(0.3)
            stage.bot.kill()
        elif moment is not None:
            await eventually(self.killed, WAIT)
            stage.disarm()
        else:  # a kill armed elsewhere (the alert round) may come meanwhile
            await eventually(lambda: self.killed() or stage.screen(chat) != before, WAIT)
        if not self.killed():
            if stage.screen(chat) == before:
                self.found.unanswered.append(f"{phase}: {what} (no crash)")
                return False
            return True
        how = MOMENTS[moment] if moment is not None else "killed meanwhile"
        crash = await self.crashed(phase, f"{what}: {how}")
        crash.answered = await stage.changed(chat, before, WAIT)
        if not crash.answered:
            self.found.unanswered.append(f"{phase}: {what} ({crash.at})")
        return crash.answered

    async def flow(
        self, phase: str, person: SimPerson, command: str, steps: tuple[Step, ...], prefix: str,
        plan: dict[str, str], last: Callable[[], object] | None = None,
    ) -> None:  # fmt: skip
        """Starts the flow with `command`, then answers what the chat asks until Confirm is
        answered. `plan`: the moment to crash at, by step (see `keys`), the first time
        the step is done. `last` is called as Confirm is pressed. As a person would: a press
        nobody answers is pressed again; a button the bot calls expired, or a second press
        nobody answers, and they start over."""
        plan = dict(plan)
        done = floor = 0

        def asked() -> bool:
            return next_press(person, steps, prefix, floor) is not None

        async def start() -> None:
            nonlocal floor
            for _attempt in range(3):
                floor = max((m.message_id for m in person.inbox), default=0)
                send = functools.partial(person.send, command)
                if not await self.act(phase, person, command, send, plan.pop(command, None)):
                    continue
                if FINISH_FIRST in person.last.text:
                    self.found.ghosts.append(f"{phase}: {command} mid-flow: {person.last.text!r}")
                    cancel = functools.partial(person.send, "/cancel")
                    await self.act(phase, person, "/cancel", cancel, None)
                elif await eventually(asked, WAIT):  # a note may come before the question
                    return
            raise AssertionError(f"{phase}: {command} is never answered")

        await start()
        unanswered = 0
        while (shown := next_press(person, steps, prefix, floor)) is not None:
            label, message, key = shown
            if label.startswith("✅ 确认") and last is not None:
                last()
            pressed = functools.partial(person.press, label, message)
            answered = await self.act(phase, person, label, pressed, plan.pop(key, None))
            if answered and label.startswith("✅ 确认"):
                return  # saved: questions left in the chat by a lost flow are not answered
            done += 1
            unanswered = 0 if answered else unanswered + 1
            if unanswered == 2 or (not answered and self.popup(person) is not None):
                await start()  # the person starts over
                unanswered = 0
            assert done < 80, f"{phase}: the flow does not end"

    def popup(self, person: SimPerson) -> str | None:
        """The note the bot showed for the person's last button press, if any."""
        query = (person.last_update.get("callback_query") or {}).get("id")
        for call in self.stage.telegram.calls:
            if (
                call.method == "answerCallbackQuery"
                and call.params.get("text")
                and str(call.params.get("callback_query_id")) == query
            ):
                return str(call.params["text"])
        return None

    async def ghost_check(self, phase: str, person: SimPerson) -> None:
        """After a flow ends, another command must be answered as such, not with "finish the
        current step first" (a flow left in progress). `/child` is one that waits for a flow
        (/help, /language and /mychildren are answered from inside any flow)."""
        before = self.stage.screen(person.user_id)
        await person.send("/child")
        if not await self.stage.changed(person.user_id, before, WAIT):
            self.found.unanswered.append(f"{phase}: /child after the flow")
        elif FINISH_FIRST in person.last.text:
            self.found.ghosts.append(f"{phase}: {person.last.text!r}")

    # -- the three phases --------------------------------------------------------------------

    def kill_at_nth(self, prefix: str, n: int, *, done: bool, chats: set[int]) -> None:
        """Kills the bot at the n-th message starting with `prefix` sent to `chats`."""
        count = 0

        def nth(call: ApiCall) -> bool:
            nonlocal count
            text = str(call.params.get("text", ""))
            chat = int(call.params.get("chat_id") or 0)
            if call.method == "sendMessage" and chat in chats and text.startswith(prefix):
                count += 1
            return count >= n

        self.stage.kill_at(nth, done=done, drop=not done)

    async def reminders(self) -> None:
        """The first process plans today's reminders (its job runs 10 s after the start) and
        sends them: killed after the 6th went, then as the 5th of the next process arrives."""
        phase, stage, chats = "reminders", self.stage, set(REMINDED)
        self.begin()
        self.kill_at_nth(REMINDER, 6, done=True, chats=chats)
        if not await eventually(self.killed, 20.0):
            stage.disarm()
            self.found.undelivered.append(f"{phase}: fewer than 6 reminders were sent")
            return
        await self.crashed(
            phase, "the 6th reminder went",
            then=lambda: self.kill_at_nth(REMINDER, 5, done=False, chats=chats),
        )  # fmt: skip
        if await eventually(self.killed, 10.0):
            await self.crashed(phase, "the 5th reminder after the restart arriving")
        else:
            stage.disarm()
            self.found.undelivered.append(f"{phase}: the restarted bot sent fewer than 5")
        await self.settled(phase)
        missing = [chat for chat in chats if not stage.copies_with(chat, REMINDER)]
        if missing:
            self.found.undelivered.append(f"{phase}: no reminder reached {len(missing)} people")

    async def settled(self, phase: str, within: float = 15.0) -> None:
        """Waits until the outbox has nothing left to send."""
        if not await eventually(lambda: not self.stage.outbox(UNSENT), within, 0.2):
            left = [d.key for d in self.stage.outbox(UNSENT)]
            self.found.undelivered.append(f"{phase}: still unsent after {within:.0f} s: {left}")

    async def check_in(self) -> None:
        """One check-in with a crash at each of its 14 steps (DRILL_LONG: five check-ins,
        each with a crash at every step, one moment each)."""
        volunteer = self.stage.person(VOLUNTEER, "王芳")
        steps = keys("/checkin", CHECK_IN)
        if LONG:
            for moment in MOMENTS:
                await self.one_check_in(volunteer, dict.fromkeys(steps, moment))
        else:
            assert len(steps) == len(CHECK_IN_CRASHES)
            await self.one_check_in(volunteer, dict(zip(steps, CHECK_IN_CRASHES, strict=True)))

    async def one_check_in(self, volunteer: SimPerson, plan: dict[str, str]) -> None:
        phase, stage = "check-in", self.stage
        self.begin()
        before = stage.rows("SELECT count(*) FROM visit")[0][0]
        await self.flow(phase, volunteer, "/checkin", CHECK_IN, "ci:", plan)
        saved = stage.rows(
            "SELECT mode, health, mood, study, care, parents, safety, wishes, problems FROM visit"
            " WHERE id > (SELECT coalesce(max(id), 0) FROM visit) - ?",
            1,
        )
        visits = stage.rows("SELECT count(*) FROM visit")[0][0] - before
        if visits == 0:
            self.found.records.append(f"{phase}: the confirmed visit was not saved")
        elif visits > 1:
            self.found.doubled.append(f"{phase}: one check-in saved {visits} visits")
        elif saved and saved[0] != VISIT:
            self.found.records.append(f"{phase}: saved {saved[0]}, answered {VISIT}")
        receipt = "走访已记录。林小雨 下次走访请不晚于"
        if not await eventually(lambda: stage.copies_with(VOLUNTEER, receipt) > 0, WAIT):
            self.found.replies.append(f"{phase}: the reply to the save never came")
        await self.ghost_check(phase, volunteer)

    async def alert_rounds(self) -> None:
        """Four urgent reports: killed as Confirm is answered (the report saved, its reply
        not yet planned), after the 8th alert of the round went, as the 15th arrives, and
        not at all (the round's time without a crash)."""
        recipients = set(RECIPIENTS)
        await self.one_report("Confirm answered", {"🚨 请核对紧急报告 ✅ 确认保存": "answering"})
        await self.one_report("8th alert went", kill=lambda: self.kill_at_nth(
            "🚨 紧急报告", 8, done=True, chats=recipients))  # fmt: skip
        await self.one_report("15th alert arriving", kill=lambda: self.kill_at_nth(
            "🚨 紧急报告", 15, done=False, chats=recipients))  # fmt: skip
        await self.one_report("no crash")

    async def one_report(
        self, name: str, plan: dict[str, str] | None = None,
        kill: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        """An urgent report through to its last alert; `kill` is armed as Confirm is pressed."""
        phase, stage, recipients = "alerts", self.stage, set(RECIPIENTS)
        self.begin()
        reporter = stage.person(REPORTER, "李娟")
        cases = stage.rows("SELECT count(*) FROM hazard_case")[0][0]
        crashes = len(self.found.crashes)
        pressed: list[float] = []

        def at_confirm() -> None:
            pressed.append(time.monotonic())
            if kill is not None:
                kill()

        await self.flow(phase, reporter, "/urgent", URGENT, "ur:", plan or {}, at_confirm)
        if kill is not None:
            await eventually(self.killed, WAIT)
            stage.disarm()  # not fired (the round went too fast?): not later either
        if self.killed():
            await self.crashed(phase, f"report: {name}")
        made = stage.rows("SELECT id FROM hazard_case ORDER BY id")[cases:]
        if not made:
            self.found.records.append(f"{phase}: the report ({name}) was not saved")
            return
        if len(made) > 1:
            self.found.doubled.append(f"{phase}: one report ({name}) saved {len(made)} cases")
        number = f"#{today().year}-{made[0][0]:04d}"
        alert = f"🚨 紧急报告 {number}"
        if not await eventually(
            lambda: all(stage.first_shown_at(chat, alert) for chat in recipients), 15.0
        ):
            missing = [c for c in recipients if not stage.first_shown_at(c, alert)]
            self.found.undelivered.append(f"{phase}: the alert {number} never reached {missing}")
        else:
            took = max(stage.first_shown_at(c, alert) or 0.0 for c in recipients) - pressed[0]
            down = sum(c.down for c in self.found.crashes[crashes:])
            self.found.rounds.append((f"{number} ({name})", took, took - down))
        reply = f"🚨 紧急报告已送达，编号 {number}"
        if not await eventually(lambda: stage.copies_with(REPORTER, reply) > 0, WAIT):
            self.found.replies.append(f"{phase}: the reply to {number} ({name}) never came")
        await self.ghost_check(phase, reporter)

    def final_counts(self) -> None:
        """Every message of the outbox delivered."""
        self.begin()
        for delivery in self.stage.outbox():
            if delivery.copies == 0:
                self.found.undelivered.append(f"outbox {delivery.key} never reached its chat")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def drill(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Findings]:
    async with Stage(tmp_path_factory.mktemp("crash")) as stage:
        run = Drill(stage)
        for phase in (run.reminders, run.check_in, run.alert_rounds):
            started = time.monotonic()
            await phase()
            print(f"{phase.__name__}: {time.monotonic() - started:.1f} s")
        run.final_counts()
        print(run.found.summary())
        (stage.folder / "summary.txt").write_text(run.found.summary())
        (stage.folder / "trace.txt").write_text("\n".join(run.found.trace))
        yield run.found


def test_the_drill_crashed_the_bot_at_every_planned_moment(drill: Findings) -> None:
    assert len(drill.crashes) >= 2 + 10 + 3, drill.summary()
    assert {c.at.split(": ", 1)[-1] for c in drill.crashes} >= set(MOMENTS.values())


def test_every_step_is_answered_after_a_crash(drill: Findings) -> None:
    """What a person did just before the crash is answered once the bot is back."""
    assert drill.unanswered == [], drill.summary()


def test_every_confirmed_record_is_saved_as_confirmed(drill: Findings) -> None:
    assert drill.records == [], drill.summary()


def test_every_reply_to_a_save_arrives(drill: Findings) -> None:
    assert drill.replies == [], drill.summary()


def test_every_outbox_message_arrives(drill: Findings) -> None:
    """Reminders, alerts, replies: each reaches its chat (at least once)."""
    assert drill.undelivered == [], drill.summary()


def test_no_record_is_saved_twice(drill: Findings) -> None:
    assert drill.doubled == [], drill.summary()


@pytest.mark.xfail(
    strict=True,
    reason="defect: the sender sends up to 30 outbox messages side by side and marks each "
    "sent only after its own answer, so a crash mid-round repeats every message Telegram "
    "took that the dead process had not marked yet (4 runs on main: 3 to 4 of 24 reminders "
    "when killed at the 6th, then 18 to 24 when the next process is killed at its 5th; 8 of "
    "22 alerts killed at the 8th, 13 to 14 killed at the 15th). README: 'a crash in between "
    "can repeat a message'; the issue allows one per crash",
)
def test_at_most_one_message_repeated_per_crash(drill: Findings) -> None:
    assert [c for c in drill.crashes if c.repeats > 1] == [], drill.summary()


def test_no_flow_is_left_in_progress(drill: Findings) -> None:
    assert drill.ghosts == [], drill.summary()


def test_every_alert_round_completes_within_5_s(drill: Findings) -> None:
    """From the first press of Confirm to the last of the 22 alerts, not counting the time
    the bot was dead and starting again (the machine's: 1.3 s idle, up to 7 s busy)."""
    assert len(drill.rounds) == 4, drill.summary()
    assert max(up for _name, _seconds, up in drill.rounds) < ROUND_LIMIT, drill.summary()
